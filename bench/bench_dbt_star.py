"""P3 and P6: the star schema's monthly incremental build and the BI queries, at 60 months of history.

P3: `dbt build` of the star schema for one report month (`--vars '{period: …}'`) with 60 months of history,
against the same build with 1 month of history, in the same run (medians of --runs). Reported both as wall
time of the dbt command and as the sum of the incremental models' execution times (run_results.json), which
is what the history could inflate. P6: p95 of the three BI queries at 60 months.

Raw rows are synthesised in SQL (shape of the Treasury extracts and workbooks: every province of the month ×
leaf component × fund source × plan year × lines per key). Default size is modest for a shared 2-core
machine (--lines-per-key 2, ≈ 40 k Treasury lines a month); --full uses national scale (≈ 300 k a month,
18 M over 60 months). Prints its figures as JSON on its last line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from benchlib import add_common_args, dbt, emit, p95  # noqa: E402
from benchlib import target as goal  # noqa: E402

from ntp_core import warehouse  # noqa: E402

STAR = (
    "int_province_figures__current int_treasury_figures__by_plan_year int_treasury_figures__by_key "
    "fct_ntp_monthly fct_reconciliation fct_published_figures mart_disbursement_progress "
    "mart_disbursement_progress__merged mart_disbursement_regional mart_disbursement_national"
)
INCREMENTAL = set(STAR.split())
LAST = "2025-12"

POPULATE = """
with months as (
    select m::date as period
    from generate_series(%(first)s::date, %(last)s::date, interval '1 month') as m
),
units as (
    select months.period, p.province_code
    from months
    join (select province_code, '2008' as era from reference.ref_provinces_63
          union all select province_code, '2025' from reference.ref_provinces_34) as p
      on p.era = case when months.period >= date '2025-07-01' then '2025' else '2008' end
)
insert into audit.files (sha256, original_name, archive_path, size_bytes, kind, period, province_code,
                         report_date, received_at, status, row_count, unit, run_period)
select md5(kind || period || province_code), kind || '_' || province_code || '_' || period, 'bench', 1, kind,
       period, province_code, period + 35, now(), 'loaded', 0, 'trieu_dong', period
from units cross join (values ('province_workbook'), ('treasury_extract')) as k (kind);

insert into raw.province_report_cells
select f.file_id, case c.capital_type when 'DTPT' then 'Biểu 01a' else 'Biểu 01b' end, 10, 'D', f.period,
       f.province_code, c.capital_type, null, c.component_key, c.component_key, b.block, m.measure, fs.fund,
       (1000 + (hashtext(f.province_code || c.component_key) & 1023)) * 1000000 *
           case m.measure when 'plan_assigned' then 10 when 'allocated' then 9
                else extract(month from f.period) * 0.6 end, null
from audit.files f
join staging.int_components__by_capital_type c on true
cross join (values ('current'), ('carryover')) as b (block)
cross join (values ('plan_assigned'), ('allocated'), ('disbursed_cumulative')) as m (measure)
cross join (values ('NSTW'), ('NSDP')) as fs (fund)
where f.kind = 'province_workbook' and f.period between %(first)s::date and %(last)s::date;

insert into raw.treasury_lines
select f.file_id, row_number() over (partition by f.file_id) + 1, f.period, '0000', f.province_code,
       rc.treasury_code, fs.fund, c.capital_type, extract(year from f.period)::int - y.back, '1000000',
       'bench', 900000000, 10000000, 10000000 * extract(month from f.period)::int
from audit.files f
join staging.int_components__by_capital_type c on c.is_leaf
join reference.ref_components rc on rc.component_key = c.component_key
cross join (values ('NSTW'), ('NSDP')) as fs (fund)
cross join (values (0), (1), (2)) as y (back)
cross join generate_series(1, %(lines)s) as l (n)
where f.kind = 'treasury_extract' and f.period between %(first)s::date and %(last)s::date;
"""

BI_QUERIES = {
    "rate_by_province_program_month": """
        select province_name, program_name_en, month_label_en, disbursement_rate_pct,
               treasury_disbursement_rate_pct
        from marts.mart_disbursement_progress
        where period = date '2025-12-01' and plan_block = 'current' order by province_name, program_key""",
    "province_12_month_trend": """
        select period, program_key, province_disbursed_cumulative_vnd, disbursement_rate_pct, pace_gap_pct
        from marts.mart_disbursement_progress__merged
        where province_code_2025 = '48' and plan_block = 'current'
          and period between date '2025-01-01' and date '2025-12-01' order by period, program_key""",
    "national_totals": """
        select period, program_key, plan_assigned_vnd, province_disbursed_cumulative_vnd,
               disbursement_rate_pct
        from marts.mart_disbursement_national where plan_block = 'current' and year = 2025
        order by period, program_key""",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=None, help="months of history (60; --quick: 12)")
    ap.add_argument("--lines-per-key", type=int, default=2)
    ap.add_argument("--queries", type=int, default=50)
    add_common_args(ap)  # --full: national scale, 15 lines per key (~300 k lines a month)
    args = ap.parse_args()
    lines = 15 if args.full else 1 if args.quick else args.lines_per_key
    args.months = args.months or (12 if args.quick else 60)
    if args.quick:
        args.runs = min(args.runs, 2)

    data_dir = Path(tempfile.mkdtemp(prefix="ntp-bench-dbt-"))
    os.environ["NTP_DATA_DIR"] = str(data_dir)
    os.environ.pop("WAREHOUSE_URL", None)
    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    env = dict(os.environ, **warehouse.libpq_env(url), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    target = data_dir / "target"
    index = 2025 * 12 + 11 - (args.months - 1)  # months counted back from December 2025
    first_of_history = f"{index // 12}-{index % 12 + 1:02d}"
    last = LAST + "-01"
    try:
        dbt(env, target, "build")  # seeds, views and empty tables

        def populate(first: str) -> int:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "truncate raw.province_report_cells, raw.treasury_lines, audit.files restart identity cascade"
                )
                for statement in POPULATE.split(";"):
                    if statement.strip():
                        conn.execute(statement, {"first": first, "last": last, "lines": lines})
                conn.execute("analyze")
                return conn.execute("select count(*) from raw.treasury_lines").fetchone()[0]

        def incremental_runs() -> tuple[list[float], list[float]]:
            dbt(env, target, "build", "--select", STAR)  # full rebuild of the history
            walls, models = [], []
            for _ in range(args.runs):
                wall, per_model = dbt(env, target, "build", "--select", STAR, "--vars", f"{{period: '{LAST}'}}")
                walls.append(wall)
                models.append(sum(t for name, t in per_model.items() if name in INCREMENTAL))
            return walls, models

        lines_1 = populate(last)
        walls_1, models_1 = incremental_runs()
        lines_n = populate(f"{first_of_history}-01")
        walls_n, models_n = incremental_runs()

        timings: dict[str, list[float]] = {name: [] for name in BI_QUERIES}
        with psycopg.connect(url) as conn:
            for name, sql in BI_QUERIES.items():
                conn.execute(sql).fetchall()
                for _ in range(args.queries):
                    t0 = time.perf_counter()
                    conn.execute(sql).fetchall()
                    timings[name].append((time.perf_counter() - t0) * 1000)
            fact_rows = conn.execute("select count(*) from marts.fct_ntp_monthly").fetchone()[0]

        w1, wn = statistics.median(walls_1), statistics.median(walls_n)
        m1, mn = statistics.median(models_1), statistics.median(models_n)
        p95s = {name: round(p95(ts), 2) for name, ts in timings.items()}
        worst = max(p95s.values())
        emit(
            "dbt_star",
            args,
            [
                goal(
                    "P3",
                    f"incremental build wall, {args.months} months / 1 month",
                    round(wn / w1, 2),
                    "<= 1.5",
                    wn / w1 <= 1.5,
                ),
                goal("P6", f"BI query p95 ms at {args.months} months (worst of 3)", worst, "<= 200", worst <= 200),
            ],
            [
                ("P3 wall of the dbt command s", round(w1, 2), round(wn, 2), round(wn / w1, 2)),
                ("P3 Σ incremental models s", round(m1, 3), round(mn, 3), round(mn / m1, 2)),
                *((f"P6 p95 ms {name}", "", p95s[name], "") for name in p95s),
            ],
            ("measure", "1 month of history", f"{args.months} months", "ratio"),
            id="P3,P6",
            months_of_history=args.months,
            treasury_lines_per_month=lines_1,
            treasury_lines_history=lines_n,
            fct_ntp_monthly_rows_history=fact_rows,
            p3_wall_s_1_month=round(w1, 2),
            p3_wall_s_history=round(wn, 2),
            p3_wall_ratio=round(wn / w1, 2),
            p3_models_s_1_month=round(m1, 3),
            p3_models_s_history=round(mn, 3),
            p3_models_ratio=round(mn / m1, 2),
            p6_p95_ms=p95s,
            p6_max_p95_ms=worst,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
