"""What a delivered file is, from its content (names are never trusted for meaning)."""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.container import sniff
from ingestion.csvformat import sniff_csv
from ingestion.csvload import first_line_facts, kind_of_header
from ingestion.errors import RejectedFile
from ingestion.responses import KIND as RESPONSE
from ingestion.responses import is_response_workbook

WORKBOOK = "province_workbook"
TREASURY = "treasury_extract"
PLAN = "plan_assignment"
UNKNOWN = "unknown"


_UNSAFE = re.compile(r"(\.\.|[\\/:]|%2f|%5c|[\x00-\x1f])", re.IGNORECASE)


def is_unsafe_name(name: str) -> bool:
    """A path-like name (`..`, separators, encoded separators, control characters, leading `-` or `.`)."""
    return bool(_UNSAFE.search(name)) or name.startswith(("-", "."))


def identify(path: Path, *, name: str | None = None) -> str:
    """The kind of file; raises RejectedFile when it is none of the four (a province's returned findings
    workbook included; empty, binary, bad header).

    `name` is the delivered name when `path` is a copy of it (its archive copy)."""
    name = name or path.name
    if is_unsafe_name(name):
        raise RejectedFile("unsafe_file_name", f"the file name {name!r} looks like a path; rename it")
    container = sniff(path)
    if container == "xlsx" and is_response_workbook(path):
        return RESPONSE
    if container in ("xlsx", "ole"):
        return WORKBOOK
    if container == "empty":
        raise RejectedFile("empty_file", "the file is empty (0 bytes)")
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raise RejectedFile("not_a_workbook", "named as a workbook but not an .xlsx file")
    if container == "unknown":
        code = "not_a_csv" if suffix in (".csv", ".txt") else "not_a_workbook"
        raise RejectedFile(code, "binary content: neither an .xlsx workbook nor a CSV text file")
    fmt = sniff_csv(path)
    kind = kind_of_header(fmt.header)
    if kind is None:
        period, province = first_line_facts(fmt)
        raise RejectedFile(
            "bad_csv_header",
            f"the header names neither a Treasury extract nor a plan assignment: {', '.join(fmt.header)[:200]}",
            row=1,
            period=period,
            province_code=province,
        )
    return kind
