"""Child process of the crash tests: ingest files in order, the way a pipeline task does, with every COPY
slowed down and announced so the parent can kill it (or stop PostgreSQL) while rows are streaming.

    python loader_child.py WAREHOUSE_URL YYYY-MM MARKER FILE...

Only `psycopg.Copy.write` is wrapped (after the real write: the rows are on their way to the server); the
loader itself is the real `ingestion.load.ingest_file`.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import psycopg


def main() -> None:
    url, month, marker, *files = sys.argv[1:]
    real_write = psycopg.Copy.write

    def write(self, buffer):
        real_write(self, buffer)
        self._reliability_chunks = getattr(self, "_reliability_chunks", 0) + 1
        if self._reliability_chunks >= 2:  # a multi-chunk COPY is under way
            Path(marker).write_text("copying")
            time.sleep(0.2)

    psycopg.Copy.write = write
    from ingestion.load import ingest_file

    year, mon = map(int, month.split("-"))
    for f in files:
        result = ingest_file(Path(f), warehouse_url=url, run_period=date(year, mon, 1))
        print(result.status, Path(f).name, flush=True)


if __name__ == "__main__":
    main()
