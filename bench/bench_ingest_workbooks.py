"""P2: one month of provincial workbooks (63 files) parsed and loaded, against pandas.read_excel(openpyxl).

    python bench/bench_ingest_workbooks.py [--files 63] [--runs 3] [--workers 2]

The workbooks are the generator's canonical month (`messy=0`, the printable layout of
docs/report-layout.md, one per province). The baseline reads every sheet of every workbook with
pandas.read_excel(engine="openpyxl", sheet_name=None, header=None) and does nothing else; ours parses,
validates, archives and loads. Runs an embedded PostgreSQL in a temporary data directory, prints the figures
as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=63)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-p2-"))
    os.environ["NTP_DATA_DIR"] = str(tmp / "data")
    os.environ.pop("WAREHOUSE_URL", None)
    from generator import generate
    from ingestion.load import ingest_files
    from ntp import warehouse
    from ntp.reference import provinces_63
    from ntp.settings import load

    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    settings = load()
    codes = [p.province_code for p in provinces_63()[: args.files]]
    generate(tmp / "gen", [date(2024, 3, 1)], provinces=codes, scale="small", seed=1, messy=0)
    files = sorted((tmp / "gen").rglob("*.xlsx"))
    ours, pandas_t = [], []
    try:
        import pandas as pd

        for _ in range(args.runs):
            with warehouse.connect(url, autocommit=True) as conn:
                conn.execute("truncate raw.province_report_cells, audit.files restart identity cascade")
            t = time.perf_counter()
            res = ingest_files(
                files, warehouse_url=url, run_period=date(2024, 3, 1), settings=settings, workers=args.workers
            )
            ours.append(time.perf_counter() - t)
            assert all(r.status == "loaded" for r in res), [r for r in res if r.status != "loaded"][:1]
            t = time.perf_counter()
            for f in files:
                pd.read_excel(f, sheet_name=None, header=None, engine="openpyxl")
            pandas_t.append(time.perf_counter() - t)
        out = {
            "id": "P2",
            "files": len(files),
            "runs": args.runs,
            "workers": args.workers,
            "ingest_s": round(statistics.median(ours), 3),
            "ingest_runs_s": [round(x, 3) for x in ours],
            "pandas_runs_s": [round(x, 3) for x in pandas_t],
            "pandas_read_excel_s": round(statistics.median(pandas_t), 3),
            "speedup_vs_pandas": round(statistics.median(pandas_t) / statistics.median(ours), 2),
            "target": "speedup >= 3 and ingest_s <= 10",
        }
        print(json.dumps(out))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
