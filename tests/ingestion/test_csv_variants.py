"""Treasury and plan CSV variants: encodings, delimiters, duplicates, totals, lost zeros, bad lines."""

from __future__ import annotations

import pytest
from ingest_samples import PLAN_HEADER, TREASURY_HEADER, plan_rows, to_cp1258, treasury_rows, write_csv


def _lines(db):
    return db(
        "select source_line, ma_kbnn, ma_tinh, ma_ctmt, nguon_von, loai_von, nam_kh, ma_dvqhns, ten_dvqhns, "
        "du_toan_giao, thanh_toan_trong_ky, luy_ke_thanh_toan from raw.treasury_lines order by source_line"
    )


@pytest.fixture
def canonical_lines(ingest, db, tmp_path):
    ingest(write_csv(tmp_path / "canon.csv", TREASURY_HEADER, treasury_rows()))
    rows = _lines(db)
    db("truncate raw.province_report_cells, raw.treasury_lines, audit.files restart identity cascade")
    return rows


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("bom", {"encoding": "utf-8-sig"}),
        ("cp1258", {"encoding": "cp1258"}),
        ("semicolon", {"delimiter": ";"}),
        ("semicolon_cp1258_quoted", {"delimiter": ";", "encoding": "cp1258", "quote_all": True}),
    ],
)
def test_encoding_and_delimiter_variants(name, kwargs, canonical_lines, ingest, db, tmp_path):
    path = tmp_path / f"{name}.csv"
    if kwargs.get("encoding") == "cp1258":
        rows = treasury_rows()
        text = write_csv(
            tmp_path / "u.csv",
            TREASURY_HEADER,
            rows,
            delimiter=kwargs.get("delimiter", ","),
            quote_all=kwargs.get("quote_all", False),
        ).read_text(encoding="utf-8")
        path.write_bytes(to_cp1258(text))
        assert not text.isascii()
    else:
        write_csv(path, TREASURY_HEADER, treasury_rows(), **kwargs)
    res = ingest(path)
    assert res.status == "loaded", res.error_message
    assert _lines(db) == canonical_lines


def test_thousands_separators_inside_quoted_amounts(canonical_lines, ingest, db, tmp_path):
    rows = treasury_rows()
    for r in rows:
        for i in (9, 10, 11):
            n = int(r[i])
            r[i] = f"{n:,}"
    res = ingest(write_csv(tmp_path / "t.csv", TREASURY_HEADER, rows, quote_all=True))
    assert res.status == "loaded", res.error_message
    assert _lines(db) == canonical_lines


def test_duplicate_lines_dropped_counted_and_reported(canonical_lines, ingest, db, tmp_path):
    rows = treasury_rows()
    res = ingest(write_csv(tmp_path / "d.csv", TREASURY_HEADER, rows + [rows[1], rows[4], rows[1]]))
    assert res.status == "loaded" and res.row_count == len(rows)
    assert "3 exact duplicate line(s) dropped" in res.error_message
    assert db("select error_message from audit.files") == [(res.error_message,)]
    assert _lines(db) == canonical_lines


def test_trailing_total_line_checked_and_dropped(canonical_lines, ingest, db, tmp_path):
    rows = treasury_rows()
    sums = [str(sum(int(r[i]) for r in rows)) for i in (9, 10, 11)]
    trailer = ["Tổng cộng", "", "", "", "", "", "", "", "", *sums]
    res = ingest(write_csv(tmp_path / "t.csv", TREASURY_HEADER, rows, trailer=trailer))
    assert res.status == "loaded", res.error_message
    assert "total line" in res.error_message
    assert _lines(db) == canonical_lines


def test_total_line_that_does_not_add_up_is_rejected(ingest, db, tmp_path):
    rows = treasury_rows()
    trailer = ["Tổng cộng", "", "", "", "", "", "", "", "", "1", "2", "3"]
    res = ingest(write_csv(tmp_path / "t.csv", TREASURY_HEADER, rows, trailer=trailer))
    assert (res.status, res.error_code) == ("quarantined", "total_mismatch")
    assert db("select error_row, error_column from audit.files") == [(len(rows) + 2, "du_toan_giao")]
    assert db("select count(*) from raw.treasury_lines") == [(0,)]


def test_short_total_line_is_dropped_explicitly(canonical_lines, ingest, db, tmp_path):
    res = ingest(write_csv(tmp_path / "t.csv", TREASURY_HEADER, treasury_rows(), trailer=["Tổng cộng", "123"]))
    assert res.status == "loaded" and "total line" in res.error_message
    assert _lines(db) == canonical_lines


def test_lost_leading_zeros_restored_and_reported(ingest, db, tmp_path):
    rows = treasury_rows(province="1")  # Hà Nội, 01
    for r in rows:
        r[1] = "101"
    res = ingest(write_csv(tmp_path / "z.csv", TREASURY_HEADER, rows))
    assert (res.status, res.province_code) == ("loaded", "01"), res.error_message
    assert "ma_tinh" in res.error_message and "ma_kbnn" in res.error_message
    assert db("select distinct ma_tinh, ma_kbnn from raw.treasury_lines") == [("01", "0101")]


BAD = {
    # name: (mutate(rows) -> rows, header, code, line, column)
    "unknown_province": (lambda rs: _set(rs, 3, 2, "99"), TREASURY_HEADER, "unknown_province", 5, "ma_tinh"),
    "no_known_component": (  # one unknown code is set aside (test_set_aside.py); none known rejects
        lambda rs: [[*r[:3], "99999", *r[4:]] for r in rs],
        TREASURY_HEADER,
        "unknown_component",
        2,
        "ma_ctmt",
    ),
    "unparseable_amount": (
        lambda rs: _set(rs, 2, 10, "12,5"),
        TREASURY_HEADER,
        "unparseable_number",
        4,
        "thanh_toan_trong_ky",
    ),
    "text_amount": (
        lambda rs: _set(rs, 0, 9, "n/a"),
        TREASURY_HEADER,
        "unparseable_number",
        2,
        "du_toan_giao",
    ),
    "bad_period": (lambda rs: _set(rs, 1, 0, "2024-03"), TREASURY_HEADER, "unknown_period", 3, "ky_bao_cao"),
    "mixed_periods": (lambda rs: _set(rs, 5, 0, "202404"), TREASURY_HEADER, "mixed_periods", 7, "ky_bao_cao"),
    "future_period": (
        lambda rs: [[("209901" if i == 0 else x) for i, x in enumerate(r)] for r in rs],
        TREASURY_HEADER,
        "future_period",
        None,
        "ky_bao_cao",
    ),
    "bad_nguon_von": (lambda rs: _set(rs, 1, 4, "ODA"), TREASURY_HEADER, "invalid_code", 3, "nguon_von"),
    "plan_year_after_report": (
        lambda rs: _set(rs, 2, 6, "2025"),
        TREASURY_HEADER,
        "invalid_code",
        4,
        "nam_kh",
    ),
    "missing_column": (
        lambda rs: [r[:-1] for r in rs],
        TREASURY_HEADER.rsplit(",", 1)[0],
        "bad_csv_header",
        1,
        "luy_ke_thanh_toan",
    ),
    "unknown_header": (lambda rs: rs, "a,b,c,d,e,f,g,h,i,j,k,l", "bad_csv_header", 1, None),
    "extra_field": (lambda rs: _set(rs, 2, 11, "1,2"), TREASURY_HEADER, "bad_csv_row", 4, None),
    "only_header": (lambda rs: [], TREASURY_HEADER, "empty_file", None, None),
    "negative_allocation": (
        lambda rs: _set(rs, 3, 9, "-5000"),
        TREASURY_HEADER,
        "negative_amount",
        5,
        "du_toan_giao",
    ),
    "absurd_amount": (
        lambda rs: _set(rs, 1, 11, str(5 * 10**13)),
        TREASURY_HEADER,
        "absurd_amount",
        3,
        "luy_ke_thanh_toan",
    ),
}


def _set(rows, i, col, value):
    rows[i][col] = value
    if "," in value and col == 11:  # an unquoted delimiter: one field too many
        rows[i] = [*rows[i][:11], *value.split(",")]
    return rows


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_treasury_file_quarantined_with_line_and_column(name, ingest, db, tmp_path):
    mutate, header, code, line, column = BAD[name]
    path = write_csv(tmp_path / f"{name}.csv", header, mutate(treasury_rows()))
    res = ingest(path)
    assert (res.status, res.error_code) == ("quarantined", code), res.error_message
    got = db("select error_row, error_column, kind from audit.files")[0]
    if line:
        assert got[0] == line
    if column:
        assert got[1] == column
    assert db("select count(*) from raw.treasury_lines") == [(0,)]


def test_plan_file_variants_and_rejection(ingest, db, tmp_path):
    rows = plan_rows(province="1")
    res = ingest(write_csv(tmp_path / "p.csv", PLAN_HEADER, rows, delimiter=";", encoding="utf-8-sig"))
    assert (res.status, res.period) == ("loaded", "2024-01"), res.error_message
    assert db("select distinct ma_tinh from raw.plan_assignments") == [("01",)]
    bad = [[*r[:2], "12345", *r[3:]] for r in plan_rows(year="2025")]
    res = ingest(write_csv(tmp_path / "p2.csv", PLAN_HEADER, bad))
    assert (res.status, res.error_code) == ("quarantined", "unknown_component")
    assert db("select error_row, error_column from audit.files where status = 'quarantined'") == [(2, "ma_ctmt")]
