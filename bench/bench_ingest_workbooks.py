"""P2: one month of provincial workbooks (63 files) parsed and loaded, against pandas.read_excel(openpyxl).

    python bench/bench_ingest_workbooks.py [--files 63] [--runs 3] [--workers 2] [--quick | --full]

The workbooks are the generator's canonical month (`messy=0`, the printable layout of
docs/report-layout.md, one per province). The baseline reads every sheet of every workbook with
pandas.read_excel(engine="openpyxl", sheet_name=None, header=None) and does nothing else; ours parses,
validates, archives and loads, with --workers processes (2) and, on the same files in the same run, with
one. Every run is a first delivery: the raw tables, the manifest and the archive are emptied before it, and
what the steps before it left to write (the server's dirty buffers: CHECKPOINT; the kernel's dirty pages:
sync) is written before its clock starts, so that no run pays for the writeback of an earlier one (the
speed reference's 3 M rows, the previous load) in its own fsyncs.
It also counts the CPU a workbook costs (this process with its pool's workers, and the server's processes,
from /proc) and `read_excel`'s, and prints the ratio two cores could give at best: both busy all the time.
Runs an embedded PostgreSQL in a temporary data directory (removed at the end), prints the machine's speed
reference (raw COPY of 1 M Treasury lines into an unindexed all-text table, rows/s) and the figures as JSON
on the last line.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_pipeline import raw_copy_rows_per_s  # noqa: E402
from benchlib import add_common_args, emit, target  # noqa: E402

from generator import generate  # noqa: E402
from ingestion.load import ingest_files  # noqa: E402
from ntp_core import warehouse  # noqa: E402
from ntp_core.reference import provinces_63  # noqa: E402
from ntp_core.settings import load  # noqa: E402


def own_cpu_s() -> float:
    """CPU seconds of this process and of its children that have exited (the pool's workers, once shut down)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def server_cpu_s(cluster: Path) -> float:
    """CPU seconds of the embedded server so far (Linux /proc): its postmaster's own and its exited children's
    (the backends of closed connections), plus every live child's (the backends and the server's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((cluster / "postmaster.pid").read_text().split()[0])

    def fields(pid: int | str) -> list[str]:
        # after the command name: state, ppid, …, utime (11), stime (12), cutime (13), cstime (14)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    pm = fields(postmaster)
    ticks = sum(int(x) for x in pm[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            f = fields(entry.name)
        except OSError:  # gone since the listing
            continue
        if f[1] == str(postmaster):
            ticks += int(f[11]) + int(f[12])
    return ticks / tick


def main() -> None:
    ap = argparse.ArgumentParser(description="P2: a month of workbooks vs pandas.read_excel(openpyxl)")
    ap.add_argument("--files", type=int, default=63, help="workbooks (63 = every province, national scale)")
    ap.add_argument("--workers", type=int, default=2)
    add_common_args(ap)
    args = ap.parse_args()
    if args.quick:
        args.runs = min(args.runs, 2)
    load_at_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-p2-"))
    os.environ["NTP_DATA_DIR"] = str(tmp / "data")
    os.environ.pop("WAREHOUSE_URL", None)
    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    settings = load()
    codes = [p.province_code for p in provinces_63()[: args.files]]
    generate(tmp / "gen", [date(2024, 3, 1)], provinces=codes, scale="small", seed=1, messy=0)
    files = sorted((tmp / "gen").rglob("*.xlsx"))
    ours, ours_1, pandas_t = [], [], []
    # CPU per workbook of each timed run: (this process and its pool's workers, the server)
    cpu_2: list[tuple[float, float]] = []
    cpu_1: list[tuple[float, float]] = []
    pandas_cpu: list[float] = []
    cluster = server.cluster

    def first_delivery() -> None:
        with warehouse.connect(url, autocommit=True) as conn:
            conn.execute("truncate raw.province_report_cells, audit.files restart identity cascade")
        shutil.rmtree(settings.archive_dir, ignore_errors=True)
        quiet_disk()

    def quiet_disk() -> None:
        """What earlier steps left to write (the server's dirty buffers, the kernel's dirty pages) written
        now, outside the clock: otherwise its writeback lands on a later run's fsyncs."""
        with psycopg.connect(server.admin_url(), autocommit=True) as conn:
            conn.execute("checkpoint")
        os.sync()

    try:
        import pandas as pd  # noqa: PLC0415 - the pandas baseline loads only when it runs

        copy_rps = raw_copy_rows_per_s(tmp / "data", tmp)
        quiet_disk()  # the reference's 3 M rows
        for _ in range(args.runs):
            first_delivery()
            c, b = own_cpu_s(), server_cpu_s(cluster)
            t = time.perf_counter()
            res = ingest_files(
                files, warehouse_url=url, run_period=date(2024, 3, 1), settings=settings, workers=args.workers
            )
            ours.append(time.perf_counter() - t)
            time.sleep(0.2)  # the workers' connections closed: their backends gone into the postmaster's times
            cpu_2.append((own_cpu_s() - c, server_cpu_s(cluster) - b))
            assert all(r.status == "loaded" for r in res), [r for r in res if r.status != "loaded"][:1]
            if args.workers > 1:  # the same load in one process: what the pool adds, on the same files
                first_delivery()
                c, b = own_cpu_s(), server_cpu_s(cluster)
                t = time.perf_counter()
                ingest_files(files, warehouse_url=url, run_period=date(2024, 3, 1), settings=settings, workers=1)
                ours_1.append(time.perf_counter() - t)
                time.sleep(0.2)
                cpu_1.append((own_cpu_s() - c, server_cpu_s(cluster) - b))
            c = own_cpu_s()
            t = time.perf_counter()
            for f in files:
                pd.read_excel(f, sheet_name=None, header=None, engine="openpyxl")
            pandas_t.append(time.perf_counter() - t)
            pandas_cpu.append(own_cpu_s() - c)
        ours_s, pandas_s = statistics.median(ours), statistics.median(pandas_t)
        speedup = round(pandas_s / ours_s, 2)
        one_s = statistics.median(ours_1) if ours_1 else ours_s
        speedup_1 = round(pandas_s / one_s, 2)
        n = len(files)
        client_ms = statistics.median(x[0] for x in cpu_2) * 1000 / n
        server_ms = statistics.median(x[1] for x in cpu_2) * 1000 / n
        pandas_ms = statistics.median(pandas_cpu) * 1000 / n
        # the best two cores could do: every workbook's CPU (client and server) spread over both, no idle time
        ceiling = round(2 * pandas_ms / (client_ms + server_ms), 2)
        print(
            f"CPU a workbook, {args.workers} workers: client {client_ms:.1f} ms + server {server_ms:.1f} ms; "
            f"read_excel {pandas_ms:.1f} ms; on two cores at best {ceiling} x read_excel",
            flush=True,
        )
        emit(
            "ingest_workbooks",
            args,
            [
                target("P2", "speedup vs pandas.read_excel", speedup, ">= 3", speedup >= 3),
                target("P2", "wall s for the month", round(ours_s, 2), "<= 10", ours_s <= 10),
            ],
            [
                (len(files), f"{ours_s:.2f}", f"{pandas_s:.2f}", speedup, args.workers),
                (len(files), f"{one_s:.2f}", f"{pandas_s:.2f}", speedup_1, 1),
            ],
            (
                "workbooks",
                "ours s (parse+validate+archive+load)",
                "pandas read_excel s (read only, 1 process)",
                "speedup",
                "workers",
            ),
            id="P2",
            files=len(files),
            workers=args.workers,
            ingest_s=round(ours_s, 3),
            ingest_runs_s=[round(x, 3) for x in ours],
            pandas_runs_s=[round(x, 3) for x in pandas_t],
            pandas_read_excel_s=round(pandas_s, 3),
            speedup_vs_pandas=speedup,
            ingest_1worker_s=round(one_s, 3),
            ingest_1worker_runs_s=[round(x, 3) for x in ours_1],
            speedup_1worker_vs_pandas=speedup_1,
            cpu_ms_per_workbook={
                "client": round(client_ms, 2),
                "server": round(server_ms, 2),
                "client_1worker": round(statistics.median(x[0] for x in cpu_1) * 1000 / n, 2) if cpu_1 else None,
                "server_1worker": round(statistics.median(x[1] for x in cpu_1) * 1000 / n, 2) if cpu_1 else None,
                "read_excel": round(pandas_ms, 2),
            },
            speedup_ceiling_two_cores=ceiling,
            raw_copy_rows_per_s=round(copy_rps),
            load_1m_at_start=round(load_at_start, 2),
        )
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
