"""Which month a file is for: the one reading of title lines, `ky_bao_cao` and the findings workbook's month cell
(ingestion.file_period), checked for each spelling through every caller: the run's discovery, the watcher, the
workbook parser (accepted and rejected), the response loader and the Treasury load paths."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import xlsxwriter

from alerts.workbook import findings_xlsx
from generator import generate
from generator.workbook import period_line
from ingestion import bulk
from ingestion.csvformat import sniff_csv
from ingestion.csvload import first_line_facts
from ingestion.errors import RejectedFile
from ingestion.file_period import ky_bao_cao_period, label_period, plan_year_period, title_period
from ingestion.inbox import files_for_period, report_month, sniff_period
from ingestion.responses import read_response
from ingestion.text import fold
from ingestion.workbook import parse_workbook

MARCH = date(2024, 3, 1)
TODAY = date(2024, 6, 5)  # the watcher's fallback would be May: a March answer comes from the content
NOWHERE = "postgresql://nobody@nowhere.invalid/ntp"  # discovery must not need the warehouse for these files

#: How provinces write the month of a report in its title (each names March 2024).
TITLE_SPELLINGS = [
    "Tháng 3 năm 2024",
    "Kỳ báo cáo: tháng 03/2024",
    "(Số liệu đến hết ngày 31/3/2024)",
    "Số liệu đến ngày 31/03/2024",
    "Số liệu tính đến ngày 31/03/2024",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BÁO CÁO TÌNH HÌNH THỰC HIỆN CTMTQG Tháng 3 năm 2024", MARCH),
        *[(s, MARCH) for s in TITLE_SPELLINGS],
        ("Số liệu đến ngày 30/06/2025", date(2025, 6, 1)),
        ("Điện Biên, ngày 5 tháng 4 năm 2024", None),  # the report date, not the month
        ("Thay thế báo cáo ngày 05/04/2024", None),  # the replaced report's date
        ("Tháng 13 năm 2024", None),
        ("Đơn vị tính: triệu đồng", None),
    ],
)
def test_title_period(text: str, expected: date | None) -> None:
    assert title_period(fold(text)) == expected


def test_ky_bao_cao_plan_year_and_a_month_cell() -> None:
    assert ky_bao_cao_period("202403") == MARCH
    assert [ky_bao_cao_period(v) for v in ("202413", "2024-03", " 202403", "299901", "")] == [None] * 5
    assert plan_year_period(" 2024 ") == date(2024, 1, 1) and plan_year_period("24") is None
    cells = ["2024-03", "2024-3", "2024-03-01", "202403", date(2024, 3, 31), *TITLE_SPELLINGS]
    assert [label_period(v) for v in cells] == [MARCH] * len(cells)
    assert [label_period(v) for v in ("", None, "2024-13", "tháng 3", "03-2024")] == [None] * 5


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One province's March 2024 delivery as the generator writes it (canonical layout)."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, "2024-03", provinces="11", seed=3)
    return out / "2024-03"


def _swapped(source: Path, dest: Path, swaps: dict[str, str]) -> Path:
    """A copy of an xlsxwriter workbook with text replaced in its shared strings (xl/sharedStrings.xml)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/sharedStrings.xml":
                text = data.decode("utf-8")
                for old, new in swaps.items():
                    assert old in text, old
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return dest


def _respelled(source: Path, dest: Path, spelling: str, unit: str | None = None) -> Path:
    """The generated workbook with its period line (on every sheet) written as `spelling`; `unit` replaces
    the unit line."""
    swaps = {period_line(MARCH): spelling, **({"Đơn vị tính: triệu đồng": unit} if unit else {})}
    return _swapped(source, dest, {escape(old): escape(new) for old, new in swaps.items()})


@pytest.mark.parametrize("spelling", TITLE_SPELLINGS)
def test_a_workbook_title_means_one_month_to_every_caller(generated: Path, tmp_path: Path, spelling: str) -> None:
    (source,) = generated.glob("*.xlsx")
    inbox = tmp_path / "inbox"
    path = _respelled(source, inbox / source.name, spelling)
    assert sniff_period(path) == ("province_workbook", MARCH)  # discovery's look
    assert files_for_period(inbox, MARCH, NOWHERE, today=TODAY) == [path]  # a run's discovery
    assert report_month(path, today=TODAY) == "2024-03"  # the watcher
    assert parse_workbook(path, today=TODAY).period == MARCH  # the parser
    rejected = _respelled(source, tmp_path / "rejected.xlsx", spelling, unit="Đơn vị tính: con")
    with pytest.raises(RejectedFile) as err:
        parse_workbook(rejected, today=TODAY)
    assert (err.value.code, err.value.period) == ("unknown_unit", MARCH)  # whose file a rejected one was


@pytest.mark.parametrize("cell", ["2024-03", "Tháng 3 năm 2024", "tháng 03/2024", "202403", "2024-03-31"])
def test_a_returned_findings_workbook_means_its_month(tmp_path: Path, cell: str) -> None:
    """The response loader reads the month cell the alert wrote (`2024-03`, or retyped); discovery and the
    watcher read the title above it."""
    sent = tmp_path / "sent.xlsx"
    sent.write_bytes(findings_xlsx([], period="2024-03", province="11"))
    path = _swapped(sent, tmp_path / "inbox" / "phan_hoi.xlsx", {"<t>2024-03</t>": f"<t>{escape(cell)}</t>"})
    assert read_response(path)[:2] == (MARCH, "11")
    assert sniff_period(path)[1] == MARCH
    assert report_month(path, today=TODAY) == "2024-03"


def test_a_treasury_extract_means_its_ky_bao_cao(generated: Path, tmp_path: Path) -> None:
    (source,) = generated.glob("KBNN_*.csv")
    fmt = sniff_csv(source)
    assert sniff_period(source) == ("treasury_extract", MARCH)
    assert report_month(source, today=TODAY) == "2024-03"
    assert first_line_facts(fmt, TODAY) == (MARCH, "11")
    assert bulk.eligible(fmt, "treasury_extract", TODAY) == MARCH  # the bulk path's month
    padded = tmp_path / source.name  # spaces around the month: the general path, which trims, reads it
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    padded.write_text(lines[0] + "".join(" " + line.replace(",", " ,", 1) for line in lines[1:]), encoding="utf-8")
    padded_fmt = sniff_csv(padded)
    assert sniff_period(padded) == ("treasury_extract", MARCH)
    assert first_line_facts(padded_fmt, TODAY) == (MARCH, "11")
    assert bulk.eligible(padded_fmt, "treasury_extract", TODAY) is None


def test_discovery_reads_a_title_below_the_first_rows(tmp_path: Path) -> None:
    """Discovery looks at the rows where the parser reads a title, not only the first few."""
    path = tmp_path / "bao_cao.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Biểu 01a")
    ws.write_string(0, 0, "UBND TỈNH ĐIỆN BIÊN")
    ws.write_string(20, 0, "(Số liệu tính đến ngày 31/03/2024)")
    wb.close()
    assert sniff_period(path) == ("province_workbook", MARCH)
