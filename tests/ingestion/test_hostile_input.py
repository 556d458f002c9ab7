"""Hostile deliveries the container check must stop before any parser allocates for them: a sparse sheet
whose dense grid would need terabytes, a zip whose headers under-declare a member, and sheet XML written
with a namespace prefix (read by a real XML parser, not a pattern)."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest

from ingestion.container import check_workbook
from ingestion.errors import RejectedFile

MONTH = "2024-03"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generator's --broken corpus for one province, by file name."""
    from generator import generate

    out = tmp_path_factory.mktemp("hostile")
    res = generate(out, MONTH, provinces="11", broken=True)
    return {Path(r["file"]).name: out / r["file"] for r in res.broken} | {
        p.name: p for p in (out / MONTH).glob("BC_NTP_11_*.xlsx")
    }


def test_sparse_sheet_bomb_is_refused_from_the_package(corpus: dict[str, Path]):
    path = corpus["BC_NTP_11_o_xa_202403.xlsx"]
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(RejectedFile) as err:
        check_workbook(path)
    assert (err.value.code, err.value.sheet, err.value.row, err.value.column) == (
        "too_large",
        "Biểu 01a",
        1048576,
        "XFD",
    )
    assert "1,048,576 rows" in err.value.message and "16,384 columns" in err.value.message


def test_sparse_cells_without_a_dimension_are_refused_too(corpus: dict[str, Path], tmp_path: Path):
    """A lying (or absent) `<dimension>` changes nothing: the scan follows the cells actually present."""
    src = corpus["BC_NTP_11_o_xa_202403.xlsx"]
    out = tmp_path / "no_dimension.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b"", data)
            zout.writestr(info.filename, data)
    with pytest.raises(RejectedFile) as err:
        check_workbook(out)
    assert (err.value.code, err.value.sheet, err.value.row) == ("too_large", "Biểu 01a", 1048576)


def test_under_declared_member_is_bounded_by_the_bytes_really_inflated(corpus: dict[str, Path]):
    path = corpus["BC_NTP_11_khai_thieu_202403.xlsx"]
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size < 16 * 1024  # the headers' claim
    assert zipfile.ZipFile(path).testzip() is None  # and a reader that trusts them finds nothing wrong
    with pytest.raises(RejectedFile) as err:
        check_workbook(path)
    assert (err.value.code, err.value.sheet) == ("too_large", "Biểu 01a")
    assert "declare" in err.value.message


def test_sparse_bomb_in_the_inbox_does_not_stop_discovery(corpus: dict[str, Path], tmp_path: Path, clean_warehouse):
    from ingestion.inbox import files_for_period

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("BC_NTP_11_o_xa_202403.xlsx", "BC_NTP_11_khai_thieu_202403.xlsx"):
        (inbox / name).write_bytes(corpus[name].read_bytes())
    picked = files_for_period(inbox, date(2024, 3, 1), clean_warehouse, today=date(2024, 4, 2))
    assert sorted(p.name for p in picked) == ["BC_NTP_11_khai_thieu_202403.xlsx", "BC_NTP_11_o_xa_202403.xlsx"]


def _prefixed(xml: bytes) -> bytes:
    """The same worksheet with every SpreadsheetML element written as `<x:…>`."""
    text = xml.decode("utf-8").replace(
        ' xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
        ' xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"',
    )
    return re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", text).encode("utf-8")


def test_prefixed_sheet_xml_reads_hidden_rows_and_formulas(corpus: dict[str, Path], tmp_path: Path):
    from ingestion.workbook import parse_workbook

    src = corpus["BC_NTP_11_cong_thuc_202403.xlsx"]  # formula =E12+F12 without a cached value in D12
    out = tmp_path / "BC_NTP_11_prefixed_202403.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _prefixed(data.replace(b'<row r="14"', b'<row r="14" hidden="1"'))
            zout.writestr(info.filename, data)
    assert b"<x:row " in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    facts = check_workbook(out)
    assert facts["Biểu 01a"].hidden_rows == {14} and facts["Biểu 01b"].hidden_rows == {14}
    assert facts["Biểu 01a"].formulas_without_value == {(12, "D")}
    with pytest.raises(RejectedFile) as err:
        parse_workbook(out)
    assert (err.value.code, err.value.sheet, err.value.row, err.value.column) == (
        "formula_without_value",
        "Biểu 01a",
        12,
        "D",
    )


def test_csv_above_the_size_bound_is_refused_before_reading(tmp_path: Path):
    """A sparse file just over the bound (no disk used): refused from its size, the content never read."""
    from ingestion.csvformat import MAX_CSV_BYTES, sniff_csv

    path = tmp_path / "KBNN_11_202403.csv"
    with open(path, "wb") as f:
        f.write(b"ky_bao_cao,ma_tinh\n202403,11\n")
        f.truncate(MAX_CSV_BYTES + 1)
    with pytest.raises(RejectedFile) as err:
        sniff_csv(path)
    assert err.value.code == "too_large" and f"{MAX_CSV_BYTES + 1:,} bytes" in err.value.message
    assert MAX_CSV_BYTES >= 5 * 45 * 1024 * 1024  # still well above a national extract


def test_oversized_csv_is_quarantined_with_its_reason(ingest, tmp_path: Path, monkeypatch):
    """Through the loader, with the bound lowered to a few kilobytes so the test file stays small."""
    from ingest_samples import TREASURY_HEADER, treasury_rows, write_csv

    import ingestion.csvformat as csvformat

    monkeypatch.setattr(csvformat, "MAX_CSV_BYTES", 4096)
    path = write_csv(tmp_path / "KBNN_11_202403.csv", TREASURY_HEADER, treasury_rows(n=200))
    assert path.stat().st_size > 4096
    res = ingest(path)
    assert (res.status, res.error_code) == ("quarantined", "too_large")
    assert "KBNN_11_202403.csv" in res.error_message and "4,096 limit" in res.error_message


@pytest.mark.parametrize(
    ("damage", "reason"),
    [(b"<x:sheetData>", "unbound prefix"), (b"<sheetData>&nbsp;", "undefined entity")],
)
def test_sheet_xml_the_parser_refuses_is_a_corrupt_workbook(
    corpus: dict[str, Path], tmp_path: Path, damage: bytes, reason: str
):
    """XML that is not well-formed deep inside a sheet (an undeclared prefix, an entity XML does not
    define) is refused with the sheet's name, like any corrupt workbook, never raised as a parser error."""
    src = corpus["BC_NTP_11_cong_thuc_202403.xlsx"]
    out = tmp_path / "BC_NTP_11_bad_xml_202403.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"<sheetData>", damage, 1).replace(b"</sheetData>", b"</" + damage[1:], 1)
            zout.writestr(info.filename, data)
    with pytest.raises(RejectedFile) as err:
        check_workbook(out)
    assert (err.value.code, err.value.sheet) == ("corrupt_workbook", "Biểu 01b")
    assert reason in err.value.message


def _sheet_reading(xml: bytes, *, quick: bool) -> tuple:
    """What a sheet's XML reads as — its facts or the refusal with its place — through the reader the
    container uses for a small sheet (quick, falling back to streaming) or through the streaming one alone."""
    from ingestion.sheetxml import SheetScan, _Stream

    scan = SheetScan("Biểu 01a", len(xml)) if quick else _Stream("Biểu 01a")
    try:
        for i in range(0, len(xml), 4096):
            scan.feed(xml[i : i + 4096])
        return ("facts", scan.close())
    except RejectedFile as err:
        return ("refused", err.code, err.message, err.sheet, err.row, err.column)


def test_the_quick_sheet_reading_is_the_streaming_one(corpus: dict[str, Path]):
    """Small sheets are read by patterns over their bytes where the XML is plain, else by the streaming
    reader: the same facts and refusals for every sheet of the corpus and for variants of a plain sheet that
    the patterns alone would misread (entities, prefixes, comments, formulas, cells inside cells, bounds)."""
    from ingestion.sheetxml import _quick_facts

    sheets = []
    for path in corpus.values():
        try:
            with zipfile.ZipFile(path) as zf:
                sheets += [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        except (zipfile.BadZipFile, OSError):
            continue
    with zipfile.ZipFile(corpus["BC_NTP_11_dien_bien_202403.xlsx"]) as zf:  # the province's canonical report
        plain = zf.read("xl/worksheets/sheet1.xml")
    assert _quick_facts(plain) is not None  # the generator's sheets take the quick path
    row = re.search(rb'<row r="(\d+)"', plain[plain.index(b"<sheetData") :])
    assert row is not None
    r = row.group(0)
    variants = [
        plain.replace(r, r + b' hidden="1"'),
        plain.replace(r, r + b' hidden="&#49;"'),  # an entity the parser reads as 1
        plain.replace(r, r.replace(b' r="', b'\n r="')),
        plain.replace(r, b"<row"),  # a row numbered by its position
        plain.replace(b'<c r="', b'<c s="0" r="', 1),  # the reference not first
        plain.replace(b'<c r="', b'<c r="XFD1048576"/><c r="', 1),  # a cell far past the bounds
        plain.replace(b"<v>", b"<v><!-- x -->", 1),
        plain.replace(b"<v>", b"<f>A1</f><v>", 1),
        plain.replace(b"<v>", b"<f>A1</f><v> ", 1).replace(b"<v> ", b"<v/><v> ", 1),
        plain.replace(b"</c>", b'<row r="250000" hidden="1"/></c>', 1),  # a row inside a cell
        re.sub(rb"<(/?)(c|row)(?=[\s/>])", rb"<\1x:\2", plain.replace(b"<worksheet ", b'<worksheet xmlns:x="u" ')),
        plain.replace(b'ref="', b'ref="A1:A1\n', 1),
        plain[: len(plain) // 2],  # malformed
    ]
    for xml in sheets + variants:
        assert _sheet_reading(xml, quick=True) == _sheet_reading(xml, quick=False), xml[:300]
