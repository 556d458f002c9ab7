"""Facts the cell reader does not expose, read from the worksheet XML: the sheet's extent (its `<dimension
ref>` and the furthest cell actually present), formulas without a cached value, and hidden rows. Element
names are matched on their local name, so a namespace prefix (`<x:row>`) reads the same as the default
namespace.

Two readers, one result. The streaming reader (`_Stream`, expat's callbacks) follows every element in
document order and refuses a sheet the moment its extent passes the bounds, whatever its size. A sheet of
a few megabytes or less is first read quickly: expat without callbacks checks that it is well-formed, then
a handful of regular expressions take the cell references, rows and dimension from its bytes in C, with
Python only per row (a callback per element cost 4–8 ms of a workbook's CPU). That reading is exact only
for a plain sheet: UTF-8, no comment, CDATA, processing instruction or DTD (so that every `<` opens a tag),
no formula, every cell and row with its reference, no cell holding a cell, row or dimension. Anything else
— a sheet outside that shape, past the bounds, malformed, or a member whose inflation fails half-way — is
read again from its bytes by the streaming reader, so the facts and every refusal (its reason, sheet, row,
column, message) are the streaming reader's."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET
from xml.parsers import expat

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


class _Stream:
    """Feed a worksheet's XML in chunks; refuses (RejectedFile `too_large`) as soon as the sheet's declared
    or actual extent passes the bounds, before anything allocates a grid for it.

    Read with expat's callbacks (the parser ElementTree is built on) rather than through ElementTree: no
    element objects and no event tuples are made for the ≈ 2,000 cells of a sheet, only the handlers below
    run. A cell's formula and value are its direct children (`<c><f/><v/></c>`), as ElementTree saw them."""

    def __init__(self, sheet: str | None) -> None:
        self.sheet = sheet
        self.facts = SheetFacts()
        self._parser = expat.ParserCreate(namespace_separator="}")
        self._parser.buffer_text = True
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._row = 0
        self._col = 0
        self._depth = -1  # elements open below the current <c> (0: the cell itself; -1: no cell open)
        self._cell: tuple[int, int, str] | None = None  # the current cell's (row, column, letters), if given
        self._formula = self._inline = False
        self._value: str | None = None  # the text of the cell's <v>, when it has one
        self._text: list[str] | None = None  # collects that text while <v> is open

    def feed(self, data: bytes) -> None:
        self._parse(data, final=False)

    def close(self) -> SheetFacts:
        self._parse(b"", final=True)
        return self.facts

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as err:
            raise RejectedFile("corrupt_workbook", f"the sheet XML is malformed: {err}", sheet=self.sheet) from err

    def _extent(self, row: int, col: int, what: str) -> None:
        f = self.facts
        if row > f.max_row:
            f.max_row = row
        if col > f.max_column:
            f.max_column = col
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

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _tag(name)
        if self._depth >= 0:  # inside a cell
            self._depth += 1
            if self._depth == 1:
                if tag == "v":
                    self._text = []
                    self._parser.CharacterDataHandler = self._text.append
                elif tag == "f":
                    self._formula = True
                elif tag == "is":
                    self._inline = True
            elif self._text is not None:
                self._parser.CharacterDataHandler = None  # a value's text is what comes before any child of <v>
            if tag in _PLACED:  # a cell or row nested where none belongs still counts towards the extent
                self._place(tag, attrs)
            return
        ref = self._place(tag, attrs)
        if tag == "c":
            self._cell, self._formula, self._inline, self._value, self._depth = ref, False, False, None, 0

    def _place(self, tag: str, attrs: dict[str, str]) -> tuple[int, int, str] | None:
        """Follow the position of a cell or a row, or a declared dimension; the cell's reference if any."""
        if tag == "c":
            ref = _reference(attrs.get("r"))
            if ref:
                row, self._col = ref[0], ref[1]
                if row > self._row:
                    self._row = row
            else:
                self._col += 1
                row = self._row
            f = self.facts
            if row > f.max_row or self._col > f.max_column:  # the bounds move only with the extent
                self._extent(row, self._col, "a cell")
            return ref
        if tag == "row":
            r = attrs.get("r")
            self._row = int(r) if r and r.isdigit() else self._row + 1
            self._col = 0
            if attrs.get("hidden") in ("1", "true"):
                self.facts.hidden_rows.add(self._row)
            self._extent(self._row, 0, "a row")
        elif tag == "dimension":
            m = _REF.match((attrs.get("ref") or "").rpartition(":")[2])
            if m:
                self._extent(int(m.group(2)), column_number(m.group(1)), "its declared dimension")
        return None

    def _end(self, name: str) -> None:
        depth = self._depth
        if depth < 0:
            return
        self._depth -= 1
        if depth == 1 and self._text is not None:
            self._value = "".join(self._text)
            self._text = None
            self._parser.CharacterDataHandler = None
        elif depth == 0 and self._formula and not ((self._value or "").strip() or self._inline):  # the cell closes
            ref = self._cell
            row, col = (ref[0], ref[2]) if ref else (self._row, column_letters(self._col))
            self.facts.formulas_without_value.add((row, col))


def _tag(name: str) -> str:
    """The local name of an element as expat reports it (`namespace}local`), memoised: a sheet repeats a
    handful of names thousands of times."""
    tag = _TAGS.get(name)
    if tag is None:
        tag = _local(name)
        if len(_TAGS) < 4096:
            _TAGS[name] = tag
    return tag


def _reference(r: str | None) -> tuple[int, int, str] | None:
    """A cell reference (`B12`, `$B$12`) as (row, column number, column letters), None when absent or not
    a reference; memoised up to a bound (the cells of one report layout repeat from workbook to workbook)."""
    if not r:
        return None
    ref = _REFERENCES.get(r)
    if ref is None:
        m = _REF.match(r)
        if not m:
            return None
        ref = (int(m.group(2)), column_number(m.group(1)), m.group(1).upper())
        if len(_REFERENCES) < 50_000:
            _REFERENCES[r] = ref
    return ref


_PLACED = frozenset(("c", "row", "dimension"))
_TAGS: dict[str, str] = {}
_REFERENCES: dict[str, tuple[int, int, str]] = {}
#: The largest worksheet member read by the quick reader (its declared size; inflating past it is refused):
#: a monthly report's sheet is tens of kilobytes.
QUICK_BYTES = 4 << 20

# The quick reader's patterns, over the bytes of a well-formed UTF-8 sheet without comments, CDATA,
# processing instructions or a DTD: there every `<` opens a tag, an element's name runs to the first space,
# `/` or `>`, and a tag's attributes tokenise exactly.
_ATTR = rb"""\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*')"""
_ELEMENT_NAME = re.compile(rb"<([^\s/>]+)")
_CELL_REF = re.compile(rb'<c r="\$?([A-Za-z]{1,3})\$?(\d{1,7})"[\s/>]')  # the reference written first
_ROW_OR_DIMENSION = re.compile(rb"<(row|dimension)((?:" + _ATTR + rb")*+)\s*/?>")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DECLARATION = re.compile(rb"<\?xml(?:" + _ATTR + rb")*+\s*\?>")


class SheetScan:
    """Feed a worksheet's XML in chunks, `close()` for its facts; a RejectedFile as `_Stream` raises it.
    `size` is the member's declared size. When the caller stops feeding because of its own error on this
    member, it calls `settle()` first: what the streaming reader would have refused by then is raised."""

    def __init__(self, sheet: str | None, size: int | None = None) -> None:
        self.sheet = sheet
        self._stream: _Stream | None = None
        self._check: expat.XMLParserType | None = None
        self._chunks: list[bytes] = []
        if size is not None and size <= QUICK_BYTES:
            self._check = expat.ParserCreate(namespace_separator="}")  # well-formedness only: no handlers
        else:
            self._stream = _Stream(sheet)

    def feed(self, data: bytes) -> None:
        if self._check is None:
            assert self._stream is not None
            self._stream.feed(data)
            return
        self._chunks.append(data)
        try:
            self._check.Parse(data, False)
        except expat.ExpatError:
            self._streaming()

    def settle(self) -> None:
        if self._check is not None:
            self._streaming()

    def close(self) -> SheetFacts:
        if self._check is not None:
            try:
                self._check.Parse(b"", True)
                facts = _quick_facts(b"".join(self._chunks))
            except expat.ExpatError:
                facts = None
            if facts is not None:
                return facts
            self._streaming()
        assert self._stream is not None
        return self._stream.close()

    def _streaming(self) -> None:
        """Read what was fed so far with the streaming reader (raising what it raises) and go on with it."""
        self._check = None
        self._stream = _Stream(self.sheet)
        chunks, self._chunks = self._chunks, []
        for chunk in chunks:
            self._stream.feed(chunk)


def _quick_facts(data: bytes) -> SheetFacts | None:
    """The facts of a well-formed sheet read with the patterns above, or None where only the streaming
    reader decides: another encoding, a comment, CDATA, a processing instruction or DTD, a formula, a
    prefixed cell, row or dimension, a cell whose first attribute is not its reference, a row without its
    number, an extent past the bounds. With every cell and row numbered and no formula, the facts do not
    depend on the order or nesting of elements, so sets of references are enough."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith(b"<") or b"\x00" in data or b"<!" in data:
        return None
    declared = _DECLARATION.match(data)
    if data.count(b"<?") != (1 if declared else 0):
        return None
    if declared:
        encoding = _attributes(declared.group(0)[5:-2]).get(b"encoding")
        if encoding is not None and encoding.lower() != b"utf-8":
            return None
    names = _ELEMENT_NAME.findall(data)
    for name in set(names):
        local = name.rpartition(b":")[2]
        if local == b"f" or (local != name and local in _QUICK_PLACED):
            return None
    refs = _CELL_REF.findall(data)
    if len(refs) != names.count(b"c"):
        return None
    placed = _ROW_OR_DIMENSION.findall(data)
    if len(placed) != names.count(b"row") + names.count(b"dimension"):
        return None
    facts = SheetFacts()
    max_row = max_column = 0
    if refs:
        letters, numbers = zip(*refs, strict=True)
        max_row = max(map(int, set(numbers)))
        max_column = max(map(_column_of, set(letters)))
    for tag, text in placed:
        if _NORMALISED.search(text):  # the parser would read another value than the bytes say
            return None
        if tag == b"row" and b"hidden" not in text and (first := _ROW_NUMBER_FIRST.match(text)):
            max_row = max(max_row, int(first.group(1)))  # its number first and no `hidden`: all it says here
            continue
        attrs = _attributes(text)
        if tag == b"row":
            r = attrs.get(b"r")
            if not (r and r.isdigit()):
                return None
            row = int(r)
            max_row = max(max_row, row)
            if attrs.get(b"hidden") in (b"1", b"true"):
                facts.hidden_rows.add(row)
        else:
            dim = _REF.match((attrs.get(b"ref") or b"").decode("utf-8").rpartition(":")[2])
            if dim:
                max_row = max(max_row, int(dim.group(2)))
                max_column = max(max_column, column_number(dim.group(1)))
    if max_row > MAX_ROWS or max_column > MAX_COLUMNS or max_row * max_column > MAX_CELLS:
        return None
    facts.max_row, facts.max_column = max_row, max_column
    return facts


_QUICK_PLACED = frozenset((b"c", b"row", b"dimension"))
#: A row's attributes that begin with its number (`<row r="12" spans="1:23">`, the usual writing).
_ROW_NUMBER_FIRST = re.compile(rb' r="(\d+)"')
_NORMALISED = re.compile(rb"[&\t\n\r]")


def _attributes(text: bytes) -> dict[bytes, bytes]:
    """A tag's attributes as written (unprefixed names are the ones the streaming reader looks up)."""
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTRIBUTE.finditer(text)}


def _column_of(letters: bytes) -> int:
    return column_number(letters.decode("ascii"))


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
