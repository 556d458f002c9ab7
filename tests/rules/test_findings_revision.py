"""R4 at the dbt level: a corrected workbook for a past month, delivered in a later month's run, resolves
the findings it fixed in that month (`resolved_by = 'revision'`) instead of letting them vanish; re-running
the month keeps them resolved without duplicates; a build from scratch shows exactly the other rows.

Province 01, February and March 2024: the first February workbook reports an allocation 50 M above the
Treasury's on one line (NTP-A01), March reports it too; the corrected February workbook (the first one
superseded, both stay in raw) arrives in March's run."""

from __future__ import annotations

from datetime import date

import pytest
from conftest_rules import reset_warehouse
from rule_builders import M, Workbook, load_treasury, load_workbook, treasury_lines_of

from ntp_core import warehouse

FEB, MAR = date(2024, 2, 1), date(2024, 3, 1)
ND02 = ("DTPT", "NTM.ND02", "current", "NSTW")
ROWS = """
    select finding_key, rule_id, to_char(period, 'YYYY-MM'), status, resolved_by,
           to_char(first_seen_period, 'YYYY-MM'), province_value_vnd, treasury_value_vnd, delta_vnd
    from marts.fct_findings where rule_id = 'NTP-A01' and province_code = '01' order by period
"""
CHECKSUM = """
    select count(*), md5(coalesce(string_agg(row_text, '' order by row_text), ''))
    from (select f::text as row_text from marts.fct_findings as f {where}) as rows
"""


def _leaves(month: int) -> dict:
    return {ND02: (10_000 * M, 10_000 * M, 1_000 * M * month)}


def _load_month(conn, period: date, *, planted: bool) -> int:
    workbook = Workbook("01", period, _leaves(period.month))
    if planted:
        plan, alloc, disb = workbook.leaves[ND02]
        workbook.leaves[ND02] = (plan, alloc + 50 * M, disb)
    file_id = load_workbook(conn, workbook)
    load_treasury(conn, period, "01", treasury_lines_of(Workbook("01", period, _leaves(period.month))))
    return file_id


def _checksum(conn, where: str = "") -> tuple[int, str]:
    return conn.execute(CHECKSUM.format(where=where)).fetchone()


@pytest.fixture(scope="module")
def builds(warehouse_url: str, dbt) -> dict:
    reset_warehouse(warehouse_url)
    out: dict = {}
    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        first = _load_month(conn, FEB, planted=True)
        dbt(
            "build",
            "--select",
            "+fct_findings",
            "--full-refresh",
            "--vars",
            "{period: '2024-02'}",
            "--indirect-selection",
            "cautious",
        )
        _load_month(conn, MAR, planted=True)
        dbt("run", "--select", "+fct_findings", "--vars", "{period: '2024-03'}")
        out["before"] = conn.execute(ROWS).fetchall()
        # The corrected February workbook arrives in March's run: the first version is superseded.
        conn.execute("update audit.files set status = 'superseded' where file_id = %s", (first,))
        corrected = load_workbook(conn, Workbook("01", FEB, _leaves(2)), name="BC_NTP_01_202402_thay_the.xlsx")
        conn.execute("update audit.files set run_period = %s where file_id = %s", (MAR, corrected))
        dbt("run", "--select", "+fct_findings", "--vars", "{period: '2024-03'}")
        dbt("test", "--select", "fct_findings", "--vars", "{period: '2024-03'}")
        out["after"] = conn.execute(ROWS).fetchall()
        out["incremental"] = _checksum(conn)
        out["reproducible"] = _checksum(conn, "where resolved_by is distinct from 'revision'")
        dbt("run", "--select", "+fct_findings", "--vars", "{period: '2024-03'}")
        out["rerun_rows"] = conn.execute(ROWS).fetchall()
        out["rerun"] = _checksum(conn)
        dbt("run", "--select", "+fct_findings")
        out["in_place"] = _checksum(conn)
        dbt("run", "--select", "+fct_findings", "--full-refresh")
        out["from_scratch_rows"] = conn.execute(ROWS).fetchall()
        out["from_scratch"] = _checksum(conn)
    return out


def test_the_finding_is_open_in_both_months_before_the_correction(builds: dict) -> None:
    assert [(r[2], r[3], r[4]) for r in builds["before"]] == [
        ("2024-02", "new", None),
        ("2024-03", "persisting", None),
    ]


def test_the_correction_resolves_the_finding_in_its_month(builds: dict) -> None:
    before_feb, after = builds["before"][0], builds["after"]
    feb = [r for r in after if r[2] == "2024-02"]
    assert len(feb) == 1
    key, _rule, _period, status, resolved_by, first_seen, province, treasury, delta = feb[0]
    assert (status, resolved_by, first_seen) == ("resolved", "revision", "2024-02")
    # the values of the build it replaced
    assert (key, province, treasury, delta) == (before_feb[0], *before_feb[6:])
    assert delta == 50 * M
    # March still reports the wrong figure: a new streak starts there
    assert [(r[2], r[3], r[4], r[5]) for r in after if r[2] == "2024-03"] == [("2024-03", "new", None, "2024-03")]


def test_rerunning_the_month_keeps_it_resolved(builds: dict) -> None:
    assert builds["rerun_rows"] == builds["after"]
    assert builds["rerun"] == builds["incremental"]


def test_an_in_place_rebuild_keeps_the_revision_history(builds: dict) -> None:
    assert builds["in_place"] == builds["incremental"]


def test_a_build_from_scratch_shows_what_raw_reproduces(builds: dict) -> None:
    assert [(r[2], r[3]) for r in builds["from_scratch_rows"]] == [("2024-03", "new")]
    assert builds["from_scratch"] == builds["reproducible"]
    assert builds["from_scratch"] != builds["incremental"]
