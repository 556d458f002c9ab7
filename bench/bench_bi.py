"""P6 through the BI tool: p95 of each dashboard's queries, through Superset's chart-data API and directly.

Superset is started exactly as `make bi` starts it (ntp.bi.running), connected as ntp_bi. For every chart of the
Vietnamese dashboards, the SQL Superset generates (chart-data API, result_type "query") is timed directly on the
warehouse as ntp_bi (the baseline: the database's share), and the same chart's query is timed through
`/api/v1/chart/data` with `force` (no cache: what a user waits for on a cold dashboard, HTTP and Superset included)
and without it (Superset's result cache: the same dashboard opened again).
p95 per dashboard over charts × runs.

The warehouse is built here in a temporary NTP_DATA_DIR: --quick 3 months × 5 provinces and the default 12 months ×
10 provinces are generated and loaded (generator → loader → dbt); --full (or --synthetic) synthesises 60 months of
every province in SQL with the shape of the extracts and workbooks (bench_dbt_star.py's rows, --lines-per-key
Treasury lines per key), then dbt builds the marts; or `--data-dir` reuses one that already has marts (e.g. after
`make demo`). The speed reference (raw COPY of 1 M Treasury lines, rows/s) is measured in the same run. Prints JSON
on its last line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_dbt_star import POPULATE  # noqa: E402
from bench_pipeline import raw_copy_rows_per_s  # noqa: E402
from benchlib import add_common_args, emit, median, p95, size_of  # noqa: E402
from benchlib import target as goal  # noqa: E402

from generator import generate  # noqa: E402
from ingestion.load import ingest_file  # noqa: E402
from ntp import bi  # noqa: E402
from ntp.bi_bundle import Content  # noqa: E402
from ntp_core import warehouse  # noqa: E402
from ntp_core.settings import load  # noqa: E402

SIZES = {  # months (ending 2025-06), provinces
    "quick": (3, "01,11,48,49,79"),
    "default": (12, "01,11,22,31,46,48,49,79,92,94"),
    "full": (60, "all"),
}


def months_back(n: int, last: date = date(2025, 6, 1)) -> list[date]:
    out = []
    y, m = last.year, last.month
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def dbt_build(url: str, target: Path) -> None:

    env = dict(os.environ, **warehouse.libpq_env(url), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    dbt = [str(Path(sys.executable).parent / "dbt"), "--quiet"]
    common = ["--project-dir", str(ROOT / "dbt_project"), "--profiles-dir", str(ROOT / "dbt_project")]
    build = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]  # seeds and models
    subprocess.run([*dbt, *build, *common, "--target-path", str(target)], env=env, check=True)


def build_warehouse(months: int, provinces: str) -> None:
    settings = load()
    url = warehouse.url(settings)
    warehouse.bootstrap(url)
    out = settings.data_dir / "bench-generated"
    generate(out, months_back(months), provinces=provinces, seed=6)
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        year, month = map(int, folder.name.split("-"))
        for path in sorted(folder.iterdir()):
            ingest_file(path, warehouse_url=url, run_period=date(year, month, 1))
    dbt_build(url, settings.data_dir / "dbt-target")


def synthesise_warehouse(months: int, lines_per_key: int) -> int:
    """`months` months ending 2025-06 of every province (63, then 34 from July 2025) synthesised in SQL, then the
    marts built; returns the Treasury lines of the history."""

    settings = load()
    url = warehouse.url(settings)
    warehouse.bootstrap(url)
    target = settings.data_dir / "dbt-target"
    dbt_build(url, target)  # seeds and the staging views the synthesis reads
    span = months_back(months)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in POPULATE.split(";"):
            if statement.strip():
                conn.execute(statement, {"first": span[0], "last": span[-1], "lines": lines_per_key})
        conn.execute("analyze")
        treasury_lines = conn.execute("select count(*) from raw.treasury_lines").fetchone()[0]
    dbt_build(url, target)
    return treasury_lines


def copy_reference() -> float:
    """The speed reference of the other benchmarks: raw COPY of 1 M Treasury lines into an unindexed all-text
    table of this run's warehouse (rows/s, median of 3)."""

    data = load().data_dir
    with tempfile.TemporaryDirectory(prefix="ntp-bench-bi-ref-") as work:
        return raw_copy_rows_per_s(data, Path(work))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(ap, runs=5)
    ap.add_argument("--data-dir", help="an NTP_DATA_DIR whose marts are built (default: build one)")
    ap.add_argument("--synthetic", action="store_true", help="synthesise the history in SQL (--full does)")
    ap.add_argument("--months", type=int, help="months of history (default by size; synthetic: 60)")
    ap.add_argument("--lines-per-key", type=int, default=1, help="synthetic Treasury lines per key (1)")
    args = ap.parse_args()
    months, provinces = SIZES[size_of(args)]
    synthetic = args.synthetic or args.full
    months = args.months or months
    tmp = None
    treasury_lines = None
    if args.data_dir:
        os.environ["NTP_DATA_DIR"] = str(Path(args.data_dir).resolve())
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ntp-bench-bi-")
        os.environ["NTP_DATA_DIR"] = tmp.name
        os.environ.pop("WAREHOUSE_URL", None)
        if synthetic:
            print(f"· synthesising {months} month(s) × every province in SQL and building the marts", flush=True)
            treasury_lines = synthesise_warehouse(months, args.lines_per_key)
        else:
            print(f"· generating and building {months} month(s) × provinces {provinces}", flush=True)
            build_warehouse(months, provinces)
    started = time.perf_counter()
    copy_rps = copy_reference()
    print(f"speed reference: raw COPY {copy_rps:,.0f} rows/s ({time.perf_counter() - started:.0f} s)", flush=True)

    settings = load()
    load_at_start = round(os.getloadavg()[0], 2)
    rows, per_dashboard = [], {}
    try:
        with bi.running(settings) as server:
            found = server.client.get("/api/v1/chart/", q="(columns:!(uuid,datasource_id),page_size:100)")["result"]
            datasource = {c["uuid"]: c["datasource_id"] for c in found}
            bi_url = bi.bi_url(server.warehouse_url, bi.bi_password(settings))
            with psycopg.connect(bi_url, autocommit=True) as conn:
                history = conn.execute("select count(distinct period) from marts.fct_ntp_monthly").fetchone()[0]
                progress_rows = conn.execute("select count(*) from marts.mart_disbursement_progress").fetchone()[0]
                for dashboard in (d for d in Content().dashboards() if d.lang == "vi"):
                    api, direct, cached = [], [], []
                    for chart in dashboard.charts:
                        body = chart.query_context(datasource[chart.uuid])
                        sql = server.client.post("/api/v1/chart/data", {**body, "result_type": "query"}).json()
                        statement = sql["result"][0]["query"]
                        for _ in range(args.runs):
                            t = time.perf_counter()
                            conn.execute(statement).fetchall()
                            direct.append(time.perf_counter() - t)
                            t = time.perf_counter()
                            res = server.client.post("/api/v1/chart/data", {**body, "force": True})
                            api.append(time.perf_counter() - t)
                            assert res.status_code == 200 and not res.json()["result"][0].get("error"), chart.key
                            t = time.perf_counter()
                            server.client.post("/api/v1/chart/data", body)  # cached: a dashboard opened again
                            cached.append(time.perf_counter() - t)
                    per_dashboard[dashboard.slug] = {
                        "charts": len(dashboard.charts),
                        "direct_p95_ms": round(1000 * p95(direct), 1),
                        "direct_median_ms": round(1000 * median(direct), 1),
                        "api_p95_ms": round(1000 * p95(api), 1),
                        "api_median_ms": round(1000 * median(api), 1),
                        "api_cached_p95_ms": round(1000 * p95(cached), 1),
                    }
                    f = per_dashboard[dashboard.slug]
                    rows.append(
                        [dashboard.slug, f["charts"], f["direct_median_ms"], f["direct_p95_ms"], f["api_median_ms"]]
                        + [f["api_p95_ms"], f["api_cached_p95_ms"]]
                    )
    finally:
        if tmp is not None:
            warehouse.embedded(settings).stop()
            tmp.cleanup()
    worst_direct = max(f["direct_p95_ms"] for f in per_dashboard.values())
    worst_api = max(f["api_p95_ms"] for f in per_dashboard.values())
    targets = [
        goal("P6", f"BI queries p95, direct as ntp_bi ({history} months)", worst_direct, "<= 200 ms",
             worst_direct <= 200),
        goal("P6-bi", f"dashboard queries p95 through Superset's API ({history} months)", worst_api, "<= 200 ms",
             worst_api <= 200),
    ]  # fmt: skip
    header = ["dashboard", "charts", "direct median ms", "direct p95 ms", "API median ms", "API p95 ms"]
    header.append("API cached p95 ms")
    emit(
        "bench_bi",
        args,
        targets,
        rows,
        header,
        months=history,
        history="synthetic" if synthetic and not args.data_dir else "generated" if not args.data_dir else "given",
        treasury_lines_history=treasury_lines,
        mart_disbursement_progress_rows=progress_rows,
        speed_reference={"raw_copy_rows_per_s": round(copy_rps)},
        load_1m_at_start=load_at_start,
        dashboards=per_dashboard,
    )


if __name__ == "__main__":
    main()
