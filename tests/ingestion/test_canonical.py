"""The canonical files of docs/report-layout.md load exactly, with lineage and a manifest row."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from ingest_samples import (
    PLAN_HEADER,
    TREASURY_HEADER,
    Variant,
    default_lines,
    first_data_row,
    plan_rows,
    rate,
    treasury_rows,
    write_csv,
    write_workbook,
)


def test_canonical_workbook_loads_exact_vnd(ingest, db, tmp_path, settings):
    res = ingest(write_workbook(tmp_path / "whatever-name.xlsx"))
    assert (res.status, res.kind, res.period, res.province_code) == (
        "loaded",
        "province_workbook",
        "2024-03",
        "11",
    )
    lines = default_lines()
    # 7 lines x (18 amounts + rate) x 2 sheets
    assert res.row_count == 7 * 19 * 2
    rows = db(
        "select source_row, source_column, value, value_as_reported from raw.province_report_cells "
        "where sheet = 'Biểu 01a' and component_key = 'NTM.ND02' and plan_block = 'current' "
        "and measure = 'plan_assigned' order by source_column"
    )
    row = first_data_row() + 2
    assert rows == [
        (row, "D", Decimal("1500750000"), "1500.75"),
        (row, "E", Decimal("1200500000"), "1200.5"),
        (row, "F", Decimal("300250000"), "300.25"),
    ]
    total = db(
        "select value from raw.province_report_cells where component_key = 'TOTAL' and capital_type = 'SN' "
        "and measure = 'disbursed_cumulative' and plan_block = 'current' and fund_source = 'NSTW'"
    )
    assert total == [(sum(line.current[4] for line in lines[1:] if line.stt in ["I", "II", "III"]) * 10**6,)]
    rate_rows = db(
        "select value from raw.province_report_cells where component_key = 'GNBV' and capital_type = 'DTPT' "
        "and measure = 'disbursement_rate_pct'"
    )
    assert rate_rows == [(rate(lines[3]),)]
    f = db(
        "select kind, status, period, province_code, report_date, unit, version, run_period, archive_path, "
        "row_count from audit.files"
    )
    assert f[0][:8] == (
        "province_workbook",
        "loaded",
        date(2024, 3, 1),
        "11",
        date(2024, 4, 5),
        "trieu_dong",
        1,
        date(2024, 3, 1),
    )
    archived = settings.data_dir / f[0][8]
    assert archived.read_bytes() == (tmp_path / "whatever-name.xlsx").read_bytes()
    assert f[0][9] == res.row_count == db("select count(*) from raw.province_report_cells")[0][0]


def test_every_figure_has_lineage_and_distinct_key(ingest, db, tmp_path):
    ingest(write_workbook(tmp_path / "a.xlsx"))
    dupes = db(
        "select capital_type, component_key, plan_block, measure, fund_source, count(*) "
        "from raw.province_report_cells group by 1, 2, 3, 4, 5 having count(*) > 1"
    )
    assert dupes == []
    keys = {r[0] for r in db("select distinct component_key from raw.province_report_cells")}
    assert keys == {"TOTAL", "NTM", "NTM.ND02", "GNBV", "GNBV.DA1", "DTTS", "DTTS.DA1"}


def test_treasury_csv_loads_typed_with_source_lines(ingest, db, tmp_path):
    rows = treasury_rows()
    res = ingest(write_csv(tmp_path / "kbnn.csv", TREASURY_HEADER, rows))
    assert (res.status, res.kind, res.period, res.province_code, res.row_count) == (
        "loaded",
        "treasury_extract",
        "2024-03",
        "11",
        len(rows),
    )
    got = db(
        "select source_line, ma_tinh, ma_ctmt, nam_kh, du_toan_giao, thanh_toan_trong_ky, luy_ke_thanh_toan "
        "from raw.treasury_lines order by source_line"
    )
    assert got[0] == (2, "11", "92010", 2023, 1_000_000_000, 20_000_000, 100_000_000)
    assert got[1][5] == -5_000_000
    assert [g[0] for g in got] == list(range(2, len(rows) + 2))


def test_plan_csv_belongs_to_january_of_its_year(ingest, db, tmp_path):
    res = ingest(write_csv(tmp_path / "plan.csv", PLAN_HEADER, plan_rows()))
    assert (res.status, res.kind, res.period, res.row_count) == ("loaded", "plan_assignment", "2024-01", 3)
    assert db("select sum(ke_hoach_giao) from raw.plan_assignments") == [(1_800_500_000_000,)]


def test_redelivery_is_a_noop(ingest, db, tmp_path):
    path = write_workbook(tmp_path / "a.xlsx")
    first = ingest(path)
    copy = tmp_path / "sub" / "renamed.xlsx"
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    again = ingest(copy)
    assert (again.status, again.file_id) == ("duplicate", first.file_id)
    assert db("select count(*) from audit.files") == [(1,)]
    assert db("select count(*) from raw.province_report_cells") == [(first.row_count,)]


def test_bad_file_quarantined_with_json_and_manifest(ingest, db, tmp_path, settings):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"this is not a workbook at all")
    res = ingest(bad)
    assert (res.status, res.error_code) == ("quarantined", "not_a_workbook")
    report = json.loads((settings.quarantine_dir / "unknown" / "bad.xlsx.error.json").read_text())
    assert report["code"] == "not_a_workbook" and report["file"] == "bad.xlsx"
    assert (settings.quarantine_dir / "unknown" / "bad.xlsx").read_bytes() == bad.read_bytes()
    assert db("select status, error_code from audit.files") == [("quarantined", "not_a_workbook")]


def test_text_with_copy_control_characters_loads_verbatim(ingest, db, tmp_path):
    """Tabs, line breaks, backslashes and a lone `\\N` in a label reach the warehouse as written: the cells go
    to COPY as text lines, which must escape what COPY's text format would otherwise read as a column break,
    a row break, an escape or a NULL."""
    label = "Nội dung\tcó tab,\nxuống dòng\r\nvà \\ gạch chéo \\N"
    res = ingest(write_workbook(tmp_path / "a.xlsx", Variant(label_override={2: label, 4: "\\N"})))
    assert res.status == "loaded", res.error_message
    labels = dict(
        db(
            "select component_key, component_label from raw.province_report_cells "
            "where component_key in ('NTM.ND02', 'GNBV.DA1') group by 1, 2"
        )
    )
    assert labels == {"NTM.ND02": label, "GNBV.DA1": "\\N"}
