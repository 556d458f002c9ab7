"""Encoding, delimiter, header and trailing total lines of a delivered CSV, read from its ends only."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.errors import RejectedFile
from ingestion.text import fold

#: The largest CSV accepted: a national Treasury extract is about 300,000 lines (~45 MB); ten of them.
MAX_CSV_BYTES = 512 * 1024 * 1024
HEAD_BYTES = 1 << 16
TAIL_BYTES = 1 << 16
BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";")  # the contract's separators; anything else is a bad header, never a guess
OTHER_SEPARATORS = {"\t": "tab", "|": "pipe"}


@dataclass
class CsvFormat:
    encoding: str  # PostgreSQL name: UTF8 | WIN1258
    delimiter: str
    header: list[str]  # folded, snake_case column names as delivered
    start: int  # byte offset of the header line (after a BOM)
    end: int  # byte offset where the data lines end (before trailing total lines)
    trailer: list[tuple[int, list[str]]] = field(default_factory=list)  # (line number, fields)
    trailing_blank: int = 0
    first_row: list[str] = field(default_factory=list)  # the first data line's fields, when in the head


def _decode(raw: bytes, encoding: str) -> str:
    if encoding == "UTF8":
        return codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    return raw.decode("cp1258", errors="replace")


def _encoding(head: bytes) -> str:
    try:
        _decode(head, "UTF8")
        return "UTF8"
    except UnicodeDecodeError:
        return "WIN1258"


def column_name(text: str) -> str:
    return fold(text.strip().strip('"')).replace(" ", "_")


def sniff_csv(path: Path) -> CsvFormat:
    size = path.stat().st_size
    if size == 0:
        raise RejectedFile("empty_file", "the file is empty (0 bytes)")
    if size > MAX_CSV_BYTES:
        raise RejectedFile(
            "too_large",
            f"the CSV file is {size:,} bytes, above the {MAX_CSV_BYTES:,} limit (a national extract is ~45 MB); "
            "split it by province or month",
        )
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        f.seek(max(0, size - TAIL_BYTES))
        tail_start = f.tell()
        tail = f.read()
    start = len(BOM) if head.startswith(BOM) else 0
    encoding = _encoding(head[start:])
    nl = head.find(b"\n", start)
    if nl < 0 and size > HEAD_BYTES:
        raise RejectedFile("bad_csv_header", "no line break in the first 64 KiB: not a line-oriented CSV", row=1)
    header_line = _decode(head[start : nl if nl >= 0 else len(head)], encoding).rstrip("\r")
    if not header_line.strip():
        raise RejectedFile(
            "empty_file" if size - start <= 2 else "bad_csv_header",
            "the first line is empty: no header row",
            row=1,
        )
    counts = {d: header_line.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        other = next((name for d, name in OTHER_SEPARATORS.items() if d in header_line), None)
        found = f"{other}-separated" if other else "no separator"
        raise RejectedFile(
            "bad_csv_header",
            f"the header line '{header_line[:80]}' has no recognised separator ({found}; expected ',' or ';')",
            row=1,
        )
    header = [column_name(h) for h in next(csv.reader([header_line], delimiter=delimiter))]
    fmt = CsvFormat(encoding, delimiter, header, start, size)
    if nl >= 0:
        nl2 = head.find(b"\n", nl + 1)
        if nl2 > 0:
            line = _decode(head[nl + 1 : nl2], encoding).rstrip("\r")
            fmt.first_row = next(csv.reader([line], delimiter=delimiter), [])
    _trailer(fmt, tail, tail_start, nl)
    return fmt


def _trailer(fmt: CsvFormat, tail: bytes, tail_start: int, header_nl: int) -> None:
    """Strip trailing blank lines and `Tổng cộng` lines from the end of the data (kept to be checked)."""
    end = len(tail)
    found: list[tuple[int, bytes]] = []
    while end > 0:
        cut = tail.rfind(b"\n", 0, end - 1 if tail[end - 1 : end] == b"\n" else end)
        line = tail[cut + 1 : end]
        if tail_start + cut + 1 <= header_nl or (cut < 0 and tail_start > 0):
            break
        text = (
            _decode(line, fmt.encoding).strip()
            if fmt.encoding == "WIN1258"
            else line.decode("utf-8", errors="replace").strip()
        )
        if not text.strip(fmt.delimiter + " \r\"'"):
            fmt.trailing_blank += 1
        elif "tong cong" in fold(text) or "tong so" in fold(text):
            found.append((tail_start + cut + 1, line))
        else:
            break
        end = cut + 1
    fmt.end = tail_start + end
    if found:
        first_line = None  # line numbers are filled in by the loader, which counts lines
        for offset, line in reversed(found):
            text = _decode(line, fmt.encoding) if fmt.encoding == "WIN1258" else line.decode("utf-8", "replace")
            fields = next(csv.reader(io.StringIO(text.strip("\r\n")), delimiter=fmt.delimiter), [])
            fmt.trailer.append((offset if first_line is None else first_line, fields))
