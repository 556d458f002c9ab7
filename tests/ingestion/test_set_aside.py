"""Lines whose code matches nothing in the reference (NTP-C02) are set aside, not loaded, while the rest of
the file loads: they land in audit.rejected_lines in the same transaction, counted in the manifest. A file
of one province naming an unknown province is still quarantined whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from ingest_samples import TREASURY_HEADER, treasury_rows, write_csv

UNKNOWN = "99990"


def _with_unknown_codes(rows: list[list[str]], at: tuple[int, ...]) -> list[list[str]]:
    return [[*r[:3], UNKNOWN, *r[4:]] if i in at else r for i, r in enumerate(rows)]


@pytest.mark.parametrize(
    "variant,kwargs",
    [("canonical", {}), ("cp1258_semicolon", {"encoding": "cp1258", "delimiter": ";"})],
)
def test_unknown_ctmt_lines_are_set_aside_and_the_rest_loads(variant, kwargs, ingest, db, tmp_path):
    rows = _with_unknown_codes(treasury_rows(n=8), (2, 5))
    res = ingest(write_csv(tmp_path / f"{variant}.csv", TREASURY_HEADER, rows, **kwargs))
    assert (res.status, res.row_count) == ("loaded", 6), res.error_message
    assert "2 line(s) with an unknown ma_ctmt set aside" in res.error_message
    counts = db("select count(*), count(*) filter (where ma_ctmt = %s) from raw.treasury_lines", (UNKNOWN,))
    assert counts == [(6, 0)]
    got = db(
        "select file_id, source_line, column_name, raw_value, error_code, period, province_code, "
        "line->>'ma_dvqhns', message from audit.rejected_lines order by source_line"
    )
    assert [g[:8] for g in got] == [
        (res.file_id, 4, "ma_ctmt", UNKNOWN, "unknown_component", date(2024, 3, 1), "11", rows[2][7]),
        (res.file_id, 7, "ma_ctmt", UNKNOWN, "unknown_component", date(2024, 3, 1), "11", rows[5][7]),
    ]
    assert all(f"'{UNKNOWN}'" in g[8] and "line " in g[8] for g in got)
    kept = db("select source_line from raw.treasury_lines order by 1")
    assert [k[0] for k in kept] == [2, 3, 5, 6, 8, 9]


def test_canonical_extract_takes_the_bulk_path_and_matches_the_staging_path(clean_warehouse, tmp_path):
    """The COPY-into-raw path and the staging path load identical lines (the test would notice if every
    file silently fell back to staging)."""
    from ingestion.csvload import load_csv
    from ingestion.manifest import insert
    from ntp_core.warehouse import connect

    rows = _with_unknown_codes(treasury_rows(n=12), (3,))
    rows.append(list(rows[4]))  # a re-run export repeats a line
    canon = write_csv(tmp_path / "a.csv", TREASURY_HEADER, rows)
    legacy = write_csv(tmp_path / "b.csv", TREASURY_HEADER, rows, encoding="cp1258")
    out = {}
    with connect(clean_warehouse) as conn:
        for path in (canon, legacy):
            fid = insert(
                conn,
                sha256=path.name,
                original_name=path.name,
                archive_path="-",
                size_bytes=1,
                kind="treasury_extract",
                status="loaded",
                received_at=date(2024, 4, 5),
            )
            res = load_csv(conn, Path(path), fid, today=date(2024, 4, 5))
            lines = conn.execute(
                "select source_line, period, ky_bao_cao, ma_kbnn, ma_tinh, ma_ctmt, nguon_von, loai_von, "
                "nam_kh, ma_dvqhns, ten_dvqhns, du_toan_giao, thanh_toan_trong_ky, luy_ke_thanh_toan "
                "from raw.treasury_lines where file_id = %s order by source_line",
                (fid,),
            ).fetchall()
            rejected = conn.execute(
                "select source_line, raw_value from audit.rejected_lines where file_id = %s", (fid,)
            ).fetchall()
            out[path.name] = (res, lines, rejected)
        conn.rollback()
    (bulk, bulk_lines, bulk_rej), (staged, staged_lines, staged_rej) = out["a.csv"], out["b.csv"]
    assert (bulk.method, staged.method) == ("bulk", "staging")
    assert bulk_lines == staged_lines and len(bulk_lines) == 11
    assert bulk_rej == staged_rej == [(5, UNKNOWN)]
    assert (bulk.row_count, bulk.province_code) == (staged.row_count, staged.province_code) == (11, "11")
    assert any("1 exact duplicate" in n for n in bulk.notes)
    assert any("1 exact duplicate" in n for n in staged.notes)


def test_national_file_sets_aside_lines_of_an_unknown_province(ingest, db, tmp_path):
    rows = treasury_rows(province="11", n=4) + treasury_rows(province="49", n=4)
    rows[5][2] = "99"
    res = ingest(write_csv(tmp_path / "national.csv", TREASURY_HEADER, rows))
    assert (res.status, res.province_code, res.row_count) == ("loaded", None, 7), res.error_message
    assert db("select source_line, column_name, raw_value, error_code from audit.rejected_lines") == [
        (7, "ma_tinh", "99", "unknown_province")
    ]


def test_province_file_with_an_unknown_province_is_quarantined(ingest, db, tmp_path):
    rows = treasury_rows(n=4)
    rows[1][2] = "99"
    res = ingest(write_csv(tmp_path / "k.csv", TREASURY_HEADER, rows))
    assert (res.status, res.error_code) == ("quarantined", "unknown_province")
    assert db("select error_row, error_column from audit.files") == [(3, "ma_tinh")]
    assert db("select count(*) from audit.rejected_lines") == [(0,)]
    assert db("select count(*) from raw.treasury_lines") == [(0,)]


def test_a_rejected_file_leaves_no_set_aside_line(ingest, db, tmp_path):
    rows = _with_unknown_codes(treasury_rows(n=6), (1,))
    rows[4][10] = "12,5"  # unparseable: the whole file is rejected, the set-aside line too
    res = ingest(write_csv(tmp_path / "k.csv", TREASURY_HEADER, rows))
    assert (res.status, res.error_code) == ("quarantined", "unparseable_number")
    assert db("select count(*) from audit.rejected_lines") == [(0,)]
