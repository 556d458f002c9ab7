"""P1: Treasury extract -> raw.treasury_lines, end to end, against raw COPY and pandas to_sql.

    python bench/bench_ingest_treasury.py [--lines 1000000] [--runs 3] [--pandas-lines 100000]

Runs an embedded PostgreSQL in a temporary data directory. Prints the figures as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADER = (
    "ky_bao_cao,ma_kbnn,ma_tinh,ma_ctmt,nguon_von,loai_von,nam_kh,ma_dvqhns,ten_dvqhns,du_toan_giao,"
    "thanh_toan_trong_ky,luy_ke_thanh_toan"
)


def write_extract(path: Path, lines: int, seed: int = 0) -> None:
    from ntp.reference import components, provinces_63

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
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pandas-lines", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-p1-"))
    os.environ["NTP_DATA_DIR"] = str(tmp / "data")
    os.environ.pop("WAREHOUSE_URL", None)
    from ingestion.load import ingest_file
    from ntp import warehouse
    from ntp.settings import load

    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    settings = load()
    csv = tmp / "extract.csv"
    write_extract(csv, args.lines)
    cols = HEADER.split(",")
    try:
        copy_t, ours_t, pandas_t = [], [], []
        with warehouse.connect(url, autocommit=True) as conn:
            conn.execute(
                f"create table if not exists public.bench_copy ({', '.join(c + ' text' for c in cols)})"
            )
        for _ in range(args.runs):
            with warehouse.connect(url, autocommit=True) as conn:
                conn.execute("truncate public.bench_copy")
                conn.execute("truncate raw.treasury_lines, audit.files restart identity cascade")
                conn.execute("checkpoint")
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
            assert res.status == "loaded" and res.row_count == args.lines, res
        # pandas baseline on a subset, extrapolated linearly
        import pandas as pd
        from sqlalchemy import create_engine

        sub = tmp / "subset.csv"
        write_extract(sub, min(args.pandas_lines, args.lines))
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        for _ in range(max(1, args.runs - 1)):
            t = time.perf_counter()
            df = pd.read_csv(sub, dtype=str)
            df.to_sql(
                "bench_pandas", engine, schema="public", if_exists="replace", index=False, chunksize=10_000
            )
            pandas_t.append(time.perf_counter() - t)
        engine.dispose()
        n = args.lines
        copy_rps = n / statistics.median(copy_t)
        ours_rps = n / statistics.median(ours_t)
        pandas_rps = min(args.pandas_lines, n) / statistics.median(pandas_t)
        out = {
            "id": "P1",
            "lines": n,
            "runs": args.runs,
            "raw_copy_rows_s": round(copy_rps),
            "ingest_rows_s": round(ours_rps),
            "pandas_to_sql_rows_s": round(pandas_rps),
            "ratio_vs_copy": round(ours_rps / copy_rps, 3),
            "ratio_vs_pandas": round(ours_rps / pandas_rps, 1),
            "target": "ratio_vs_copy >= 0.5 and ratio_vs_pandas >= 10",
            "copy_s": [round(x, 3) for x in copy_t],
            "ingest_s": [round(x, 3) for x in ours_t],
            "pandas_s": [round(x, 3) for x in pandas_t],
        }
        print(json.dumps(out))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
