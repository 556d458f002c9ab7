"""Month partitions of the raw tables keyed by report month (raw.treasury_lines, raw.province_report_cells).

A loader asks for its month's partition inside its load transaction, right before it writes, and writes into
that partition directly: a load, a revision or a reload of a month touches that partition only. The
partition is created on first use by `raw.ensure_month_partition` (ntp_core/sql/schema.sql), as the pipeline
role, under an advisory lock per table and month: a second loader of the same new month waits for the first
one's transaction and then uses its partition; if the first one rolls back, so does the partition, and the
second creates it. Nothing is half-created: the partition and the rows come and go together. A new partition
of raw.province_report_cells gets the cells' lineage triggers right after it is attached. A workbook's
partition is asked for before the file's manifest row is written (a loader waiting for another one's new
partition holds no write on audit.files); a Treasury extract's where the lines are written.
"""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg import sql

PARTITIONED = ("raw.treasury_lines", "raw.province_report_cells")


def month_partition(conn: psycopg.Connection, table: str, period: date) -> sql.Composable:
    """The partition of `table` for `period`'s month, created if missing; its quoted name, in one statement."""
    if table not in PARTITIONED:
        raise ValueError(f"{table} is not partitioned by report month")
    # regclass's text: the name as the server would write it, quoted where needed and schema-qualified unless
    # the search path finds it first. Read from the system cache, it names a partition the same statement made
    # (a query of pg_class in that statement would not see it yet).
    row = conn.execute("select raw.ensure_month_partition(%s::regclass, %s)::text", (table, period)).fetchone()
    assert row is not None and row[0]  # the function returns the partition it found or made
    return sql.SQL(row[0])
