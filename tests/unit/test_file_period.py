"""Which month a file is for: the one reading of title lines and `ky_bao_cao` that discovery, the watcher,
the workbook parser and both Treasury load paths share."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import xlsxwriter

from ingestion.file_period import ky_bao_cao_period, plan_year_period, title_period
from ingestion.inbox import sniff_period
from ingestion.text import fold


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BÁO CÁO TÌNH HÌNH THỰC HIỆN CTMTQG Tháng 3 năm 2024", date(2024, 3, 1)),
        ("Kỳ báo cáo: tháng 03/2024", date(2024, 3, 1)),
        ("(Số liệu đến hết ngày 31/3/2024)", date(2024, 3, 1)),
        ("Số liệu tính đến ngày 31/03/2024", date(2024, 3, 1)),
        ("Số liệu đến ngày 30/06/2025", date(2025, 6, 1)),
        ("Điện Biên, ngày 5 tháng 4 năm 2024", None),  # the report date, not the month
        ("Thay thế báo cáo ngày 05/04/2024", None),  # the replaced report's date
        ("Tháng 13 năm 2024", None),
        ("Đơn vị tính: triệu đồng", None),
    ],
)
def test_title_period(text: str, expected: date | None) -> None:
    assert title_period(fold(text)) == expected


def test_ky_bao_cao_and_plan_year() -> None:
    assert ky_bao_cao_period("202403") == date(2024, 3, 1)
    assert [ky_bao_cao_period(v) for v in ("202413", "2024-03", " 202403", "299901", "")] == [None] * 5
    assert plan_year_period(" 2024 ") == date(2024, 1, 1) and plan_year_period("24") is None


def test_discovery_reads_a_data_until_title(tmp_path: Path) -> None:
    """The inbox scan (and the watcher, which calls it) reads the same title lines as the parser."""
    path = tmp_path / "bao_cao.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Biểu 01a")
    ws.write_string(0, 0, "UBND TỈNH ĐIỆN BIÊN")
    ws.write_string(2, 0, "BÁO CÁO TÌNH HÌNH THỰC HIỆN CÁC CHƯƠNG TRÌNH MTQG")
    ws.write_string(3, 0, "(Số liệu tính đến ngày 31/03/2024)")
    wb.close()
    assert sniff_period(path) == ("province_workbook", date(2024, 3, 1))
