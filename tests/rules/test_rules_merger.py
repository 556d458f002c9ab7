"""Across the 1 July 2025 merger: 34 provinces expected from July, last month = sum of the predecessors (T01,
T02), and re-running a month's build does not duplicate findings."""

from __future__ import annotations

from datetime import date

import pytest
from rule_builders import M, Workbook, findings, load_treasury, load_workbook, treasury_lines_of

from ntp_core import reference

ND02 = ("DTPT", "NTM.ND02", "current", "NSTW")
TDA1 = ("DTPT", "GNBV.DA4.TDA1", "current", "NSTW")
JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)


def load_merger(conn) -> None:
    # Tuyên Quang (08) = Hà Giang (02) + Tuyên Quang (08) from July.
    for code, disb in (("02", 300 * M), ("08", 500 * M)):
        wb = Workbook(code, JUNE, {ND02: (2_000 * M, 2_000 * M, disb), TDA1: (1_000 * M, 1_000 * M, disb)})
        load_workbook(conn, wb)
        load_treasury(conn, JUNE, code, treasury_lines_of(wb))
    # July: ND02 fell 30 M below the predecessors' June sum (800 M) in both sources; TDA1 grew (pass), and
    # its plan doubled with the merger (2 × 1,000 M: no unit-scale suspicion).
    wb = Workbook("08", JULY, {ND02: (4_000 * M, 4_000 * M, 770 * M), TDA1: (2_000 * M, 2_000 * M, 900 * M)})
    load_workbook(conn, wb)
    load_treasury(conn, JULY, "08", treasury_lines_of(wb))


@pytest.fixture(scope="module")
def db(scenario):
    return scenario(load_merger)


def test_t01_compares_with_the_predecessors_sum(db) -> None:
    rows = findings(db, "NTP-T01")
    assert [
        (r["period"], r["province_code"], r["component_key"], r["subject"], r["expected_vnd"], r["delta_vnd"])
        for r in rows
    ] == [
        ("2025-07", "08", "NTM.ND02", "province", 800 * M, -30 * M),
        ("2025-07", "08", "NTM.ND02", "treasury", 800 * M, -30 * M),
    ]
    assert not findings(db, "NTP-T02")


def test_c01_expects_34_provinces_from_july(db) -> None:
    july = findings(db, "NTP-C01", period="2025-07")
    assert len({r["province_code"] for r in july}) == len(reference.provinces_34()) - 1 == 33
    june = findings(db, "NTP-C01", period="2025-06")
    assert len({r["province_code"] for r in june}) == 63 - 2


def test_rebuild_does_not_duplicate(db, dbt) -> None:
    before = db.execute("select count(*) from marts.fct_findings").fetchone()[0]
    dbt("build", "--select", "fct_findings")
    after = db.execute("select count(*) from marts.fct_findings").fetchone()[0]
    dupes = db.execute(
        "select count(*) from (select finding_key, period from marts.fct_findings group by 1, 2 having count(*) > 1) d"
    ).fetchone()[0]
    assert before == after and dupes == 0
