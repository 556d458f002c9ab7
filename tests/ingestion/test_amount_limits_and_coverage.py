"""Workbook amounts: negatives and unit slips load (rules flag them), only physically absurd figures are
rejected; a national Treasury extract supersedes the month's per-province extracts in any arrival order."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

import pytest
from ingest_samples import TREASURY_HEADER, Variant, first_data_row, treasury_rows, write_csv, write_workbook

ROW = first_data_row()


def _cell(db, row: int, column: str):
    return db(
        "select value from raw.province_report_cells where sheet = 'Biểu 01a' and source_row = %s "
        "and source_column = %s",
        (row, column),
    )


@pytest.mark.parametrize(
    "text,vnd",
    [("(12,5)", Decimal("-12500000")), ("5000000000", Decimal("5000000000000000"))],
    ids=["negative_adjustment", "thousandfold_slip"],
)
def test_workbook_figures_that_rules_judge_are_loaded(text, vnd, ingest, db, tmp_path):
    res = ingest(write_workbook(tmp_path / "w.xlsx", Variant(cell_override={(2, 4): text})))
    assert res.status == "loaded", res.error_message
    assert _cell(db, ROW + 2, "H") == [(vnd,)]


def test_workbook_figure_beyond_any_budget_is_rejected(ingest, db, tmp_path):
    res = ingest(write_workbook(tmp_path / "w.xlsx", Variant(cell_override={(2, 4): "9000000000000"})))
    assert (res.status, res.error_code) == ("quarantined", "absurd_amount")
    assert db("select error_sheet, error_row, error_column from audit.files") == [("Biểu 01a", ROW + 2, "H")]


def _received(path, day: int):
    ts = date(2024, 4, day).strftime("%s")
    os.utime(path, (int(ts), int(ts)))
    return path


@pytest.mark.parametrize("national_first", [True, False])
def test_national_extract_supersedes_province_extracts(national_first, ingest, db, tmp_path):
    p11 = _received(write_csv(tmp_path / "k11.csv", TREASURY_HEADER, treasury_rows(province="11")), 5)
    p49 = _received(write_csv(tmp_path / "k49.csv", TREASURY_HEADER, treasury_rows(province="49")), 5)
    national_rows = treasury_rows(province="11", n=3) + treasury_rows(province="49", n=3)
    nat = _received(write_csv(tmp_path / "nat.csv", TREASURY_HEADER, national_rows), 6)
    order = [nat, p11, p49] if national_first else [p11, p49, nat]
    # each file's reported status is the one it is left with at its commit: a province extract after the
    # national one is superseded at once; before it, loaded until the national one arrives
    reported = {p.name: ingest(p).status for p in order}
    expected_province = "superseded" if national_first else "loaded"
    assert reported == {"nat.csv": "loaded", "k11.csv": expected_province, "k49.csv": expected_province}
    got = dict(db("select original_name, status from audit.files"))
    assert got == {"nat.csv": "loaded", "k11.csv": "superseded", "k49.csv": "superseded"}
    loaded_lines = db(
        "select count(*) from raw.treasury_lines t join audit.files f using (file_id) where f.status = 'loaded'"
    )
    assert loaded_lines == [(6,)]


def test_every_treasury_line_belongs_to_a_manifest_row(ingest, db, tmp_path):
    """raw.treasury_lines has no foreign key (bulk speed): the loader must keep the link itself."""
    ingest(write_csv(tmp_path / "a.csv", TREASURY_HEADER, treasury_rows()))
    bad = treasury_rows()
    bad[3][9] = "abc"
    ingest(write_csv(tmp_path / "b.csv", TREASURY_HEADER, bad))
    orphans = db(
        "select count(*) from raw.treasury_lines t where not exists "
        "(select 1 from audit.files f where f.file_id = t.file_id and f.status <> 'quarantined')"
    )
    assert orphans == [(0,)]
    assert db("select count(*) from raw.treasury_lines") == [(len(treasury_rows()),)]
