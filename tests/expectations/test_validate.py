"""GX suites validate each loaded batch; failures are stored and returned, not swallowed. The month's batches
are validated together (one GX run per suite) and still judged and stored file by file."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "ingestion"))
from ingest_samples import TREASURY_HEADER, treasury_rows, write_csv, write_workbook  # noqa: E402

from expectations.validate import validate_batches, validate_file_batch  # noqa: E402


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


def test_batches_validated_together_are_judged_file_by_file(load, clean_warehouse, tmp_path):
    """Two provinces' extracts with the same line numbers (unique within each file) and a workbook, in one
    call: the clean ones pass every expectation, the damaged one fails exactly what was damaged, with its own
    counts; a file's row count is its own, not the month's."""
    from ntp_core.warehouse import connect

    clean = load(write_csv(tmp_path / "k11.csv", TREASURY_HEADER, treasury_rows(province="11", n=6)))
    damaged = load(write_csv(tmp_path / "k12.csv", TREASURY_HEADER, treasury_rows(province="12", n=8)))
    wb = load(write_workbook(tmp_path / "a.xlsx"))
    assert {clean.status, damaged.status, wb.status} == {"loaded"}
    with connect(clean_warehouse, autocommit=True) as conn:
        conn.execute(
            "update raw.treasury_lines set du_toan_giao = -1 where file_id = %s and source_line in (2, 3)",
            (damaged.file_id,),
        )
    out = validate_batches([clean.file_id, damaged.file_id, wb.file_id], clean_warehouse)
    assert set(out) == {clean.file_id, damaged.file_id, wb.file_id}
    assert out[clean.file_id].success and out[clean.file_id].failures == []
    assert out[wb.file_id].success and out[wb.file_id].suite == "province_report_cells"
    assert not out[damaged.file_id].success
    assert [(f["expectation"], f["observed"]) for f in out[damaged.file_id].failures] == [
        ("expect_column_values_to_be_between(du_toan_giao)", "2 unexpected of 8")
    ]
    assert out[damaged.file_id].failures[0]["partial_unexpected_list"] == [-1, -1]
    stored = {fid: dict(_stored(clean_warehouse, fid)) for fid in out}
    assert all(stored[clean.file_id].values()) and all(stored[wb.file_id].values())
    assert [k for k, ok in stored[damaged.file_id].items() if not ok] == [
        "expect_column_values_to_be_between(du_toan_giao)"
    ]
    with connect(clean_warehouse) as conn:
        counts = dict(
            conn.execute(
                "select file_id, observed from audit.validation_results "
                "where expectation = 'expect_table_row_count_to_be_between'"
            ).fetchall()
        )
    assert counts == {clean.file_id: "6", damaged.file_id: "8", wb.file_id: str(wb.row_count)}


def test_each_file_is_judged_on_all_its_unexpected_rows_past_the_200_gx_lists(load, clean_warehouse, tmp_path):
    """GX lists the values of at most 200 unexpected rows of a validation (all their indexes, though): two
    extracts with 210 and 150 bad lines, validated together, are each judged on their own bad lines, with
    their own first values (all of the second file's come after the first 200 of the month: from the frame)."""
    from ntp_core.warehouse import connect

    first = load(write_csv(tmp_path / "k11.csv", TREASURY_HEADER, treasury_rows(province="11", n=210)))
    second = load(write_csv(tmp_path / "k12.csv", TREASURY_HEADER, treasury_rows(province="12", n=150)))
    assert {first.status, second.status} == {"loaded"}
    with connect(clean_warehouse, autocommit=True) as conn:
        conn.execute(
            "update raw.treasury_lines set du_toan_giao = -1 - source_line where file_id = %s", (first.file_id,)
        )
        conn.execute(
            "update raw.treasury_lines set du_toan_giao = -7 - source_line where file_id = %s", (second.file_id,)
        )
    out = validate_batches([first.file_id, second.file_id], clean_warehouse)
    expected = {first.file_id: (210, [-3 - i for i in range(10)]), second.file_id: (150, [-9 - i for i in range(10)])}
    for file_id, (bad, values) in sorted(expected.items(), key=lambda e: -e[0]):
        outcome = out[file_id]
        assert not outcome.success
        assert [(f["expectation"], f["observed"]) for f in outcome.failures] == [
            ("expect_column_values_to_be_between(du_toan_giao)", f"{bad} unexpected of {bad}")
        ]
        assert outcome.failures[0]["partial_unexpected_list"] == values
    with connect(clean_warehouse) as conn:  # stored as JSON numbers, whichever list they came from
        (stored,) = conn.execute(
            "select details -> 'partial_unexpected_list' from audit.validation_results "
            "where file_id = %s and expectation = 'expect_column_values_to_be_between(du_toan_giao)'",
            (second.file_id,),
        ).fetchone()
    assert stored == [-9 - i for i in range(10)]


def test_a_numeric_nan_is_a_missing_value_not_a_crash(load, clean_warehouse, tmp_path):
    """PostgreSQL's numeric holds NaN: a cell whose value is NaN (written past the loader) fails the value's
    not-null expectation, for that file alone, and the validation of the month goes on."""
    from ingest_samples import Variant

    from ntp_core.warehouse import connect

    wb = load(write_workbook(tmp_path / "a.xlsx"))
    other = load(write_workbook(tmp_path / "b.xlsx", Variant(province_title="UBND TỈNH LAI CHÂU")))
    assert {wb.status, other.status} == {"loaded"} and other.province_code == "12"
    with connect(clean_warehouse, autocommit=True) as conn:
        nan = conn.execute(
            "update raw.province_report_cells set value = 'NaN' where file_id = %s and measure = 'allocated'",
            (wb.file_id,),
        ).rowcount
    assert nan > 0
    out = validate_batches([wb.file_id, other.file_id], clean_warehouse)
    assert not out[wb.file_id].success
    assert [(f["expectation"], f["observed"]) for f in out[wb.file_id].failures] == [
        ("expect_column_values_to_not_be_null(value)", f"{nan} unexpected of {wb.row_count}")
    ]
    assert out[other.file_id].success and out[other.file_id].failures == []


def test_the_frame_holds_only_the_columns_the_expectations_read():
    """A suite's frame is fetched with the columns its expectations name and no others; a derived column
    (`amount_vnd`, `rate_pct`) brings `value` and `measure`, from which it is made."""
    from expectations.validate import frame_columns, load_suite

    cells = frame_columns(load_suite("province_report_cells"))
    assert sorted(cells) == sorted(
        ["value", "measure", "capital_type", "plan_block", "fund_source", "component_key", "province_code"]
    )
    treasury = frame_columns(load_suite("treasury_lines"))
    assert "ten_dvqhns" not in treasury and "nam_kh" not in treasury and "period" not in treasury
    assert {"source_line", "ma_kbnn", "ma_dvqhns", "du_toan_giao", "luy_ke_thanh_toan"} <= set(treasury)
    spec = {"expectations": [{"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["a", "b"]}}]}
    assert frame_columns(spec) == ["a", "b"]


def test_a_nullable_column_keeps_null_apart_from_empty_text(load, clean_warehouse, tmp_path):
    """A suite naming a column that may be NULL gets its frame from the rows themselves, where NULL stays a
    missing value and an empty text stays text (CSV would make both the same); `ten_dvqhns` may be NULL."""
    from expectations.validate import _frame
    from ntp_core.warehouse import connect

    kb = load(write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows(n=4)))
    spec = {
        "table": "raw.treasury_lines",
        "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "ten_dvqhns"}}],
    }
    with connect(clean_warehouse, autocommit=True) as conn:
        conn.execute("update raw.treasury_lines set ten_dvqhns = null where source_line = 2")
        conn.execute("update raw.treasury_lines set ten_dvqhns = '' where source_line = 3")
        df = _frame(conn, spec, [kb.file_id])
    assert list(df.columns) == ["file_id", "ten_dvqhns"] and len(df) == 4
    names = df["ten_dvqhns"]
    assert int(names.isna().sum()) == 1
    assert sorted(names.dropna().tolist()) == ["", *(f"Ban quản lý dự án huyện Mường Nhé {i}" for i in (2, 3))]
