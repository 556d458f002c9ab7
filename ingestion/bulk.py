"""The Treasury bulk path: COPY the delivered bytes straight into raw.treasury_lines, then check them
with one set-based scan in the same transaction.

Taken only for a UTF-8 extract with exactly the twelve contract columns and no total line. file_id and
period come from transaction-local settings and source_line from a sequence reset to 2 under an advisory
lock (the table's defaults; for the load itself file_id and period become constants), so neither Python
nor SQL touches a line on the way in. While the bytes
stream, the client hashes each line to spot exact duplicates. Anything the scan does not accept as is
(codes to pad, spaces, a second month, an amount out of range…) makes the caller roll back to its
savepoint and take the staging path, which names the first bad line or fixes and reports the variant.
An unknown ma_ctmt is the one irregularity handled here: those lines are moved to audit.rejected_lines.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

from ingestion.csvformat import CsvFormat
from ingestion.file_period import ky_bao_cao_period
from ingestion.partitions import month_partition
from ingestion.treasury_contract import MAX_AMOUNT, TREASURY_COLUMNS

COPY_CHUNK = 1 << 22
HASH_SLICE = 1 << 18
LOCK_KEY = 7304  # serialises the source_line sequence between Treasury loads


class NeedsStaging(Exception):
    """The file is readable but not in the canonical shape the bulk path accepts as is."""


@dataclass
class BulkLoad:
    period: date
    province_code: str | None
    row_count: int
    notes: list[str] = field(default_factory=list)


def eligible(fmt: CsvFormat, kind: str, today: date) -> date | None:
    """The report month when the bulk path may be tried, else None."""
    if kind != "treasury_extract" or fmt.encoding != "UTF8" or fmt.trailer:
        return None
    if sorted(fmt.header) != sorted(TREASURY_COLUMNS) or len(fmt.first_row) != len(fmt.header):
        return None
    period = ky_bao_cao_period(fmt.first_row[fmt.header.index("ky_bao_cao")])
    return period if period is not None and period <= today.replace(day=1) else None


_SETTING_DEFAULTS = sql.SQL(
    "alter table {} "
    "alter column file_id set default current_setting('ntp.load_file_id')::bigint, "
    "alter column period set default current_setting('ntp.load_period')::date"
)


def _constant_defaults(conn: psycopg.Connection, partition: sql.Composable, file_id: int, period: date) -> bool:
    """For this load only, make file_id and period constant defaults of the month's partition (restored
    before commit).

    A constant costs nothing per line, where `current_setting(…)::type` costs a settings lookup and a cast
    per line (≈ 0.4 s per million lines, a fifth of the load). The ALTER holds the partition's exclusive
    lock to the end of the transaction, so it is only taken when free within a second (nothing but the
    loader writes raw.treasury_lines, and dbt reads it after ingestion; other months are not locked);
    otherwise the settings defaults serve, with the same result."""
    stmt = sql.SQL(
        "alter table {} alter column file_id set default {}, alter column period set default {}::date"
    ).format(partition, sql.Literal(file_id), sql.Literal(period.isoformat()))
    try:
        with conn.transaction():
            conn.execute("set local lock_timeout = '1s'")
            conn.execute(stmt)
            conn.execute("set local lock_timeout to default")
    except psycopg.errors.LockNotAvailable:
        return False
    return True


class _LineHashes:
    """Hashes every physical line of the chunks it is fed, on a thread of its own, so that splitting and
    hashing (≈ 0.3 s per million lines) overlap the COPY instead of pausing it; 8 bytes a line (an int64
    array, not a set's ≈ 60), so memory stays small at 5 M lines. At most two chunks wait."""

    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.lines = 0
        self._tail = b""
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bulk-line-hashes", daemon=True)
        self._thread.start()

    def feed(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def _add(self, parts: list[bytes]) -> None:
        self.arrays.append(np.fromiter(map(hash, parts), dtype=np.int64, count=len(parts)))
        self.lines += len(parts)

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                # Slices of 256 KiB: each C call (split, hash, fromiter) then holds the GIL for well under a
                # millisecond, so the thread feeding the COPY is never kept from the socket for long.
                for at in range(0, len(chunk), HASH_SLICE):
                    buf = self._tail + chunk[at : at + HASH_SLICE]
                    cut = buf.rfind(b"\n")
                    if cut < 0:
                        self._tail = buf
                        continue
                    self._tail = buf[cut + 1 :]
                    self._add(buf[:cut].split(b"\n"))
            if self._tail.strip():
                self._add([self._tail])
        except BaseException as err:  # noqa: BLE001  (re-raised in the caller's thread by finish)
            self._error = err
            while self._queue.get() is not None:  # keep draining, or feed() would block forever
                pass

    def finish(self) -> tuple[int, bool]:
        """(physical lines, whether two of them hashed alike)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        if not self.arrays:
            return 0, False
        sorted_hashes = np.concatenate(self.arrays)
        sorted_hashes.sort()  # sort + neighbours: ≈ 50 × faster than np.unique on this size
        return self.lines, bool((sorted_hashes[1:] == sorted_hashes[:-1]).any())

    def abandon(self) -> None:
        self._queue.put(None)
        self._thread.join()


def _stream(conn: psycopg.Connection, partition: sql.Composable, path: Path, fmt: CsvFormat) -> tuple[int, bool]:
    """COPY the data lines into the month's partition; returns (lines sent, whether two physical lines hashed
    alike)."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in fmt.header)
    stmt = sql.SQL("copy {} ({}) from stdin (format csv, header true, delimiter {})").format(
        partition, cols, sql.Literal(fmt.delimiter)
    )
    hashes = _LineHashes()
    try:
        with conn.cursor() as cur, cur.copy(stmt) as copy, open(path, "rb") as f:
            f.seek(fmt.start)
            left = fmt.end - fmt.start
            while left > 0:
                chunk = f.read(min(COPY_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                hashes.feed(chunk)
                copy.write(chunk)
    except BaseException:
        hashes.abandon()
        raise
    lines, maybe_dupes = hashes.finish()
    return lines - 1, maybe_dupes  # the header is one of the lines


MAX_GROUPS = 200_000  # a canonical month has a few thousand (province, code, source, type, year) keys


def _check(
    conn: psycopg.Connection,
    partition: sql.Composable,
    file_id: int,
    period: date,
    provinces: frozenset[str],
    ctmt_codes: frozenset[str],
) -> tuple[int, int, str | None, str | None] | None:
    """One scan, grouped by the coded columns: (lines, lines with an unknown ma_ctmt, lowest and highest
    ma_tinh), or None when a line is not accepted as is. The domain checks then run once per key in
    Python instead of once per line in SQL (half the scan's cost); only the amounts' ranges and the code
    widths / untrimmed names are per-line work, folded into each key's min, max and bool_or."""
    # Hash the keys, never sort a million lines for them: a table without statistics for the new lines
    # makes the planner guess a group per line and choose sort + group (several times slower).
    (sort, _) = conn.execute(
        "select current_setting('enable_sort'), set_config('enable_sort', 'off', true)"
    ).fetchone() or (None, None)
    rows = conn.execute(
        sql.SQL(
            "select ma_tinh, ma_ctmt, nguon_von, loai_von, nam_kh, ky_bao_cao, count(*), "
            "min(du_toan_giao), max(du_toan_giao), min(luy_ke_thanh_toan), max(luy_ke_thanh_toan), "
            "min(thanh_toan_trong_ky), max(thanh_toan_trong_ky), "
            "bool_or(length(ma_kbnn) <> 4 or length(ma_dvqhns) <> 7 "
            "  or ten_dvqhns like ' %%' or ten_dvqhns like '%% ') "  # = differs from btrim(), without a copy
            "from {} where file_id = %s group by 1, 2, 3, 4, 5, 6 limit %s"
        ).format(partition),
        (file_id, MAX_GROUPS + 1),
    ).fetchall()
    conn.execute("select set_config('enable_sort', %s, true)", (sort,))
    if len(rows) > MAX_GROUPS:
        return None
    ky = period.year * 100 + period.month
    n = bad_ctmt = 0
    for tinh, ctmt, nguon, loai, nam, ky_row, count, d_lo, d_hi, l_lo, l_hi, t_lo, t_hi, to_fix in rows:
        if (
            ky_row != ky
            or tinh not in provinces
            or nguon not in ("NSTW", "NSDP")
            or loai not in ("DTPT", "SN")
            or not 2000 <= nam <= period.year
            or d_lo < 0
            or d_hi > MAX_AMOUNT
            or l_lo < 0
            or l_hi > MAX_AMOUNT
            or t_lo < -MAX_AMOUNT
            or t_hi > MAX_AMOUNT
            or to_fix
        ):
            return None
        n += count
        if ctmt not in ctmt_codes:
            bad_ctmt += count
    codes = {r[0] for r in rows}
    lo = min(codes) if codes else None
    hi = max(codes) if codes else None
    return n, bad_ctmt, lo, hi


def load(
    conn: psycopg.Connection,
    path: Path,
    fmt: CsvFormat,
    file_id: int,
    period: date,
    provinces: frozenset[str],
    ctmt_codes: frozenset[str],
) -> BulkLoad:
    """COPY and check; raises NeedsStaging, after which the caller rolls back its savepoint."""
    conn.execute(
        "select pg_advisory_xact_lock(%s), set_config('ntp.load_file_id', %s, true), "
        "set_config('ntp.load_period', %s, true), setval('raw.treasury_lines_source_line', 2, false)",
        (LOCK_KEY, str(file_id), period.isoformat()),
    )
    partition = month_partition(conn, "raw.treasury_lines", period)
    constant = _constant_defaults(conn, partition, file_id, period)
    try:
        sent, maybe_dupes = _stream(conn, partition, path, fmt)
    except psycopg.errors.DataError as err:  # a value that does not cast: the staging path names it
        raise NeedsStaging(str(err)) from err
    if constant:
        conn.execute(_SETTING_DEFAULTS.format(partition))
    facts = _check(conn, partition, file_id, period, provinces, ctmt_codes)
    if facts is None:
        raise NeedsStaging("not canonical")
    n, bad_ctmt, lo, hi = facts
    if n != sent or bad_ctmt == n:
        raise NeedsStaging("not canonical")
    notes: list[str] = []
    if fmt.trailing_blank:
        notes.append(f"{fmt.trailing_blank} trailing blank line(s) ignored")
    if bad_ctmt:
        set_aside_unknown_ctmt(conn, partition, file_id, sorted(ctmt_codes))
        notes.append(f"{bad_ctmt} line(s) with an unknown ma_ctmt set aside (audit.rejected_lines)")
    dropped = drop_duplicates(conn, partition, file_id) if maybe_dupes else 0
    if dropped:
        notes.append(f"{dropped} exact duplicate line(s) dropped")
    return BulkLoad(period, lo if lo == hi else None, n - bad_ctmt - dropped, notes)


def set_aside_unknown_ctmt(conn: psycopg.Connection, partition: sql.Composable, file_id: int, codes: list[str]) -> None:
    conn.execute(
        sql.SQL(
            "with moved as (delete from {} where file_id = %(fid)s "
            "and not ma_ctmt = any(%(codes)s) returning *) "
            "insert into audit.rejected_lines (file_id, source_line, column_name, raw_value, error_code, "
            "message, period, province_code, line) "
            "select file_id, source_line, 'ma_ctmt', ma_ctmt, 'unknown_component', "
            "format('line %%s: ma_ctmt ''%%s'' is not a programme/project code', source_line, ma_ctmt), "
            "period, ma_tinh, to_jsonb(moved) - 'file_id' - 'source_line' - 'period' from moved"
        ).format(partition),
        {"fid": file_id, "codes": codes},
    )


_VALUE_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in TREASURY_COLUMNS)


def drop_duplicates(conn: psycopg.Connection, partition: sql.Composable, file_id: int) -> int:
    """Delete exact repeats of an earlier line of the same file (a re-run export); returns how many."""
    cur = conn.execute(
        sql.SQL(
            "delete from {part} t using (select source_line from (select source_line, "
            "row_number() over (partition by {cols} order by source_line) rn from {part} "
            "where file_id = %(fid)s) x where rn > 1) d where t.file_id = %(fid)s "
            "and t.source_line = d.source_line"
        ).format(part=partition, cols=_VALUE_COLUMNS),
        {"fid": file_id},
    )
    return cur.rowcount
