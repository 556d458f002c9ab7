"""The star schema on a generated year: totals, counts, the merger view, incremental rebuilds and revisions.

One generated year (three provinces, two of them merged on 1 July 2025) goes through the real loader and the
real dbt CLI; assertions are grouped per build because each dbt invocation costs seconds.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from tests.dbt.conftest import GENERATED_MONTHS, STAR_MODELS

MARTS = (
    "fct_ntp_monthly",
    "fct_reconciliation",
    "mart_disbursement_progress",
    "mart_disbursement_progress__merged",
    "mart_disbursement_regional",
    "mart_disbursement_national",
)
MEASURES = {
    "plan_assigned": "plan_assigned_vnd",
    "allocated": "allocated_vnd",
    "disbursed_cumulative": "disbursed_cumulative_vnd",
}


def query(url: str, sql: str, params=()) -> list[tuple]:
    from ntp_core import warehouse

    with warehouse.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def checksum(url: str, table: str) -> tuple[int, str]:
    """Row count and a checksum of the ordered rows of a marts table."""
    rows = query(url, f"select t::text from marts.{table} as t order by t::text")
    return len(rows), hashlib.sha256("\n".join(r[0] for r in rows).encode()).hexdigest()


def expected_rows(out: Path) -> list[dict]:
    with open(out / "expected_totals.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(generated_year: Path, warehouse_url: str, dbt_with_env) -> Path:
    """A full build (no `period` var: every month rebuilt) of the generated year."""
    dbt_with_env("build")
    return generated_year


def test_fact_rows_equal_generated_figures(built: Path, warehouse_url: str):
    """Every non-zero figure the generator wrote is in fct_ntp_monthly with its exact VND value, and nothing else."""
    expected = {}
    for r in expected_rows(built):
        if r["source"] in ("province", "treasury"):
            key = (
                r["period"],
                r["province_code"],
                r["component_key"],
                r["fund_source"],
                r["capital_type"],
                r["plan_block"],
                r["source"],
                r["measure"],
            )
            expected[key] = int(r["value_vnd"])
    got = {}
    for row in query(
        warehouse_url,
        """
            select to_char(period, 'YYYY-MM'), province_code, component_key, fund_source, capital_type,
                   plan_block, reporting_source, plan_assigned_vnd, allocated_vnd, disbursed_cumulative_vnd
            from marts.fct_ntp_monthly""",
    ):
        *key, plan, alloc, disb = row
        for measure, value in (("plan_assigned", plan), ("allocated", alloc), ("disbursed_cumulative", disb)):
            if value:
                got[(*key, measure)] = int(value)
    assert len(got) == len(expected)
    assert got == expected


def test_national_totals_equal_generated_totals(built: Path, warehouse_url: str):
    """National roll-up = the generator's program lines (province) and the sum of its Treasury lines."""
    expected = defaultdict(int)
    for r in expected_rows(built):
        program = r["component_key"].split(".")[0]
        if r["source"] == "province" and r["component_key"] == program:  # the program line (parents = Σ children)
            expected[(r["period"], program, r["plan_block"], r["measure"], "province")] += int(r["value_vnd"])
        elif r["source"] == "treasury":
            expected[(r["period"], program, r["plan_block"], r["measure"], "treasury")] += int(r["value_vnd"])
    got = {}
    for period, program, block, plan, p_alloc, t_alloc, p_disb, t_disb in query(
        warehouse_url,
        """
            select to_char(period, 'YYYY-MM'), program_key, plan_block, plan_assigned_vnd,
                   province_allocated_vnd, treasury_allocated_vnd, province_disbursed_cumulative_vnd,
                   treasury_disbursed_cumulative_vnd
            from marts.mart_disbursement_national""",
    ):
        for measure, source, value in (
            ("plan_assigned", "province", plan),
            ("allocated", "province", p_alloc),
            ("allocated", "treasury", t_alloc),
            ("disbursed_cumulative", "province", p_disb),
            ("disbursed_cumulative", "treasury", t_disb),
        ):
            if value:
                got[(period, program, block, measure, source)] = int(value)
    assert got == dict(expected)
    # one national row per month × program × plan block that has money
    assert len(query(warehouse_url, "select 1 from marts.mart_disbursement_national")) == len({k[:3] for k in expected})
    # regional and national roll-ups agree with the province mart
    diff = query(
        warehouse_url,
        """
        with p as (select period, program_key, plan_block, sum(province_disbursed_cumulative_vnd) as d,
                          sum(plan_assigned_vnd) as plan
                   from marts.mart_disbursement_progress group by 1, 2, 3),
             r as (select period, program_key, plan_block, sum(province_disbursed_cumulative_vnd) as d,
                          sum(plan_assigned_vnd) as plan
                   from marts.mart_disbursement_regional group by 1, 2, 3),
             n as (select period, program_key, plan_block, province_disbursed_cumulative_vnd as d,
                          plan_assigned_vnd as plan from marts.mart_disbursement_national)
        select * from p full join r using (period, program_key, plan_block)
                        full join n using (period, program_key, plan_block)
        where p.d is distinct from r.d or p.d is distinct from n.d or p.plan is distinct from n.plan""",
    )
    assert diff == []


def test_rates_and_deadlines(built: Path, warehouse_url: str):
    rows = query(
        warehouse_url,
        """
        select disbursement_rate_pct, round(100.0 * published_disbursed_with_plan_vnd / published_plan_assigned_vnd, 2),
               disbursement_deadline, days_to_disbursement_deadline, allocation_deadline_passed
        from marts.mart_disbursement_progress
        where period = date '2024-03-01' and plan_block = 'current' and published_plan_assigned_vnd > 0""",
    )
    assert rows
    for rate, recomputed, deadline, days, passed in rows:
        assert rate == recomputed
        assert str(deadline) == "2025-01-31" and days == 306 and passed is False


def test_merged_province_history_equals_its_old_provinces(built: Path, warehouse_url: str):
    """Đà Nẵng after the merger (48) followed through 2024 = Đà Nẵng (48) + Quảng Nam (49) as they reported."""
    merged = query(
        warehouse_url,
        """
        select period, program_key, plan_block, plan_assigned_vnd, province_allocated_vnd,
               province_disbursed_cumulative_vnd, treasury_disbursed_cumulative_vnd, reporting_units
        from marts.mart_disbursement_progress__merged
        where province_code_2025 = '48' and extract(year from period) = 2024
        order by 1, 2, 3""",
    )
    summed = query(
        warehouse_url,
        """
        select period, program_key, plan_block, sum(plan_assigned_vnd), sum(province_allocated_vnd),
               sum(province_disbursed_cumulative_vnd), sum(treasury_disbursed_cumulative_vnd), count(*)
        from marts.mart_disbursement_progress
        where province_code in ('48', '49') and extract(year from period) = 2024
        group by 1, 2, 3 order by 1, 2, 3""",
    )
    assert len(merged) == 12 * 3 * 2
    assert merged == summed
    assert {r[-1] for r in merged} == {2}
    # Điện Biên is its own successor: the merged view equals the as-reported one
    assert query(
        warehouse_url,
        """
        select count(*) from marts.mart_disbursement_progress__merged m
        join marts.mart_disbursement_progress p using (period, program_key, plan_block)
        where m.province_code_2025 = '11' and p.province_code = '11'
          and m.province_disbursed_cumulative_vnd is distinct from p.province_disbursed_cumulative_vnd""",
    ) == [(0,)]
    # the fact carries both codes: a 2024 Quảng Nam row is found under 48
    assert query(
        warehouse_url,
        """
        select distinct province_key, province_code_2025 from marts.fct_ntp_monthly
        where province_code = '49' and period = date '2024-05-01'""",
    ) == [("49@2008", "48")]


def test_in_month_disbursement_and_merger_month(built: Path, warehouse_url: str):
    """Province in-month = cumulative − last month's; in July 2025 last month is the predecessors' June sum."""
    bad = query(
        warehouse_url,
        """
        select f.period, f.province_code, f.component_key
        from marts.fct_ntp_monthly f
        left join marts.fct_ntp_monthly prev
          on prev.period = (f.period - interval '1 month')::date and prev.province_code = f.province_code
         and prev.component_key = f.component_key and prev.fund_source = f.fund_source
         and prev.capital_type = f.capital_type and prev.plan_block = f.plan_block
         and prev.reporting_source = f.reporting_source
        where f.reporting_source = 'province' and extract(year from f.period) = 2024
          and f.disbursed_in_month_vnd is distinct from
              f.disbursed_cumulative_vnd - case when extract(month from f.period) = 1 then 0
                                                else coalesce(prev.disbursed_cumulative_vnd, 0) end""",
    )
    assert bad == []
    july = query(
        warehouse_url,
        """
        with june as (
            select component_key, fund_source, capital_type, plan_block, sum(disbursed_cumulative_vnd) as cum
            from marts.fct_ntp_monthly
            where reporting_source = 'province' and period = date '2025-06-01' and province_code in ('48', '49')
            group by 1, 2, 3, 4)
        select count(*), count(*) filter (
            where july.disbursed_in_month_vnd = july.disbursed_cumulative_vnd - coalesce(june.cum, 0))
        from marts.fct_ntp_monthly july
        left join june using (component_key, fund_source, capital_type, plan_block)
        where july.reporting_source = 'province' and july.period = date '2025-07-01'
          and july.province_code = '48'""",
    )
    assert july[0][0] > 0 and july[0][0] == july[0][1]
    # after the merger Quảng Nam no longer reports; the 2025 unit is keyed @2025
    assert query(
        warehouse_url,
        """
        select distinct province_code, province_key from marts.fct_ntp_monthly
        where period = date '2025-07-01' order by 1""",
    ) == [("11", "11@2025"), ("48", "48@2025")]


def test_incremental_month_is_idempotent_and_revision_updates_past_month(built: Path, warehouse_url: str, dbt_with_env):
    """A rerun of a month changes nothing; a revised workbook for a past month, ingested by a later month's run,
    updates that month and the next month's in-month figure; the result equals a full rebuild."""
    from ntp_core import warehouse

    before = {t: checksum(warehouse_url, t) for t in MARTS}
    # June taken out of the fact table and its statistics: the monthly build puts it back and counts it
    # before the models that read it are planned (its post-hook analyzes the index columns, period first)
    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("delete from marts.fct_ntp_monthly where period = date '2024-06-01'")
        conn.execute("analyze marts.fct_ntp_monthly")
    distinct_periods = """select n_distinct from pg_stats
        where schemaname = 'marts' and tablename = 'fct_ntp_monthly' and attname = 'period'"""
    assert query(warehouse_url, distinct_periods) == [(len(GENERATED_MONTHS) - 1,)]
    dbt_with_env("build", "--select", STAR_MODELS, "--vars", "{period: '2024-06'}")
    assert query(warehouse_url, distinct_periods) == [(len(GENERATED_MONTHS),)]
    assert {t: checksum(warehouse_url, t) for t in MARTS} == before

    # a corrected March workbook for Điện Biên arrives with the May run: version 2 supersedes version 1
    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        (old_id,) = conn.execute("""select file_id from audit.files where kind = 'province_workbook'
                                  and province_code = '11' and period = date '2024-03-01'
                                  and status = 'loaded'""").fetchone()
        (new_id,) = conn.execute(
            """
            insert into audit.files (sha256, original_name, archive_path, size_bytes, kind, period,
                province_code, report_date, received_at, status, row_count, unit, run_period, version)
            select sha256 || '-v2', original_name || ' (sửa)', archive_path, size_bytes, kind, period,
                province_code, report_date + 10, received_at + interval '10 days', 'loaded', row_count, unit,
                date '2024-05-01', 2
            from audit.files where file_id = %s returning file_id""",
            (old_id,),
        ).fetchone()
        conn.execute("update audit.files set status = 'superseded' where file_id = %s", (old_id,))
        conn.execute(
            """
            insert into raw.province_report_cells
            select %s, sheet, source_row, source_column, period, province_code, capital_type, stt,
                   component_key, component_label, plan_block, measure, fund_source,
                   case when measure = 'disbursed_cumulative' and plan_block = 'current'
                        then value + 7000000 else value end,
                   value_as_reported
            from raw.province_report_cells where file_id = %s""",
            (new_id, old_id),
        )
    march_before = query(
        warehouse_url,
        """select sum(disbursed_cumulative_vnd) from marts.fct_ntp_monthly
        where period = date '2024-03-01' and province_code = '11' and reporting_source = 'province'
          and plan_block = 'current'""",
    )[0][0]
    untouched_before = checksum(warehouse_url, "mart_disbursement_progress__merged")

    dbt_with_env("build", "--select", STAR_MODELS, "--vars", "{period: '2024-05'}")
    n_current = query(
        warehouse_url,
        """select count(*) from marts.fct_ntp_monthly
        where period = date '2024-03-01' and province_code = '11' and reporting_source = 'province'
          and plan_block = 'current' and disbursed_cumulative_vnd is not null""",
    )[0][0]
    march_after, file_ids = query(
        warehouse_url,
        """
        select sum(disbursed_cumulative_vnd), array_agg(distinct file_id) from marts.fct_ntp_monthly
        where period = date '2024-03-01' and province_code = '11' and reporting_source = 'province'
          and plan_block = 'current'""",
    )[0]
    assert file_ids == [new_id]
    assert march_after - march_before == 7000000 * n_current
    # April's in-month disbursement is measured against the revised March
    april_bad = query(
        warehouse_url,
        """
        select count(*) from marts.fct_ntp_monthly a join marts.fct_ntp_monthly m
          on m.period = date '2024-03-01' and a.period = date '2024-04-01' and a.province_code = m.province_code
         and a.component_key = m.component_key and a.fund_source = m.fund_source
         and a.capital_type = m.capital_type and a.plan_block = m.plan_block
         and a.reporting_source = m.reporting_source
        where a.reporting_source = 'province' and a.province_code = '11'
          and a.disbursed_in_month_vnd <> a.disbursed_cumulative_vnd - m.disbursed_cumulative_vnd""",
    )
    assert april_bad == [(0,)]
    assert checksum(warehouse_url, "mart_disbursement_progress__merged") != untouched_before

    incremental = {t: checksum(warehouse_url, t) for t in MARTS}
    dbt_with_env("build", "--select", STAR_MODELS)  # no period: every month rebuilt
    assert {t: checksum(warehouse_url, t) for t in MARTS} == incremental


def test_late_plan_file_updates_every_month_of_its_plan_year(built: Path, warehouse_url: str, dbt_with_env, tmp_path):
    """A revised plan file for 2024 arrives with the September run: the plan is a figure of every month of its
    year, so the published plan of May (a month the run would not otherwise rebuild) moves by the revision,
    and the result equals a full rebuild."""
    from ingestion.load import ingest_file

    original = built / "2024-01" / "KHV_giao_2024.csv"
    header, first, *rest = original.read_text(encoding="utf-8").splitlines()
    columns = header.split(",")
    fields = first.split(",")
    province = fields[columns.index("ma_tinh")].zfill(2)
    fields[columns.index("ke_hoach_giao")] = str(int(fields[columns.index("ke_hoach_giao")]) + 5_000_000_000)
    revised = tmp_path / original.name
    revised.write_text("\n".join([header, ",".join(fields), *rest]) + "\n", encoding="utf-8")

    plan_of = """select coalesce(sum(plan_file_plan_assigned_vnd), 0) from marts.fct_published_figures
        where period = %s and province_code = %s"""
    months = [date(2024, m, 1) for m in (1, 5, 9)]
    before = {m: query(warehouse_url, plan_of, (m, province))[0][0] for m in months}

    result = ingest_file(revised, warehouse_url=warehouse_url, run_period=date(2024, 9, 1))
    assert result.status == "loaded", result
    dbt_with_env("build", "--select", STAR_MODELS, "--vars", "{period: '2024-09'}")
    after = {m: query(warehouse_url, plan_of, (m, province))[0][0] for m in months}
    assert {m: after[m] - before[m] for m in months} == {m: 5_000_000_000 for m in months}

    incremental = {t: checksum(warehouse_url, t) for t in MARTS}
    dbt_with_env("build", "--select", STAR_MODELS)  # no period: every month rebuilt
    assert {t: checksum(warehouse_url, t) for t in MARTS} == incremental


def test_cell_value_tests_read_the_rebuilt_months(built: Path, warehouse_url: str, dbt):
    """A workbook cell outside the contract fails the value tests of the build that rebuilds its month, and
    a later month's build does not read it again: the tests of the growing tables read only the months a
    run rebuilds (March's run rebuilds March and April; June's, June and July)."""
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        ctid, was = conn.execute(
            "select ctid::text, capital_type from raw.province_report_cells where period = date '2024-03-01' limit 1"
        ).fetchone()
        # a ctid names a row within one partition: the month's condition picks March's partition
        conn.execute(
            "update raw.province_report_cells set capital_type = 'XX' "
            "where period = date '2024-03-01' and ctid = %s::tid",
            (ctid,),
        )
    try:
        march = dbt("test", "--select", "stg_province__report_cells", check=False, period="2024-03")
        assert march.returncode != 0
        assert "Failure in test accepted_values_stg_province__report_cells_capital_type" in march.stdout
        assert query(warehouse_url, "select count(*) from raw.province_report_cells where capital_type = 'XX'") == [
            (1,)
        ]
        dbt("test", "--select", "stg_province__report_cells", period="2024-06")  # raises if a test fails
    finally:
        with warehouse.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(
                "update raw.province_report_cells set capital_type = %s "
                "where period = date '2024-03-01' and capital_type = 'XX'",
                (was,),
            )
