"""P3 and P6 on real loaded history: N months through the real loader, then a month's build and the BI queries.

    python bench/bench_history.py [--months 60] [--scale national] [--provinces all] [--inbox DIR]
                                  [--quick | --full] [--queries 50] [--keep]

In one run, on this machine, in this order:

1. **speed reference** — raw `COPY` of 1 M Treasury lines into an unindexed all-text table (rows/s), and
   `uptime`'s load, the yardsticks every absolute figure here is read against;
2. the generator writes N consecutive months ending with the last complete month (one national Treasury
   extract a month, the provinces' workbooks, the plan files), unless `--inbox` holds them already
   (`DIR/<YYYY-MM>/…`, as the generator writes one month per call); with `--generated ends`, each January
   between also gets its year's plan file (re-dated from the first or last month's), as a backfill receives
   it, so month N's plan file is a duplicate rather than a late revision of its January;
3. **month 1**: the ingestion library on its files (`ingest_files`, 2 workers), `dbt build` of the month (it
   creates every table), then the same `dbt build --vars '{period: month 1}'` again: the incremental
   build of a month with one month of history, per model (run_results.json);
4. **history**: months 2 … N-1 through the same loader, month after month (lines/s per month: a load must
   not slow down as the raw tables grow; with each load, the autovacuum workers running at its start and
   end, and the checkpoints the server has completed so far), then one `dbt run` of that history
   (every month into the marts),
   then month N as a monthly run meets it: its files through the loader, `dbt build --vars '{period: month
   N}'` (its first build, reported apart), then the same build again: the incremental build timed, as for
   month 1, with N months of history;
5. **plans**: `EXPLAIN (ANALYZE)` of `int_treasury_figures__by_plan_year`'s compiled month-N query as it is
   (the rebuilt months as literal dates) and without its period filter (the lines reached through the
   current files' ids only, as before partitioning): raw partitions scanned, lines read, milliseconds;
6. **P6**: the three BI queries on the marts at month N (disbursement rate by province × program × month;
   one province's 12-month trend; national totals), as the read-only role `ntp_bi`, p95 of --queries runs;
   and that `ntp_bi` cannot read raw.

P3 = month N / month 1 per incremental model (target ≤ 1.5) and for their sum, each model timed alone: after
each timed build, `dbt run --threads 1` of the month `--alone-runs` times, the median per model
(benchlib.models_alone; models under --min-model-s alone at month 1 are listed but not judged); the timed
build's own node times are kept beside them. --quick: 3 months, 4 provinces, 3 lines per key (≈ 0.1× national);
default and --full: 60 national months (≈ 18 M Treasury lines, 3,780 workbooks; hours on a 2-core machine).
Prints its figures as JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg  # noqa: E402
from bench_pipeline import months_from, raw_copy_rows_per_s  # noqa: E402
from benchlib import add_common_args, dbt, emit, median, models_alone, p95, target  # noqa: E402

from generator import generate  # noqa: E402
from ingestion.load import ingest_files  # noqa: E402
from ntp_core import warehouse  # noqa: E402
from ntp_core.warehouse import BI_ROLE  # noqa: E402

DBT_DIR = ROOT / "dbt_project"
MERGER = date(2025, 7, 1)  # provinces merged (NQ 202/2025/QH15): Treasury codes change
ANSWER_KEYS = ("expected_totals.csv", "ground_truth.csv")  # the generator's truth, not deliveries
BY_PLAN_YEAR = "int_treasury_figures__by_plan_year"

BI_QUERIES = {
    "rate_by_province_program_month": """
        select province_name, program_name_en, month_label_en, disbursement_rate_pct,
               treasury_disbursement_rate_pct
        from marts.mart_disbursement_progress
        where period = %(last)s and plan_block = 'current' order by province_name, program_key""",
    "province_12_month_trend": """
        select period, program_key, province_disbursed_cumulative_vnd, disbursement_rate_pct, pace_gap_pct
        from marts.mart_disbursement_progress__merged
        where province_code_2025 = %(province)s and plan_block = 'current'
          and period between %(first12)s and %(last)s order by period, program_key""",
    "national_totals": """
        select period, program_key, plan_assigned_vnd, province_disbursed_cumulative_vnd,
               disbursement_rate_pct
        from marts.mart_disbursement_national where plan_block = 'current' and year = %(year)s
        order by period, program_key""",
}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def month_files(inbox: Path, month: date) -> list[Path]:
    folder = inbox / month.strftime("%Y-%m")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in ANSWER_KEYS)


def redate_treasury(inbox: Path, template: date, month: date) -> None:
    """The generator's national Treasury extract of `template`, delivered again as `month`'s: ky_bao_cao set to
    the month and every plan year moved by the years between (so carried-over capital stays carried over).
    Only the Treasury extract: a month made this way has no workbooks and no plan file."""
    src = next(p for p in month_files(inbox, template) if p.name.startswith("KBNN_toanquoc_"))
    dest = inbox / month.strftime("%Y-%m") / month.strftime("%Y-%m") / f"KBNN_toanquoc_{month:%Y%m}.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shift = month.year - template.year
    ky = month.strftime("%Y%m")
    with open(src, encoding="utf-8", newline="") as f, open(dest, "w", encoding="utf-8", newline="") as out:
        header = f.readline()
        cols = header.rstrip("\r\n").split(",")
        i_ky, i_nam = cols.index("ky_bao_cao"), cols.index("nam_kh")
        out.write(header)
        for line in f:
            parts = line.split(",")
            parts[i_ky] = ky
            parts[i_nam] = str(int(parts[i_nam]) + shift)
            out.write(",".join(parts))
    ts = datetime(month.year + (month.month == 12), month.month % 12 + 1, 5).timestamp()
    os.utime(dest, (ts, ts))


def redate_plan(inbox: Path, template: date, month: date) -> None:
    """The generator's plan file of `template`'s year, delivered with January `month` as that year's plan file
    (`nam_kh` moved by the years between), as a backfill receives each year's plan early in the year. Month N's
    own plan file is then a duplicate of the one its January loaded, not a late file that revises January and
    re-evaluates the whole year (which month 1, the first of its history, cannot be compared with)."""
    if any(p.name.startswith("KHV_giao_") for p in month_files(inbox, month)):
        return
    src = next(p for p in month_files(inbox, template) if p.name.startswith("KHV_giao_"))
    dest = inbox / month.strftime("%Y-%m") / month.strftime("%Y-%m") / f"KHV_giao_{month.year}.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shift = month.year - template.year
    if shift == 0:  # the same bytes: month N's copy is a duplicate
        shutil.copyfile(src, dest)
    else:
        redate_plan_lines(src, dest, shift)
    ts = datetime(month.year, 1, 20).timestamp()
    os.utime(dest, (ts, ts))


def redate_plan_lines(src: Path, dest: Path, shift: int) -> None:
    with open(src, encoding="utf-8", newline="") as f, open(dest, "w", encoding="utf-8", newline="") as out:
        header = f.readline()
        i_nam = header.rstrip("\r\n").split(",").index("nam_kh")
        out.write(header)
        for line in f:
            parts = line.split(",")
            parts[i_nam] = str(int(parts[i_nam]) + shift)
            out.write(",".join(parts))


def incremental_models() -> set[str]:
    return {
        p.stem
        for p in (DBT_DIR / "models").rglob("*.sql")
        if re.search(r"materialized\s*=\s*'incremental'", p.read_text()[:600])
    }


def plan_summary(conn, query: str) -> dict:
    """Execution time, raw Treasury partitions scanned and lines read, from EXPLAIN (ANALYZE, FORMAT JSON)."""
    plan = conn.execute("explain (analyze, format json) " + query).fetchone()[0][0]
    scans: dict[str, int] = {}

    def walk(node: dict) -> None:
        rel = node.get("Relation Name", "")
        if rel.startswith("treasury_lines"):
            loops = node.get("Actual Loops", 1) or 1
            scans[rel] = scans.get(rel, 0) + int(node.get("Actual Rows", 0)) * loops
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {
        "execution_ms": round(plan["Execution Time"], 1),
        "treasury_partitions_scanned": len(scans),
        "treasury_lines_read": sum(scans.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--months", type=int, default=None, help="months of history (60; --quick: 3)")
    ap.add_argument("--scale", default=None, help="`national` or Treasury lines per key (--quick: 3)")
    ap.add_argument("--provinces", default=None, help="`all` or GSO codes (--quick: 01,11,12,14)")
    ap.add_argument("--inbox", type=Path, default=None, help="generated months already on disk, DIR/<YYYY-MM>/")
    ap.add_argument(
        "--generated",
        choices=("all", "ends"),
        default=None,
        help="months written by the generator: all (--quick) or the first and last, the Treasury extracts of the "
        "others re-dated from them (default: ends; 3,780 workbooks take hours on 2 cores)",
    )
    ap.add_argument("--queries", type=int, default=50, help="runs of each BI query")
    ap.add_argument(
        "--min-model-s", type=float, default=0.2, help="judge per-model growth from this time alone at month 1"
    )
    ap.add_argument("--alone-runs", type=int, default=3, help="one-thread rebuilds of months 1 and N, per model")
    ap.add_argument("--keep", action="store_true", help="keep the data directory and generated files")
    add_common_args(ap, runs=1)
    args = ap.parse_args()
    n = args.months or (3 if args.quick else 60)
    scale = args.scale or ("3" if args.quick else "national")
    provinces = args.provinces or ("01,11,12,14" if args.quick else "all")
    args.generated = args.generated or ("all" if args.quick else "ends")
    today = date.today().replace(day=1)
    index = today.year * 12 + today.month - 1 - n  # N months ending with the last complete one
    months = months_from(date(index // 12, index % 12 + 1, 1), n)

    work = Path(tempfile.mkdtemp(prefix="bench-history-"))
    data = work / "data"
    os.environ["NTP_DATA_DIR"] = str(data)
    os.environ.pop("WAREHOUSE_URL", None)
    bi_password = secrets.token_urlsafe(18)
    os.environ["NTP_BI_PASSWORD"] = bi_password  # the embedded server lets ntp_bi log in with it

    load_start = uptime()
    print(load_start, flush=True)
    try:
        server = warehouse.embedded()
        server.start()
        url = server.url()
        warehouse.bootstrap(url)
        copy_rps = raw_copy_rows_per_s(data, work)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop table public.bench_copy")
        print(f"speed reference: raw COPY {copy_rps:,.0f} rows/s", flush=True)

        inbox = args.inbox or work / "inbox"

        t = time.perf_counter()
        gen_scale: str | int = scale if scale == "national" else int(scale)
        plist = "all" if provinces == "all" else provinces.split(",")
        generated = [m for m in months if args.generated == "all" or m in (months[0], months[-1])]
        for m in generated:
            if not month_files(inbox, m):
                generate(inbox / m.strftime("%Y-%m"), [m], provinces=plist, scale=gen_scale, treasury="national")
        for m in months:
            if m not in generated and not month_files(inbox, m):
                redate_treasury(inbox, months[0] if m < MERGER else months[-1], m)
        for m in months[1:]:
            if m.month == 1:
                redate_plan(inbox, months[0] if m < MERGER else months[-1], m)
        print(f"generated {len(generated)} month(s), re-dated {n - len(generated)} in {time.perf_counter() - t:.0f} s")

        env = dict(os.environ, **warehouse.libpq_env(url), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
        env.pop("NTP_BI_PASSWORD", None)
        tgt = work / "dbt-target"
        loads: list[dict[str, Any]] = []

        def background() -> tuple[list[str], int]:
            """The server's background work right now: its autovacuum workers' commands, and the checkpoints
            it has completed so far."""
            with psycopg.connect(url, autocommit=True) as conn:
                rows = conn.execute(
                    "select query from pg_stat_activity where backend_type = 'autovacuum worker' order by 1"
                ).fetchall()
                done = conn.execute("select checkpoints_timed + checkpoints_req from pg_stat_bgwriter").fetchone()
            return [r[0].removeprefix("autovacuum: ") for r in rows], done[0] if done else 0

        def load(m: date) -> None:
            files = month_files(inbox, m)
            before, checkpoints_before = background()
            t0 = time.perf_counter()
            results = ingest_files(files, warehouse_url=url, run_period=m, workers=2)
            wall = time.perf_counter() - t0
            after, checkpoints_after = background()
            bad = [r for r in results if r.status not in ("loaded", "superseded", "duplicate")]
            lines = sum(r.row_count for r in results if r.kind == "treasury_extract")
            loads.append(
                {
                    "month": m.strftime("%Y-%m"),
                    "files": len(files),
                    "not_loaded": len(bad),
                    "treasury_lines": lines,
                    "ingest_s": round(wall, 1),
                    "lines_per_s": round(lines / wall),
                    "autovacuum_at_start": before,
                    "autovacuum_at_end": after,
                    "checkpoints_at_start": checkpoints_before,
                    "checkpoints_at_end": checkpoints_after,
                }
            )
            print(json.dumps(loads[-1]), flush=True)

        def build(m: date) -> tuple[float, dict[str, float]]:
            return dbt(env, tgt, "build", "--vars", json.dumps({"period": m.strftime("%Y-%m")}), models_only=True)

        load(months[0])
        build(months[0])  # creates every table
        wall_1, models_1 = build(months[0])  # the incremental build of month 1, one month of history
        print(f"month 1 incremental build {wall_1:.0f} s", flush=True)
        alone_1 = models_alone(env, work / "dbt-alone", months[0].strftime("%Y-%m"), args.alone_runs)
        for m in months[1:-1]:
            load(m)
        t = time.perf_counter()
        dbt(env, tgt, "run", models_only=True)  # every month so far into the marts
        history_build_s = time.perf_counter() - t
        print(f"history built in {history_build_s:.0f} s", flush=True)
        # month N as the monthly run meets it: its files loaded just before its build, not before a build of
        # the whole history (which would leave the month's raw partition out of the server's cache)
        load(months[-1])
        first_wall_n, first_models_n = build(months[-1])
        print(f"month {n} first build {first_wall_n:.0f} s", flush=True)
        wall_n, models_n = build(months[-1])  # the same build again, as timed for month 1
        print(f"month {n} incremental build {wall_n:.0f} s", flush=True)
        alone_n = models_alone(env, work / "dbt-alone", months[-1].strftime("%Y-%m"), args.alone_runs)

        compiled = next((tgt / "compiled").rglob(f"{BY_PLAN_YEAR}.sql")).read_text()
        before_sql = re.sub(r"where\s+stg\.period\s+in\s*\([^)]*\)", "where true", compiled)
        with psycopg.connect(url, autocommit=True) as conn:
            plans = {"after": plan_summary(conn, compiled), "before": plan_summary(conn, before_sql)}
            raw = conn.execute(
                "select count(*) filter (where c.relname like 'treasury_lines_p%%'), "
                "(select count(*) from raw.treasury_lines), "
                "pg_size_pretty(sum(pg_total_relation_size(c.oid))) from pg_class c "
                "join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'raw' and c.relkind = 'r'"
            ).fetchone()
            assert raw is not None
        print(json.dumps({"plans": plans}), flush=True)

        last = months[-1]
        params = {
            "last": last,
            "first12": months[-12] if n >= 12 else months[0],
            "province": "01",  # Hà Nội, the same code in both eras
            "year": last.year,
        }
        bi_url = psycopg.conninfo.make_conninfo(url, user=BI_ROLE, password=bi_password)
        timings: dict[str, list[float]] = {name: [] for name in BI_QUERIES}
        with psycopg.connect(bi_url, autocommit=True) as bi:
            try:
                bi.execute("select 1 from raw.treasury_lines limit 1")
                bi_sees_raw = True
            except psycopg.errors.InsufficientPrivilege:
                bi_sees_raw = False
            result_rows = {}
            for name, sql in BI_QUERIES.items():
                result_rows[name] = len(bi.execute(sql, params).fetchall())
                for _ in range(args.queries):
                    t0 = time.perf_counter()
                    bi.execute(sql, params).fetchall()
                    timings[name].append((time.perf_counter() - t0) * 1000)
        p95s = {name: round(p95(ts), 2) for name, ts in timings.items()}
        worst = max(p95s.values())

        incremental = incremental_models()
        # P3 per model on each model built alone (benchlib.models_alone: one thread, the median of --alone-runs
        # rebuilds); the two-thread build's node times are kept beside them (in_build_*).
        growth: list[dict[str, Any]] = []
        for name in sorted(incremental & alone_1.keys() & alone_n.keys(), key=lambda k: -median(alone_n[k])):
            first, lastt = median(alone_1[name]), median(alone_n[name])
            judged = first >= args.min_model_s
            growth.append(
                {
                    "model": name,
                    "month_1_s": round(first, 2),
                    "month_n_s": round(lastt, 2),
                    "ratio": round(lastt / first, 2) if first else None,
                    "judged": judged,
                    "month_1_runs_s": alone_1[name],
                    "month_n_runs_s": alone_n[name],
                    "in_build_month_1_s": round(models_1.get(name, 0.0), 2),
                    "in_build_month_n_s": round(models_n.get(name, 0.0), 2),
                }
            )
        judged = [g for g in growth if g["judged"]]
        worst_model = max(judged, key=lambda g: g["ratio"]) if judged else None
        sum_1 = sum(g["month_1_s"] for g in growth)
        sum_n = sum(g["month_n_s"] for g in growth)
        rate_1 = loads[0]["lines_per_s"]
        rate_n = loads[-1]["lines_per_s"]
        load_end = uptime()
        emit(
            "history",
            args,
            [
                target(
                    "P3",
                    f"worst incremental model, month {n} / month 1 ({worst_model['model'] if worst_model else '-'})",
                    float(worst_model["ratio"]) if worst_model else float("nan"),
                    "<= 1.5",
                    worst_model is not None and worst_model["ratio"] <= 1.5,
                ),
                target(
                    "P3",
                    f"Σ incremental models, month {n} / month 1",
                    round(sum_n / sum_1, 2),
                    "<= 1.5",
                    sum_n / sum_1 <= 1.5,
                ),
                target("P6", f"BI query p95 ms as {BI_ROLE} at {n} months (worst of 3)", worst, "<= 200", worst <= 200),
            ],
            [
                *((g["model"], g["month_1_s"], g["month_n_s"], g["ratio"]) for g in growth),
                ("Σ incremental models s", round(sum_1, 2), round(sum_n, 2), round(sum_n / sum_1, 2)),
                ("dbt build of the month, wall s", round(wall_1, 1), round(wall_n, 1), round(wall_n / wall_1, 2)),
                ("Treasury lines/s through the loader", rate_1, rate_n, round(rate_n / rate_1, 2)),
                *((f"P6 p95 ms {k}", "", v, "") for k, v in p95s.items()),
            ],
            ("model (alone, one thread) / measure", "month 1 (1 month of history)", f"month {n} ({n} months)", "ratio"),
            id="P3,P6",
            months=n,
            first_month=months[0].strftime("%Y-%m"),
            last_month=last.strftime("%Y-%m"),
            scale=scale,
            provinces=provinces,
            generated_months=args.generated,
            raw_copy_rows_per_s=round(copy_rps),
            uptime_start=load_start,
            uptime_end=load_end,
            loads=loads,
            files_loaded=sum(x["files"] - x["not_loaded"] for x in loads),
            files_not_loaded=sum(x["not_loaded"] for x in loads),
            treasury_lines_history=raw[1],
            treasury_partitions=raw[0],
            raw_size=raw[2],
            history_dbt_run_s=round(history_build_s),
            month_n_first_build={
                "wall_s": round(first_wall_n, 1),
                "incremental_models_s": round(sum(first_models_n.get(g["model"], 0.0) for g in growth), 2),
            },
            p3_models=growth,
            plans_by_plan_year=plans,
            p6_p95_ms=p95s,
            p6_result_rows=result_rows,
            bi_role_reads_raw=bi_sees_raw,
        )
    finally:
        warehouse.embedded().stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
