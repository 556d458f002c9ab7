"""P5: one report month end to end on the embedded default (`ntp run`), with its per-stage split.

    python bench/bench_e2e_month.py [--scales 1] [--runs 1] [--quick | --full]

For each scale (× national: 1 = 63 provinces and ≈ 300 k Treasury lines in one national extract), the
generator writes the month 2024-03, then `ntp run --period 2024-03 --inbox …` runs the real DAG
(`airflow dags test`) in a fresh data directory (new embedded PostgreSQL, new Airflow metadata). Reported:
the command's wall time, the DAG's own wall (first task start to last task end) and the split by stage from
the task log — ingestion (resolve/prepare/discover + ingest_files), GX (validate_batches),
dbt (dbt_build), alert. --quick: 0.1×; --full: 0.1×, 1× and 5× (rows/s should stay flat). The machine's
speed reference (raw COPY of 1 M Treasury lines, rows/s) is measured first and printed.
Scale k uses `scale=round(26 k)` Treasury lines per key (national is 14–38, mean 26).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchlib import add_common_args, emit, median, target  # noqa: E402

from generator import generate  # noqa: E402

TARGET_MIN = 3.0
NATIONAL_LINES_PER_KEY = 26
_EVENT = re.compile(r"^(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=([\w.]+) map_index=(-?\d+)")


def stage_of(task_id: str) -> str:
    if task_id == "dbt_build" or task_id.startswith("dbt."):
        return "dbt"
    if task_id == "validate_batches":
        return "gx"
    if task_id == "build_alert":
        return "alert"
    return "ingestion"


def split(log: Path) -> dict[str, float]:
    """Seconds per stage (sum of task durations; `airflow dags test` runs tasks one at a time)."""
    starts: dict[tuple[str, str], datetime] = {}
    stages: dict[str, float] = defaultdict(float)
    tasks: dict[str, int] = defaultdict(int)
    first = last = None
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _EVENT.match(line)
        if not m:
            continue
        ts = datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        key = (m.group(3), m.group(4))
        first = first or ts
        last = ts
        if m.group(2) == "starting":
            starts[key] = ts
        elif key in starts:
            st = stage_of(key[0])
            stages[st] += (ts - starts.pop(key)).total_seconds()
            tasks[st] += 1
    out = {f"{k}_s": round(v, 1) for k, v in stages.items()}
    out.update({f"{k}_tasks": v for k, v in tasks.items()})
    out["dag_wall_s"] = round((last - first).total_seconds(), 1) if first and last else None
    return out


def treasury_lines(inbox: Path) -> int:
    n = 0
    for f in inbox.rglob("*.csv"):
        if f.name.startswith("KHV"):
            continue
        with open(f, "rb") as fh:
            n += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) - 1
    return n


def one_run(scale: float, inbox: Path, work: Path, i: int) -> dict:
    data = work / f"data-{scale}-{i}"
    env = dict(os.environ, NTP_DATA_DIR=str(data))
    env.pop("WAREHOUSE_URL", None)
    t = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ntp"), "run", "--period", "2024-03", "--inbox", str(inbox)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"ntp run failed ({scale}×):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    res = {"wall_s": round(wall, 1), **split(data / "logs" / "ntp_monthly-2024-03.log")}
    m = re.search(r"files:\s+(\d+) loaded, (\d+) quarantined", proc.stdout)
    if m:
        res["files_loaded"], res["files_quarantined"] = int(m.group(1)), int(m.group(2))
    subprocess.run(
        [str(Path(sys.executable).parent / "ntp"), "warehouse", "down"], env=env, cwd=ROOT, capture_output=True
    )
    shutil.rmtree(data, ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default=None, help="comma-separated multiples of national scale (1)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inboxes")
    add_common_args(ap, runs=1)
    args = ap.parse_args()
    scales = [float(s) for s in (args.scales or ("0.1" if args.quick else "0.1,1,5" if args.full else "1")).split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-p5-"))
    results: dict[str, dict] = {}
    rows = []
    # bench_pipeline imports this module (split): its helpers load here, not at the top
    from bench_pipeline import prepare, raw_copy_rows_per_s, stop  # noqa: PLC0415

    try:
        ref_dir = work / "reference"
        prepare(ref_dir)
        copy_rps = raw_copy_rows_per_s(ref_dir, work)
        stop(ref_dir)
        shutil.rmtree(ref_dir, ignore_errors=True)
        print(f"speed reference: raw COPY {copy_rps:,.0f} rows/s", flush=True)
        for scale in scales:
            inbox = work / f"inbox-{scale}"
            per_key = max(1, round(NATIONAL_LINES_PER_KEY * scale))
            t = time.perf_counter()
            generate(
                inbox,
                [date(2024, 3, 1)],
                provinces="all",
                scale="national" if scale == 1 else per_key,
                treasury="national",
            )
            gen_s = time.perf_counter() - t
            for name in ("expected_totals.csv", "ground_truth.csv"):  # the generator's answer keys: not deliveries
                for key in inbox.rglob(name):
                    key.unlink()
            lines = treasury_lines(inbox)
            runs = [one_run(scale, inbox, work, i) for i in range(args.runs)]
            med = {
                k: median([r[k] for r in runs if isinstance(r.get(k), int | float)])
                for k in runs[0]
                if isinstance(runs[0][k], int | float)
            }
            med = {k: round(v, 1) for k, v in med.items()}
            med["treasury_lines"] = lines
            med["treasury_lines_per_s_ingestion"] = (
                round(lines / med["ingestion_s"]) if med.get("ingestion_s") else None
            )
            med["generate_s"] = round(gen_s, 1)
            med["runs_wall_s"] = [r["wall_s"] for r in runs]
            results[f"{scale:g}x"] = med
            rows.append(
                (
                    f"{scale:g}×",
                    f"{lines:,}",
                    med["wall_s"],
                    med.get("dag_wall_s"),
                    med.get("ingestion_s"),
                    med.get("gx_s"),
                    med.get("dbt_s"),
                    med.get("dbt_tasks"),
                    med.get("alert_s"),
                )
            )
            if not args.keep:
                shutil.rmtree(inbox, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    national = results.get("1x")
    targets = []
    if national:
        minutes = round(national["wall_s"] / 60, 2)
        targets.append(
            target("P5", "ntp run wall, national month (min)", minutes, f"<= {TARGET_MIN}", minutes <= TARGET_MIN)
        )
    emit(
        "e2e_month",
        args,
        targets,
        rows,
        (
            "scale",
            "Treasury lines",
            "ntp run wall s",
            "DAG wall s",
            "ingestion s",
            "GX s",
            "dbt s",
            "dbt tasks",
            "alert s",
        ),
        scales=results,
        speed_reference={"raw_copy_rows_per_s": round(copy_rps)},
    )


if __name__ == "__main__":
    main()
