"""Each 'what real files do' variant of the provincial workbook reads to the canonical figures."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from ingest_samples import Variant, default_lines, first_data_row, write_workbook

from ingestion.workbook import parse_workbook

TODAY = date(2026, 1, 1)


def figures(path) -> dict[tuple, Decimal]:
    rep = parse_workbook(path, today=TODAY)
    return {(c[3], c[5], c[7], c[8], c[9]): c[10] for c in rep.cells}


@pytest.fixture(scope="module")
def canonical(tmp_path_factory):
    return figures(write_workbook(tmp_path_factory.mktemp("canon") / "c.xlsx"))


VARIANTS = {
    "numbers_as_vietnamese_text": Variant(numbers_as_text=True),
    "nfd_unicode": Variant(nfd=True),
    "ubnd_spelled_out": Variant(province_title="ỦY BAN NHÂN DÂN TỈNH ĐIỆN BIÊN"),
    "bare_name_without_diacritics": Variant(province_title="Dien Bien"),
    "tinh_prefix_lower_case": Variant(province_title="tỉnh điện biên"),
    "period_only_until_line": Variant(period_line="(Số liệu đến hết ngày 31/3/2024)"),
    "unit_dvt_spelling": Variant(unit_line="ĐVT: Triệu đồng"),
    "unit_dong": Variant(unit_line="Đơn vị: đồng", unit_factor=Decimal(10**6)),
    "unit_ty_dong": Variant(unit_line="Đơn vị tính: tỷ đồng", unit_factor=Decimal("0.001")),
    "header_synonyms": Variant(
        header_labels={
            "NSTW": "NS TW",
            "NSĐP": "Ngân sách\nđịa phương",
            "Nội dung": "Chương trình, dự án, tiểu dự án",
            "Lũy kế giải ngân từ đầu năm": "Giải ngân lũy kế",
            "Kế hoạch các năm trước chuyển sang": "Vốn kéo dài",
            "Kế hoạch vốn giao": "KẾ HOẠCH  VỐN\nGIAO",
            "Kế hoạch năm 2024": "KẾ HOẠCH\nNĂM 2024",
            "Tỷ lệ giải ngân (%)": "Tỷ lệ giải ngân\n(%)",
        }
    ),
    "header_ngan_sach_trung_uong": Variant(header_labels={"NSTW": "Ngân sách trung ương"}),
    "extra_title_rows": Variant(extra_title_rows=3),
    "blank_and_hidden_rows": Variant(blank_row_after=1, hidden_row_after=3),
    "trailing_empty_columns": Variant(trailing_empty_cols=3),
    "no_code_column": Variant(with_code=False),
    "unmerged_header": Variant(merged_header=False),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_reads_canonical_figures(name, canonical, tmp_path):
    got = figures(write_workbook(tmp_path / f"{name}.xlsx", VARIANTS[name]))
    assert got == canonical


def test_without_total_source_columns_reads_nstw_and_nsdp(canonical, tmp_path):
    got = figures(write_workbook(tmp_path / "v.xlsx", Variant(with_total_source=False)))
    assert got == {k: v for k, v in canonical.items() if k[4] != "TOTAL" or k[3] == "disbursement_rate_pct"}


def test_old_tone_placement_in_component_names(canonical, tmp_path):
    lines = default_lines()
    # NTM.ND05 style names carry 'khỏe'; here the program line is spelled with old tones and NFD.
    name = lines[1].name.replace("hòa", "hoà")
    v = Variant(label_override={1: unicodedata.normalize("NFD", name.upper())})
    assert figures(write_workbook(tmp_path / "t.xlsx", v, lines)) == canonical


def test_zero_marks_and_negative_parentheses(tmp_path):
    # line 1 (NTM), value columns 0..: '-' and '–' are zero, '(12,5)' is -12.5 triệu
    v = Variant(cell_override={(1, 0): "-", (1, 1): "–", (1, 2): "(12,5)", (1, 3): None})
    rep = parse_workbook(write_workbook(tmp_path / "z.xlsx", v), today=TODAY)
    row = first_data_row() + 1
    cells = {c[2]: (c[10], c[11]) for c in rep.cells if c[0] == "Biểu 01a" and c[1] == row}
    assert cells["D"] == (Decimal(0), "-")
    assert cells["E"] == (Decimal(0), "–")
    assert cells["F"] == (Decimal(-12_500_000), "(12,5)")
    assert "G" not in cells  # blank: no capital, no row


def test_post_merger_province_reports_under_new_name(tmp_path):
    v = Variant(
        province_title="UBND TỈNH TUYÊN QUANG",
        period_line="Tháng 8 năm 2025",
        footer_date="Tuyên Quang, ngày 05 tháng 9 năm 2025",
    )
    rep = parse_workbook(write_workbook(tmp_path / "tq.xlsx", v), today=TODAY)
    assert (rep.province_code, rep.period, rep.report_date) == ("08", date(2025, 8, 1), date(2025, 9, 5))


def test_pre_merger_name_is_a_province_before_july_2025(tmp_path):
    v = Variant(province_title="UBND TỈNH HÀ GIANG", period_line="Tháng 6 năm 2025")
    assert parse_workbook(write_workbook(tmp_path / "hg.xlsx", v), today=TODAY).province_code == "02"


def test_replacement_note_and_footer_date_are_read(tmp_path):
    v = Variant(replaces="(Thay thế báo cáo ngày 05/4/2024)", footer_date="Điện Biên, ngày 12 tháng 4 năm 2024")
    rep = parse_workbook(write_workbook(tmp_path / "r.xlsx", v), today=TODAY)
    assert rep.report_date == date(2024, 4, 12)
    assert rep.replaces_note and "05/4/2024" in rep.replaces_note
