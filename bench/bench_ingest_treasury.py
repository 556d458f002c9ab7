"""P1: Treasury extract -> raw.treasury_lines, end to end, against raw COPY and pandas to_sql.

    python bench/bench_ingest_treasury.py [--lines 1000000] [--runs 3] [--pandas-lines 100000]
                                          [--scales 0.1,1,5] [--quick | --full]

Per size, in the same run on the same file: raw `COPY` into an unindexed all-text table (the physical
limit), then ours (`ingestion.load.ingest_file`: hash, archive, identify, COPY, checks, manifest), medians
of --runs; `pandas.read_csv` + `DataFrame.to_sql` on a --pandas-lines subset (rows/s, linear in lines), median of
--runs and at least 3 (its first run also pays SQLAlchemy's first connection).
--scales adds runs at multiples of a national extract (300 k lines): rows/s should stay flat. --quick:
100 k lines, no scaling; --full: 1 M lines and the 0.1×, 1×, 5× scaling. Runs an embedded PostgreSQL in a
temporary data directory; prints a table and the figures as JSON on the last line.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_common_args, emit, median, target  # noqa: E402

from ingestion.load import ingest_file  # noqa: E402
from ntp_core import warehouse  # noqa: E402
from ntp_core.reference import components, provinces_63  # noqa: E402
from ntp_core.settings import load  # noqa: E402

NATIONAL_LINES = 300_000

HEADER = (
    "ky_bao_cao,ma_kbnn,ma_tinh,ma_ctmt,nguon_von,loai_von,nam_kh,ma_dvqhns,ten_dvqhns,du_toan_giao,"
    "thanh_toan_trong_ky,luy_ke_thanh_toan"
)


def write_extract(path: Path, lines: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    codes = [c.treasury_code for c in components()]
    provs = [p.province_code for p in provinces_63()]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        batch = []
        for i in range(lines):
            p = provs[i % len(provs)]
            batch.append(
                f"202403,{p}01,{p},{codes[i % len(codes)]},{'NSTW' if i % 2 else 'NSDP'},"
                f"{'DTPT' if i % 3 else 'SN'},{2024 - (i % 4 == 0)},{7000000 + i % 999999},"
                f"Ban quản lý dự án {i % 5000},{rng.randrange(10**9, 10**11)},"
                f"{rng.randrange(-(10**7), 10**9)},{rng.randrange(0, 10**10)}\n"
            )
            if len(batch) == 50000:
                f.write("".join(batch))
                batch = []
        f.write("".join(batch))


def main() -> None:
    ap = argparse.ArgumentParser(description="P1: Treasury extract end to end vs raw COPY and to_sql")
    ap.add_argument("--lines", type=int, default=None, help="lines of the headline file (1000000)")
    ap.add_argument("--pandas-lines", type=int, default=100_000)
    ap.add_argument("--scales", default=None, help="comma-separated multiples of 300 k lines")
    add_common_args(ap)
    args = ap.parse_args()
    lines = args.lines or (100_000 if args.quick else 1_000_000)
    scales = args.scales or ("0.1,1,5" if args.full else "")
    sizes = [lines] + [round(float(s) * NATIONAL_LINES) for s in scales.split(",") if s]
    tmp = Path(tempfile.mkdtemp(prefix="bench-p1-"))
    os.environ["NTP_DATA_DIR"] = str(tmp / "data")
    os.environ.pop("WAREHOUSE_URL", None)
    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    settings = load()
    cols = HEADER.split(",")

    def measure(n: int) -> tuple[list[float], list[float], float]:
        csv = tmp / f"extract-{n}.csv"
        write_extract(csv, n)
        copy_t, ours_t = [], []
        for _ in range(args.runs):
            with warehouse.connect(url, autocommit=True) as conn:
                conn.execute("truncate public.bench_copy")
                conn.execute(
                    "truncate raw.province_report_cells, raw.treasury_lines, audit.files restart identity cascade"
                )
            # a checkpoint needs pg_checkpoint, which the pipeline role has not (least privilege): the server's
            # administrator takes it, as an operator would
            with warehouse.connect(server.admin_url(), autocommit=True) as conn:
                conn.execute("checkpoint")
            shutil.rmtree(settings.archive_dir, ignore_errors=True)
            with warehouse.connect(url) as conn:
                t = time.perf_counter()
                with (
                    conn.cursor() as cur,
                    cur.copy("copy public.bench_copy from stdin (format csv, header true)") as cp,
                    open(csv, "rb") as f,
                ):
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        cp.write(chunk)
                conn.commit()
                copy_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            res = ingest_file(csv, warehouse_url=url, run_period=date(2024, 3, 1), settings=settings)
            ours_t.append(time.perf_counter() - t)
            assert res.status == "loaded" and res.row_count == n, res
        csv.unlink()
        return copy_t, ours_t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    try:
        warm = tmp / "warm-up.csv"  # imports and reference data loaded once, outside the clock
        write_extract(warm, 1000)
        ingest_file(warm, warehouse_url=url, run_period=date(2024, 3, 1), settings=settings)
        with warehouse.connect(url, autocommit=True) as conn:
            conn.execute(f"create table if not exists public.bench_copy ({', '.join(c + ' text' for c in cols)})")
        measured = {n: measure(n) for n in dict.fromkeys(sizes)}
        # pandas baseline on a subset (it is ~20x slower), rows/s
        import pandas as pd  # noqa: PLC0415 - the pandas baseline's libraries load only when it runs
        from sqlalchemy import create_engine  # noqa: PLC0415

        sub = tmp / "subset.csv"
        pandas_n = min(args.pandas_lines, lines)
        write_extract(sub, pandas_n)
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        pandas_t = []
        for _ in range(max(3, args.runs)):
            t = time.perf_counter()
            df = pd.read_csv(sub, dtype=str)
            df.to_sql("bench_pandas", engine, schema="public", if_exists="replace", index=False, chunksize=10_000)
            pandas_t.append(time.perf_counter() - t)
        engine.dispose()
        pandas_rps = pandas_n / median(pandas_t)
        copy_t, ours_t, _ = measured[lines]
        copy_rps = lines / median(copy_t)
        ours_rps = lines / median(ours_t)
        scaling = {}
        rows = []
        for n, (ct, ot, rss) in measured.items():
            c_rps, o_rps = n / median(ct), n / median(ot)
            scaling[str(n)] = {
                "x_national": round(n / NATIONAL_LINES, 2),
                "raw_copy_rows_s": round(c_rps),
                "ingest_rows_s": round(o_rps),
                "ratio_vs_copy": round(o_rps / c_rps, 3),
                "copy_s": [round(x, 3) for x in ct],
                "ingest_s": [round(x, 3) for x in ot],
                "client_peak_rss_mb_after": round(rss, 1),
            }
            rows.append(
                (
                    f"{n:,}",
                    f"{n / NATIONAL_LINES:.2f}×",
                    round(median(ot), 2),
                    f"{o_rps:,.0f}",
                    f"{c_rps:,.0f}",
                    round(o_rps / c_rps, 2),
                    round(rss),
                )
            )
        rows.append((f"{pandas_n:,} (pandas)", "", round(median(pandas_t), 2), f"{pandas_rps:,.0f}", "", "", ""))
        r_copy, r_pandas = round(ours_rps / copy_rps, 3), round(ours_rps / pandas_rps, 1)
        emit(
            "ingest_treasury",
            args,
            [
                target("P1", "ratio to raw COPY", r_copy, ">= 0.5", r_copy >= 0.5),
                target("P1", "ratio to pandas to_sql", r_pandas, ">= 10", r_pandas >= 10),
            ],
            rows,
            (
                "lines",
                "× national",
                "ours s (median)",
                "ours rows/s",
                "raw COPY rows/s",
                "ratio to COPY",
                "peak RSS MB (client, so far)",
            ),
            id="P1",
            lines=lines,
            raw_copy_rows_s=round(copy_rps),
            ingest_rows_s=round(ours_rps),
            pandas_to_sql_rows_s=round(pandas_rps),
            pandas_lines=pandas_n,
            ratio_vs_copy=r_copy,
            ratio_vs_pandas=r_pandas,
            copy_s=[round(x, 3) for x in copy_t],
            ingest_s=[round(x, 3) for x in ours_t],
            pandas_s=[round(x, 3) for x in pandas_t],
            scaling=scaling,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
