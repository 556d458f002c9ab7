"""Revisions supersede deterministically; loads are atomic; the inbox picks files by content."""

from __future__ import annotations

import os
import shutil
from datetime import date

import psycopg
import pytest
from ingest_samples import (
    PLAN_HEADER,
    TREASURY_HEADER,
    Variant,
    plan_rows,
    treasury_rows,
    write_csv,
    write_workbook,
)

from ingestion import manifest
from ingestion.inbox import files_for_period


def _versions(db):
    return db(
        "select report_date, replaces_note is not null, status, version from audit.files "
        "where kind = 'province_workbook' order by version"
    )


def _touch(path, ts):
    os.utime(path, (ts, ts))
    return path


@pytest.fixture
def revisions(tmp_path):
    """Original (footer 05/4), a correction (footer 12/4), a same-day replacement with a note."""
    orig = write_workbook(tmp_path / "zz_original.xlsx")
    later = write_workbook(
        tmp_path / "aa_correction.xlsx",
        Variant(footer_date="Điện Biên, ngày 12 tháng 4 năm 2024", cell_override={(2, 1): 1300}),
    )
    return orig, later


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_later_report_date_supersedes_whatever_the_delivery_order(order, revisions, ingest, db):
    files = [revisions[i] for i in order]
    for i, f in enumerate(files):  # the later-delivered file is the earlier report in order (1, 0)
        _touch(f, 1_700_000_000 + i * 100)
    results = [ingest(f) for f in files]
    assert _versions(db) == [
        (date(2024, 4, 5), False, "superseded", 1),
        (date(2024, 4, 12), False, "loaded", 2),
    ]
    # the last delivery is reported as what it became: current, or already superseded on arrival
    assert results[-1].status == ("loaded" if order == (0, 1) else "superseded")
    # both versions stay in raw
    assert db("select count(distinct file_id) from raw.province_report_cells") == [(2,)]


def test_replacement_note_wins_on_the_same_report_date(ingest, db, tmp_path):
    orig = _touch(write_workbook(tmp_path / "b.xlsx"), 1_700_000_500)
    repl = _touch(
        write_workbook(
            tmp_path / "a.xlsx",
            Variant(replaces="(Thay thế báo cáo ngày 05/4/2024)", cell_override={(2, 1): 1}),
        ),
        1_700_000_000,
    )
    ingest(orig)
    ingest(repl)
    assert _versions(db) == [
        (date(2024, 4, 5), False, "superseded", 1),
        (date(2024, 4, 5), True, "loaded", 2),
    ]


def test_equal_dates_later_delivery_wins(ingest, db, tmp_path):
    first = _touch(write_workbook(tmp_path / "z.xlsx"), 1_700_000_000)
    second = _touch(write_workbook(tmp_path / "a.xlsx", Variant(cell_override={(2, 1): 7})), 1_700_000_900)
    ingest(second)
    ingest(first)
    rows = db("select original_name, status, version from audit.files order by version")
    assert rows == [("z.xlsx", "superseded", 1), ("a.xlsx", "loaded", 2)]


def test_version_key_ignores_names_and_is_total():
    from datetime import UTC, datetime

    t = datetime(2024, 4, 6, tzinfo=UTC)
    k1 = manifest.version_key(date(2024, 4, 5), None, t, "b")
    k2 = manifest.version_key(date(2024, 4, 5), "(Thay thế báo cáo ngày 05/4/2024)", t, "a")
    k3 = manifest.version_key(None, None, t, "c")
    assert sorted([k2, k1, k3]) == [k3, k1, k2]


def test_failure_mid_load_leaves_nothing(ingest, db, tmp_path, monkeypatch):
    """An infrastructure error after the rows were copied: the whole file's transaction is rolled back."""

    def boom(*args, **kwargs):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(manifest, "recompute_versions", boom)
    with pytest.raises(psycopg.OperationalError):
        ingest(write_workbook(tmp_path / "a.xlsx"))
    with pytest.raises(psycopg.OperationalError):
        ingest(write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows()))
    assert db("select count(*) from audit.files") == [(0,)]
    assert db("select count(*) from raw.province_report_cells") == [(0,)]
    assert db("select count(*) from raw.treasury_lines") == [(0,)]
    monkeypatch.undo()
    assert ingest(tmp_path / "a.xlsx").status == "loaded"  # the retry is clean (archive is idempotent)
    assert db("select count(*) from audit.files") == [(1,)]


def test_bad_line_at_the_end_of_a_csv_leaves_no_rows(ingest, db, tmp_path):
    rows = treasury_rows(n=500)
    rows[-1][4] = "NSXX"
    res = ingest(write_csv(tmp_path / "k.csv", TREASURY_HEADER, rows))
    assert (res.status, res.error_code) == ("quarantined", "invalid_code")
    assert db("select error_row from audit.files") == [(501,)]
    assert db("select count(*) from raw.treasury_lines") == [(0,)]


def test_files_for_period_by_content(ingest, inbox, tmp_path, clean_warehouse):
    march = write_workbook(inbox / "report.xlsx")
    april = write_workbook(
        inbox / "sub" / "march-really-april.xlsx" if (inbox / "sub").mkdir() is None else "",
        Variant(period_line="Tháng 4 năm 2024"),
    )
    kbnn = write_csv(inbox / "kbnn_any_name.txt", TREASURY_HEADER, treasury_rows())
    kbnn_apr = write_csv(inbox / "kbnn2.csv", TREASURY_HEADER, treasury_rows(period="202404"))
    plan = write_csv(inbox / "qd_giao_kh.csv", PLAN_HEADER, plan_rows())
    junk = inbox / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage")
    run = date(2024, 3, 1)
    assert files_for_period(inbox, run, clean_warehouse) == sorted([march, kbnn, plan, junk])
    # A later run also takes the not-yet-ingested reports of earlier months (late or corrected ones).
    assert files_for_period(inbox, date(2024, 4, 1), clean_warehouse) == sorted(
        [april, kbnn_apr, plan, junk, march, kbnn]
    )
    assert files_for_period(inbox, date(2024, 1, 1), clean_warehouse) == sorted([plan, junk])
    for f in (junk, plan):
        ingest(f)
    assert files_for_period(inbox, run, clean_warehouse) == sorted([march, kbnn])
    assert files_for_period(inbox, date(2024, 1, 1), clean_warehouse) == [plan]
    for f in (march, kbnn):
        ingest(f)
    assert files_for_period(inbox, date(2024, 4, 1), clean_warehouse) == sorted([april, kbnn_apr])
    # A report for a later month that has begun waits for that month's run ...
    assert files_for_period(inbox, date(2024, 2, 1), clean_warehouse, today=date(2024, 5, 2)) == []
    # ... but one dated after the current month is taken at once, to be quarantined as future_period.
    assert files_for_period(inbox, date(2024, 2, 1), clean_warehouse, today=date(2024, 3, 15)) == sorted(
        [april, kbnn_apr]
    )


def test_same_content_under_two_names_is_ingested_once(ingest, db, tmp_path):
    a = write_workbook(tmp_path / "a.xlsx")
    b = tmp_path / "b.xlsx"
    shutil.copy(a, b)
    assert [ingest(a).status, ingest(b).status] == ["loaded", "duplicate"]
    assert db("select count(*) from audit.files") == [(1,)]


@pytest.mark.parametrize("unsafe_first", [True, False], ids=["unsafe_name_first", "good_name_first"])
def test_a_copy_under_a_path_like_name_never_takes_the_place_of_the_report(
    unsafe_first, ingest, db, inbox, clean_warehouse
):
    """The same bytes under a path-like name and under a proper name: the named delivery is the report,
    the other is quarantined for its name, whichever arrives first (the quarantine is keyed by name and
    content, not by content alone, so it never makes the report a duplicate)."""
    good = write_workbook(inbox / "BC_NTP_11_202403.xlsx")
    unsafe = inbox / "..\\..\\BC_NTP_11_202403.xlsx"
    shutil.copyfile(good, unsafe)
    # the run of the month takes both (a `..` name is a path-like upload, not a hidden file)
    assert files_for_period(inbox, date(2024, 3, 1), clean_warehouse, today=date(2024, 4, 20)) == sorted([good, unsafe])
    order = [unsafe, good] if unsafe_first else [good, unsafe]
    results = {path.name: ingest(path) for path in order}
    assert results[good.name].status == "loaded"
    assert (results[unsafe.name].status, results[unsafe.name].error_code) == ("quarantined", "unsafe_file_name")
    assert db("select original_name, status from audit.files order by original_name") == sorted(
        [(good.name, "loaded"), (unsafe.name, "quarantined")]
    )
    assert db("select count(*) from raw.province_report_cells")[0][0] > 0
    # delivered again: both are recognised, nothing changes
    assert ingest(good).status == "duplicate"
    again = ingest(unsafe)
    assert (again.status, again.error_code) == ("duplicate", "unsafe_file_name")
    assert len(db("select * from audit.files")) == 2
    # a later month's run does not pick either again
    assert files_for_period(inbox, date(2024, 4, 1), clean_warehouse, today=date(2024, 4, 20)) == []
