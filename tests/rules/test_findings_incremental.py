"""The findings mart built month by month (the report month in NTP_DBT_PERIOD, as the monthly DAG passes it)
and re-running a month does not duplicate: generated months with planted discrepancies, broken files and a
corrected re-delivery of January that arrives only in April's run (so a past month, its next month and the
streaks after them are re-evaluated).

The findings the correction fixed in January stay there as `resolved` rows (`resolved_by = 'revision'`):
they record what an earlier build of the month showed, which raw alone cannot reproduce (it keeps both
versions, not which one each build saw). A build from scratch therefore equals the month-by-month table
without those rows, and nothing else differs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_rules import reset_warehouse

import generator
from ingestion import load
from ntp_core import warehouse

PERIODS = "2023-01:2023-04"
CHECKSUM = """
    select count(*), md5(coalesce(string_agg(row_text, '' order by row_text), ''))
    from (select f::text as row_text from marts.fct_findings as f {where}) as rows
"""
REPRODUCIBLE = "where resolved_by is distinct from 'revision'"
#: the heap pages that hold each month's rows, summed over the months, and the table's pages holding any row
ON_DISK = """
    with placed as (select period, (ctid::text::point)[0] as page from marts.fct_findings)
    select (select sum(pages) from (select count(distinct page) as pages from placed group by period) as months),
        (select count(distinct page) from placed)
"""


def _checksum(url: str, where: str = "") -> tuple[int, str]:
    with warehouse.connect(url) as conn:
        count, digest = conn.execute(CHECKSUM.format(where=where)).fetchone()
    return count, digest


@pytest.fixture(scope="module")
def builds(warehouse_url: str, dbt, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from ntp_core.periods import period_range

    out: Path = tmp_path_factory.mktemp("incremental")
    result = generator.generate(out, PERIODS, provinces="01,11", seed=1, messy=1, plant_rate=0.05, broken=True)
    revisions = [r for r in result.ground_truth if r["rule_id"] == "REVISION"]
    assert [r["period"] for r in revisions] == ["2023-01"], revisions
    revised = out / revisions[0]["file"]
    revised.rename(out / "2023-04" / revised.name)

    reset_warehouse(warehouse_url)
    months = period_range(PERIODS)
    with warehouse.connect(warehouse_url) as conn:
        revision_unseen_before_april = True
        for month in months:
            folder = out / month.strftime("%Y-%m")
            for path in sorted(folder.iterdir(), key=lambda p: (not p.name.startswith("KHV"), p.name)):
                load.ingest_file(path, warehouse_url=warehouse_url, run_period=month)
            label = month.strftime("%Y-%m")
            if month == months[0]:
                dbt(
                    "build",
                    "--select",
                    "+fct_findings",
                    "--full-refresh",
                    "--indirect-selection",
                    "cautious",
                    period=label,
                )
            else:
                dbt("run", "--select", "+fct_findings", period=label)
            if month == months[-2]:
                revision_unseen_before_april = not conn.execute(
                    "select count(*) from audit.files where original_name = %s", (revised.name,)
                ).fetchone()[0]
    incremental = _checksum(warehouse_url)
    reproducible = _checksum(warehouse_url, REPRODUCIBLE)
    dbt("run", "--select", "+fct_findings", period="2023-04")
    rerun = _checksum(warehouse_url)
    with warehouse.connect(warehouse_url) as conn:
        statuses = dict(conn.execute("select status, count(*) from marts.fct_findings group by 1").fetchall())
        revision_rows = conn.execute(
            """select to_char(period, 'YYYY-MM'), status, count(*) from marts.fct_findings
               where resolved_by = 'revision' group by 1, 2 order by 1, 2"""
        ).fetchall()
    dbt("run", "--select", "+fct_findings", "--full-refresh")
    full = _checksum(warehouse_url)
    with warehouse.connect(warehouse_url) as conn:
        month_pages, table_pages = conn.execute(ON_DISK).fetchone()
    return {
        "pages": {"per_month_summed": month_pages, "table": table_pages},
        "incremental": incremental,
        "reproducible": reproducible,
        "revision_rows": revision_rows,
        "rerun": rerun,
        "full": full,
        "statuses": statuses,
        "revision_late": revision_unseen_before_april,
    }


@pytest.mark.slow
def test_month_by_month_equals_full_rebuild(builds: dict) -> None:
    assert builds["revision_late"]
    assert builds["incremental"][0] > 0
    assert {"new", "persisting", "resolved"} <= set(builds["statuses"])
    assert builds["reproducible"] == builds["full"]


@pytest.mark.slow
def test_the_findings_the_late_correction_fixed_are_resolved_in_january(builds: dict) -> None:
    rows = builds["revision_rows"]
    assert rows and {(period, status) for period, status, _count in rows} == {("2023-01", "resolved")}
    assert builds["incremental"][0] == builds["full"][0] + sum(count for *_, count in rows)


@pytest.mark.slow
def test_rerunning_a_month_does_not_duplicate(builds: dict) -> None:
    assert builds["rerun"] == builds["incremental"]


@pytest.mark.slow
def test_a_full_build_keeps_each_month_together_on_disk(builds: dict) -> None:
    """The full build writes the findings month by month (the dashboard and the alert read one month: its rows
    must sit on that month's pages, not spread one per page across the table). Two months share the page
    between them, and PostgreSQL may place a few rows on a page the month before left room in: two pages a month."""
    pages = builds["pages"]
    assert pages["table"] >= 20  # enough pages that rows spread by another order would show (≈ 3.5 × as many)
    assert pages["per_month_summed"] <= pages["table"] + 2 * 4, pages  # a shared page between months, and a spill
