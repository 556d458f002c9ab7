"""Reference data, the constants shared with dbt, the Treasury contract and the identification of
a file from its first lines: what needs no database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingestion import treasury_contract as contract
from ingestion.csvformat import sniff_csv
from ingestion.csvload import first_line_facts, kind_of_header
from ingestion.provinces import province_from_title
from ntp_core import reference


def test_constants_shared_with_dbt() -> None:
    # NQ 202/2025/QH15: the 34 provinces from 1 July 2025; NTP-D03 from October; unit slips 10^3 / 10^6.
    assert date(2025, 7, 1) == reference.MERGER_DATE
    assert reference.D03_FIRST_MONTH == 10
    assert reference.UNIT_SCALE_BANDS == ((300, 3000), (300_000, 3_000_000))
    assert reference.deadlines("allocation")[2024] == date(2024, 4, 15)
    assert reference.deadlines("year_end_disbursement")[2024] == date(2025, 1, 31)
    assert reference.rule("NTP-A01").tolerance_vnd == 1_000_000 and reference.rule("NTP-A01").tolerance_pct == 0.05


def test_provinces_of_each_era() -> None:
    assert len(reference.provinces_for(date(2025, 6, 1))) == 63
    assert len(reference.provinces_for(date(2025, 7, 1))) == 34
    assert {p.province_code for p in reference.predecessors("08")} == {"02", "08"}  # Hà Giang + Tuyên Quang


def test_province_from_a_title() -> None:
    found, other = province_from_title("UBND TỈNH ĐIỆN BIÊN", date(2024, 3, 1))
    assert found is not None and found.province_code == "11" and other is None
    found, other = province_from_title("UBND tỉnh Hà Giang", date(2025, 9, 1))  # merged into Tuyên Quang
    assert found is None and other is not None and other.province_code == "02"


def test_treasury_contract() -> None:
    assert len(contract.TREASURY_COLUMNS) == 12 and len(set(contract.TREASURY_COLUMNS)) == 12
    assert set(contract.AMOUNTS["treasury_extract"]) <= set(contract.TREASURY_COLUMNS)
    assert set(contract.AMOUNTS["plan_assignment"]) <= set(contract.PLAN_COLUMNS)
    assert contract.MAX_AMOUNT == 10_000 * 10**9  # 10,000 billion VND
    assert kind_of_header(list(contract.TREASURY_COLUMNS)) == "treasury_extract"
    assert kind_of_header(list(contract.PLAN_COLUMNS)) == "plan_assignment"
    assert kind_of_header(["stt", "noi_dung"]) is None


def test_a_treasury_extract_is_recognised_from_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "whatever.csv"
    header = ";".join(c.upper() for c in contract.TREASURY_COLUMNS)
    line = "202403;1101;11;00011;NSTW;DTPT;2024;1012345;Ban QLDA huyện Mường Nhé;1.000.000;0;500.000"
    path.write_bytes(("\ufeff" + header + "\n" + line + "\n").encode("utf-8"))
    fmt = sniff_csv(path)
    assert (fmt.encoding, fmt.delimiter, fmt.header) == ("UTF8", ";", list(contract.TREASURY_COLUMNS))
    assert first_line_facts(fmt, today=date(2024, 4, 5)) == (date(2024, 3, 1), "11")
