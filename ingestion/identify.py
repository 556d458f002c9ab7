"""What a delivered file is, from its content (names are never trusted for meaning)."""

from __future__ import annotations

from pathlib import Path

from ingestion.container import sniff
from ingestion.csvformat import sniff_csv
from ingestion.csvload import kind_of_header
from ingestion.errors import RejectedFile

WORKBOOK = "province_workbook"
TREASURY = "treasury_extract"
PLAN = "plan_assignment"
UNKNOWN = "unknown"


def identify(path: Path) -> str:
    """The kind of file; raises RejectedFile when it is none of the three (empty, binary, bad header)."""
    container = sniff(path)
    if container in ("xlsx", "ole"):
        return WORKBOOK
    if container == "empty":
        raise RejectedFile("empty_file", "the file is empty (0 bytes)")
    if container == "unknown" or path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise RejectedFile("not_a_workbook", "neither an .xlsx workbook nor a CSV text file")
    fmt = sniff_csv(path)
    kind = kind_of_header(fmt.header)
    if kind is None:
        raise RejectedFile(
            "bad_csv_header",
            "the header names neither a Treasury extract nor a plan "
            f"assignment: {', '.join(fmt.header)[:200]}",
            row=1,
        )
    return kind
