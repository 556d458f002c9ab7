"""What every benchmark shares: the common flags, peak memory, the table and the JSON last line.

Every `bench/bench_*.py` accepts `--runs N` (medians of N runs), `--quick` (the size `make bench` uses,
minutes in all) and `--full` (national scale), and ends with one JSON object on its last line:

    {"bench": …, "size": "quick|default|full", "runs": N, "targets": [{"id": "P1", "measure": …,
     "value": …, "target": …, "met": true|false}, …], "peak_rss_mb": {"self": …, "children": …},
     "machine": {…}, …the benchmark's own figures…}

Above it, the same figures as a Markdown table (the one docs/performance.md shows).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def add_common_args(ap: argparse.ArgumentParser, runs: int = 3) -> None:
    ap.add_argument("--runs", type=int, default=runs, help=f"runs per measurement, medians reported ({runs})")
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the small size `make bench` runs")
    size.add_argument("--full", action="store_true", help="national scale")


def size_of(args: argparse.Namespace) -> str:
    return "quick" if getattr(args, "quick", False) else "full" if getattr(args, "full", False) else "default"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def p95(xs: Sequence[float]) -> float:
    s = sorted(xs)
    return s[max(0, int(round(0.95 * len(s))) - 1)]


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest waited-for child (ru_maxrss, KiB on Linux)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"self": round(me / 1024, 1), "children": round(kids / 1024, 1)}


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "loadavg_1m_at_end": round(load[0], 2),
    }


def target(pid: str, measure: str, value: float, goal: str, met: bool) -> dict[str, Any]:
    return {"id": pid, "measure": measure, "value": value, "target": goal, "met": bool(met)}


def emit(
    bench: str,
    args: argparse.Namespace,
    targets: list[dict[str, Any]],
    rows: list[Sequence[Any]],
    header: Sequence[str],
    **figures: Any,
) -> None:
    """Print the Markdown table, then the JSON line (always last)."""
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    for t in targets:
        verdict = "met" if t["met"] else "NOT met"
        print(f"{t['id']} {t['measure']} = {t['value']} (target {t['target']}): {verdict}")
    out = {
        "bench": bench,
        "size": size_of(args),
        "runs": args.runs,
        "targets": targets,
        **figures,
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    sys.stdout.flush()
    print(json.dumps(out, default=str), flush=True)


def dbt(env: dict, target_dir: Path, *args: str, models_only: bool = False) -> tuple[float, dict[str, float]]:
    """`dbt <args>` on the project with its own target and log folder: (wall seconds, node name → its
    execution time) from run_results.json, models only if asked. Exits with dbt's output when dbt fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *args,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(target_dir),
            "--log-path",
            str(target_dir / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed:\n{proc.stdout[-4000:]}")
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    return wall, {
        r["unique_id"].split(".")[-1]: float(r["execution_time"] or 0.0)
        for r in results
        if not models_only or r["unique_id"].startswith("model.")
    }


def models_alone(env: dict, target_dir: Path, period: str, runs: int = 3) -> dict[str, list[float]]:
    """Each model's time building report month `period` (YYYY-MM) with nothing built beside it: `dbt run` of
    the month on one thread, `runs` times (rebuilding a month is idempotent), every run's time per model.

    In a two-thread `dbt build` a node's time also holds the CPU that the other thread's node takes from it on
    a 2-core machine, so the same model on the same month moves by ± 0.5 s from one build to the next, and
    what runs beside it changes with the month. Alone, a run still loses time to the other processes of a
    shared machine now and then: P3 per model is judged on the fastest of these times (a plan cliff slows them
    all)."""
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        _, nodes = dbt(
            env, target_dir, "run", "--threads", "1", "--vars", json.dumps({"period": period}), models_only=True
        )
        for name, seconds in nodes.items():
            times.setdefault(name, []).append(round(seconds, 3))
    return times
