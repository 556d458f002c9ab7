"""GX suites validate each loaded batch; failures are stored and returned, not swallowed."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ingestion"))
from ingest_samples import TREASURY_HEADER, treasury_rows, write_csv, write_workbook  # noqa: E402

from expectations.validate import validate_file_batch  # noqa: E402


@pytest.fixture
def load(clean_warehouse, tmp_path):
    from ingestion.load import ingest_file
    from ntp_core.settings import Settings

    settings = Settings(data_dir=tmp_path / "d", inbox_dir=tmp_path / "i", warehouse_url=None)
    with __import__("ntp_core.warehouse", fromlist=["connect"]).connect(clean_warehouse, autocommit=True) as c:
        c.execute("truncate audit.validation_results")

    def run(path):
        return ingest_file(path, warehouse_url=clean_warehouse, run_period=date(2024, 3, 1), settings=settings)

    return run


def _stored(url, file_id):
    from ntp_core.warehouse import connect

    with connect(url) as conn:
        return conn.execute(
            "select expectation, success from audit.validation_results where file_id = %s", (file_id,)
        ).fetchall()


def test_clean_workbook_and_treasury_pass(load, clean_warehouse, tmp_path):
    wb = load(write_workbook(tmp_path / "a.xlsx"))
    res = validate_file_batch(wb.file_id, clean_warehouse)
    assert res.success and res.failures == [] and res.suite == "province_report_cells"
    stored = _stored(clean_warehouse, wb.file_id)
    assert len(stored) == res.evaluated > 5 and all(ok for _, ok in stored)
    kb = load(write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows()))
    res = validate_file_batch(kb.file_id, clean_warehouse)
    assert res.success, res.failures


def test_negative_and_absurd_amounts_fail_and_are_stored(load, clean_warehouse, tmp_path):
    from ntp_core.warehouse import connect

    kb = load(write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows()))
    assert kb.status == "loaded"
    with connect(clean_warehouse, autocommit=True) as conn:  # rows that bypassed the loader's own checks
        conn.execute("update raw.treasury_lines set du_toan_giao = -5000 where source_line = 2")
        conn.execute("update raw.treasury_lines set luy_ke_thanh_toan = 5e13 where source_line = 4")
    res = validate_file_batch(kb.file_id, clean_warehouse)
    assert not res.success
    failed = {f["expectation"] for f in res.failures}
    assert failed == {
        "expect_column_values_to_be_between(du_toan_giao)",
        "expect_column_values_to_be_between(luy_ke_thanh_toan)",
    }
    stored = dict(_stored(clean_warehouse, kb.file_id))
    assert stored["expect_column_values_to_be_between(du_toan_giao)"] is False
    assert stored["expect_column_values_to_be_in_set(ma_tinh)"] is True
    # validating again replaces, not duplicates
    validate_file_batch(kb.file_id, clean_warehouse)
    assert len(_stored(clean_warehouse, kb.file_id)) == len(stored)


def test_implausible_rate_is_a_warning(load, clean_warehouse, tmp_path):
    from ingest_samples import Variant

    wb = load(write_workbook(tmp_path / "a.xlsx", Variant()))
    from ntp_core.warehouse import connect

    with connect(clean_warehouse, autocommit=True) as conn:
        conn.execute(
            "update raw.province_report_cells set value = 950 where measure = 'disbursement_rate_pct' "
            "and component_key = 'NTM'"
        )
    res = validate_file_batch(wb.file_id, clean_warehouse)
    assert res.success  # warnings do not fail the batch
    assert [(f["expectation"], f["severity"]) for f in res.failures] == [
        ("expect_column_values_to_be_between(rate_pct)", "warning")
    ]
