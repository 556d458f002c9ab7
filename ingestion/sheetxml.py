"""Facts the cell reader does not expose, read from the worksheet XML with a streaming XML parser: the
sheet's extent (its `<dimension ref>` and the furthest cell actually present), formulas without a cached
value, and hidden rows. Element names are matched on their local name, so a namespace prefix
(`<x:row>`) reads the same as the default namespace."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import cast
from xml.etree import ElementTree as ET

from ingestion.errors import RejectedFile

#: The densest sheet the parser may be handed: the cell reader allocates rows × columns cells however few
#: are filled. A monthly report is about a hundred rows by thirty columns.
MAX_ROWS = 100_000
MAX_COLUMNS = 1_000
MAX_CELLS = 5_000_000
_SMALL = 1 << 20  # workbook.xml and its relationships: a few kilobytes
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attr(el: ET.Element, name: str) -> str | None:
    """An attribute by local name (`r:id` arrives as `{namespace}id`)."""
    for key, value in el.attrib.items():
        if _local(key) == name:
            return value
    return None


@dataclass
class SheetFacts:
    formulas_without_value: set[tuple[int, str]] = field(default_factory=set)  # (row, column letter)
    hidden_rows: set[int] = field(default_factory=set)
    max_row: int = 0
    max_column: int = 0


class SheetScan:
    """Feed a worksheet's XML in chunks; refuses (RejectedFile `too_large`) as soon as the sheet's declared
    or actual extent passes the bounds, before anything allocates a grid for it."""

    def __init__(self, sheet: str | None) -> None:
        self.sheet = sheet
        self.facts = SheetFacts()
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._row = 0
        self._col = 0

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except ET.ParseError as err:
            raise RejectedFile("corrupt_workbook", f"the sheet XML is malformed: {err}", sheet=self.sheet) from err
        self._drain()

    def close(self) -> SheetFacts:
        try:
            self._parser.close()
        except ET.ParseError as err:
            raise RejectedFile("corrupt_workbook", f"the sheet XML is malformed: {err}", sheet=self.sheet) from err
        self._drain()
        return self.facts

    def _extent(self, row: int, col: int, what: str) -> None:
        f = self.facts
        f.max_row, f.max_column = max(f.max_row, row), max(f.max_column, col)
        if f.max_row > MAX_ROWS or f.max_column > MAX_COLUMNS or f.max_row * f.max_column > MAX_CELLS:
            raise RejectedFile(
                "too_large",
                f"{what} reaches {column_letters(col) or 'A'}{row}: the sheet spans {f.max_row:,} rows × "
                f"{f.max_column:,} columns, above the limit ({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns, "
                f"{MAX_CELLS:,} cells); refused before reading it",
                sheet=self.sheet,
                row=row,
                column=column_letters(col) or None,
            )

    def _drain(self) -> None:
        events = cast("list[tuple[str, ET.Element]]", list(self._parser.read_events()))  # start/end: elements
        for event, el in events:
            tag = _local(el.tag)
            if event == "start":
                if tag == "row":
                    r = el.get("r")
                    self._row = int(r) if r and r.isdigit() else self._row + 1
                    self._col = 0
                    if el.get("hidden") in ("1", "true"):
                        self.facts.hidden_rows.add(self._row)
                    self._extent(self._row, 0, "a row")
                elif tag == "c":
                    m = _REF.match(el.get("r") or "")
                    if m:
                        self._col = column_number(m.group(1))
                        self._row = max(self._row, int(m.group(2)))
                    else:
                        self._col += 1
                    self._extent(int(m.group(2)) if m else self._row, self._col, "a cell")
                elif tag == "dimension":
                    m = _REF.match((el.get("ref") or "").rpartition(":")[2])
                    if m:
                        self._extent(int(m.group(2)), column_number(m.group(1)), "its declared dimension")
            elif tag == "c":
                children = {_local(ch.tag): ch for ch in el}
                has_value = (children.get("v") is not None and (children["v"].text or "").strip()) or "is" in children
                if "f" in children and not has_value:
                    m = _REF.match(el.get("r") or "")
                    row, col = (int(m.group(2)), m.group(1).upper()) if m else (self._row, column_letters(self._col))
                    self.facts.formulas_without_value.add((row, col))
                el.clear()
            elif tag == "row":
                el.clear()


def worksheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member (`xl/worksheets/sheet1.xml`) → sheet name, from workbook.xml and its relationships
    (read only when small: zipfile never expands a member beyond its declared size)."""
    infos = {i.filename: i for i in zf.infolist()}
    book, rels = infos.get("xl/workbook.xml"), infos.get("xl/_rels/workbook.xml.rels")
    if book is None or rels is None or book.file_size > _SMALL or rels.file_size > _SMALL:
        return {}
    try:
        targets: dict[str, str] = {}
        for el in ET.fromstring(zf.read(rels)).iter():
            if _local(el.tag) == "Relationship" and el.get("Id") and el.get("Target"):
                t = el.get("Target", "")
                member = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
                targets[el.get("Id", "")] = member
        out: dict[str, str] = {}
        for el in ET.fromstring(zf.read(book)).iter():
            if _local(el.tag) == "sheet":
                name, rid = el.get("name"), _attr(el, "id")
                if name is not None and rid in targets:
                    out[targets[rid]] = name
        return out
    except ET.ParseError as err:
        raise RejectedFile("corrupt_workbook", f"the workbook's sheet list is malformed: {err}") from err
