"""P4: parse time of the DAG files in dags/ (`ntp_monthly` imports Cosmos for its one dbt task).

    python bench/bench_dag_parse.py [--runs 5]

Each run is a fresh Python process, like a dag-processor parse: Airflow itself is imported first (the
dag-processor has it loaded already), then the clock runs over `DagBag(<file>)` for each DAG file — the
file's own imports (Cosmos included) and the DAG construction. The child process
also counts database connections and dbt invocations during the parse: both must be zero. The full
process wall (interpreter start, Airflow import, parse of the whole folder) is reported for information.
Prints the figures as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import add_common_args, emit, target  # noqa: E402

TARGET_S = 2.0

CHILD = r"""
import json, subprocess, sys, time, warnings
warnings.simplefilter("ignore")
calls = {"db": 0, "dbt": 0}

import psycopg
_connect = psycopg.connect
def _counting_connect(*a, **k):
    calls["db"] += 1
    return _connect(*a, **k)
psycopg.connect = _counting_connect

_popen_init = subprocess.Popen.__init__
def _counting_popen(self, args, *a, **k):
    if "dbt" in str(args):
        calls["dbt"] += 1
    return _popen_init(self, args, *a, **k)
subprocess.Popen.__init__ = _counting_popen

import airflow, airflow.sdk  # noqa: E401  loaded before the clock, as in the dag-processor
from airflow.dag_processing.dagbag import DagBag
try:
    from dbt.cli.main import dbtRunner
    _invoke = dbtRunner.invoke
    def _counting_invoke(self, *a, **k):
        calls["dbt"] += 1
        return _invoke(self, *a, **k)
    dbtRunner.invoke = _counting_invoke
except ImportError:
    pass

out = {"files": {}}
for path in sys.argv[1:]:
    t = time.perf_counter()
    bag = DagBag(dag_folder=path)
    out["files"][path] = {"seconds": time.perf_counter() - t, "dags": sorted(bag.dags),
                          "tasks": sum(len(d.tasks) for d in bag.dags.values()),
                          "errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()}}
out.update(calls)
print(json.dumps(out))
"""


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "NTP_DATA_DIR": str(home / "data"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # No warehouse reachable: a parse that tried to connect would be counted (and fail).
    for key in ("WAREHOUSE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        env.pop(key, None)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser, runs=5)  # --quick: 3 runs; --full: the same as the default (no data size)
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 3)

    manifest = ROOT / "dbt_project" / "target" / "manifest.json"
    if not manifest.exists():
        sys.exit("dbt_project/target/manifest.json is missing: run `make env` (dbt parse) first")
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "dags").glob("*.py"))
    per_file: dict[str, list[float]] = {f: [] for f in files}
    walls: list[float] = []
    db_calls = dbt_calls = 0
    errors: dict[str, str] = {}
    tasks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dag-parse-") as tmp:
        env = child_env(Path(tmp))
        for _ in range(args.runs):
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", CHILD, *files], env=env, cwd=ROOT, capture_output=True, text=True
            )
            walls.append(time.perf_counter() - t)
            if proc.returncode != 0:
                sys.exit(f"parse process failed:\n{proc.stderr[-3000:]}")
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            db_calls += result["db"]
            dbt_calls += result["dbt"]
            for f, r in result["files"].items():
                per_file[f].append(r["seconds"])
                tasks[f] = r["tasks"]
                errors.update(r["errors"])
    medians = {f: round(statistics.median(v), 3) for f, v in per_file.items()}
    monthly = medians.get("dags/ntp_monthly.py")
    folder = round(statistics.median([sum(v[i] for v in per_file.values()) for i in range(args.runs)]), 3)
    passed = bool(folder <= TARGET_S and db_calls == 0 and dbt_calls == 0 and not errors)
    emit(
        "dag_parse",
        args,
        [
            target("P4", "dags/ parse s (median)", folder, f"<= {TARGET_S}", folder <= TARGET_S),
            target("P4", "database + dbt calls at parse", db_calls + dbt_calls, "0", db_calls + dbt_calls == 0),
        ],
        [(f, medians[f], tasks.get(f, "")) for f in files] + [("dags/ (all files)", folder, "")],
        ("DAG file", "parse s (median)", "tasks"),
        id="P4",
        ntp_monthly_parse_s=monthly,
        dags_folder_parse_s=folder,
        per_file_median_s=medians,
        tasks=tasks,
        process_wall_median_s=round(statistics.median(walls), 3),
        db_calls=db_calls,
        dbt_calls=dbt_calls,
        import_errors=errors,
        target=f"dags_folder_parse_s <= {TARGET_S}, no database or dbt call at parse time",
        **{"pass": passed},
        ntp_monthly_s=[round(x, 3) for x in per_file.get("dags/ntp_monthly.py", [])],
    )


if __name__ == "__main__":
    main()
