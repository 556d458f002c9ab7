"""Ingest one delivered file: archive, identify, parse, validate, load into raw, record in audit.files.

Everything the warehouse learns from a file is written in one transaction; the archive copy is written
before it, atomically and content-addressed, so a retry after a crash is harmless.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion import manifest
from ingestion.archive import NotARegularFile, Snapshot, empty_file_key, quarantine, take
from ingestion.csvload import load_csv
from ingestion.errors import RejectedFile
from ingestion.identify import RESPONSE, UNKNOWN, WORKBOOK, identify, is_unsafe_name
from ingestion.partitions import month_partition
from ingestion.responses import load_response
from ingestion.workbook import WorkbookReport, parse_workbook, warm_up
from ntp_core.settings import Settings
from ntp_core.settings import load as load_settings
from ntp_core.warehouse import connect

log = logging.getLogger(__name__)

#: The cells' columns in the order the loader writes them: the file's own columns, then those of the
#: worksheet row (the same for every figure of a line), then those of the figure.
CELL_COLUMNS = (
    "file_id",
    "period",
    "province_code",
    "sheet",
    "source_row",
    "capital_type",
    "stt",
    "component_key",
    "component_label",
    "source_column",
    "plan_block",
    "measure",
    "fund_source",
    "value",
    "value_as_reported",
)
#: What COPY's text format escapes in a value (as psycopg's own row writer does).
_COPY_SPECIAL = re.compile(r"[\\\t\n\r\b\v\f]")
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\v": "\\v", "\f": "\\f"}


@dataclass
class IngestResult:
    file_id: int | None
    path: str
    kind: str
    status: str  # loaded | duplicate | superseded | quarantined
    period: str | None
    province_code: str | None
    row_count: int
    error_code: str | None
    error_message: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def _period_text(period: date | None) -> str | None:
    return period.strftime("%Y-%m") if period else None


__all__ = ["IngestResult", "empty_file_key", "ingest_file", "ingest_files"]


def human_message(name: str, err: RejectedFile) -> str:
    where = err.where()
    return f"{name}: {where + ': ' if where else ''}{err.message} [{err.code}]"


def _connect(warehouse_url: str) -> psycopg.Connection:
    return connect(warehouse_url)


#: What reading a file may raise besides a RejectedFile that is still the file's fault, not the machine's:
#: the file is quarantined as unreadable (with the traceback in the log) and the month goes on.
_UNREADABLE = (
    MemoryError,
    RecursionError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    OSError,
    UnicodeError,
    AssertionError,
)


@dataclass
class Prepared:
    """A delivered file read ahead of its load: archived, identified and, a workbook, parsed — or why not.
    Nothing in the warehouse is read or written here, so this can run while another file loads."""

    path: Path
    snap: Snapshot | None = None
    not_regular: NotARegularFile | None = None
    kind: str = UNKNOWN
    report: WorkbookReport | None = None  # None for a workbook the archive held already (parsed when loaded)
    error: Exception | None = None  # a RejectedFile or one of _UNREADABLE, raised again when the file loads


def prepare(path: Path, settings: Settings, today: date | None = None) -> Prepared:
    """Archive, identify and (a workbook new to the archive) parse one delivered file; bad input is kept in
    `error`, never raised. Only a failure to archive (the disk) raises. Content the archive already held is
    most likely a re-delivery: its parse waits until the manifest says it is not one."""
    path = Path(path)
    try:
        # The one read of the delivered path: O_NOFOLLOW, into the archive; all else reads the archive copy.
        snap = take(path, settings.archive_dir)
    except NotARegularFile as err:
        return Prepared(path, not_regular=err)
    ready = Prepared(path, snap)
    try:
        ready.kind = identify(snap.stored, name=path.name)
        if ready.kind == WORKBOOK and snap.fresh:
            ready.report = parse_workbook(snap.stored, today=today)
    except (RejectedFile, *_UNREADABLE) as err:
        ready.error = err
    return ready


def ingest_file(
    path: Path,
    *,
    warehouse_url: str,
    run_period: date,
    settings: Settings | None = None,
    today: date | None = None,
    conn: psycopg.Connection | None = None,
    prepared: Prepared | None = None,
) -> IngestResult:
    """Ingest one file; never raises for bad input, only for infrastructure errors (database down).

    `conn` (optional) is an open connection to reuse, left open and idle afterwards; `prepared` (optional)
    is this file already read by `prepare`."""
    settings = settings or load_settings()
    ready = prepared if prepared is not None else prepare(Path(path), settings, today)
    path = ready.path
    name = path.name
    if ready.not_regular is not None:
        return _not_regular(path, ready.not_regular, warehouse_url=warehouse_url, run_period=run_period, conn=conn)
    snap = ready.snap
    assert snap is not None  # prepare archived it
    stored = snap.stored
    sha = snap.sha256
    base = {
        "sha256": sha,
        "original_name": name,
        "archive_path": str(stored.relative_to(settings.data_dir))
        if stored.is_relative_to(settings.data_dir)
        else str(stored),
        "size_bytes": snap.size,
        "received_at": datetime.fromtimestamp(snap.mtime, tz=UTC),
        "run_period": run_period,
    }
    with nullcontext(conn) if conn is not None else _connect(warehouse_url) as conn:
        conn.execute("select pg_advisory_xact_lock(7303, hashtext(%s))", (sha,))
        # A path-like name is quarantined for its NAME: only the same name and bytes again are that
        # delivery again, and such a quarantine never makes a properly named delivery a duplicate.
        existing = manifest.find(conn, sha, unsafe_name=name if is_unsafe_name(name) else None)
        if existing:
            conn.rollback()
            fid, kind, status, period, province, rows, code, msg = existing
            return IngestResult(fid, str(path), kind, "duplicate", _period_text(period), province, 0, code, msg)
        kind = ready.kind
        try:
            if ready.error is not None:
                raise ready.error
            if kind == WORKBOOK:
                report = ready.report or parse_workbook(stored, today=today)
                result = _load_workbook(conn, stored, base, report)
            elif kind == RESPONSE:
                result = _load_response(conn, stored, base)
            else:
                result = _load_csv(conn, stored, base, kind, today)
            conn.commit()
            result.path = str(path)
            return result
        except RejectedFile as err:
            conn.rollback()
            return _quarantine(conn, path, stored, base, kind, err, settings)
        except (psycopg.DataError, psycopg.IntegrityError) as err:
            conn.rollback()
            rej = RejectedFile("invalid_value", f"a value the warehouse refuses: {err.diag.message_primary}")
            return _quarantine(conn, path, stored, base, kind, rej, settings)
        except psycopg.Error:
            raise
        except _UNREADABLE as err:
            conn.rollback()
            log.exception("unexpected failure reading %s", path)
            rej = RejectedFile("unreadable", f"the file could not be read ({type(err).__name__}: {err})")
            return _quarantine(conn, path, stored, base, kind, rej, settings)


def _not_regular(
    path: Path, err: NotARegularFile, *, warehouse_url: str, run_period: date, conn: psycopg.Connection | None
) -> IngestResult:
    """A path that is no longer a regular file when the loader opens it (a link swapped in after
    discovery): nothing is read from it, nothing copied; the manifest records the refusal by name."""
    key = hashlib.sha256(b"not a regular file\0" + path.name.encode("utf-8", "surrogateescape")).hexdigest()
    rej = RejectedFile(
        "not_a_regular_file", f"{err}: it changed after it was found; nothing was read from it, send the file again"
    )
    human = human_message(path.name, rej)
    with nullcontext(conn) if conn is not None else _connect(warehouse_url) as conn:
        conn.execute("select pg_advisory_xact_lock(7303, hashtext(%s))", (key,))
        existing = manifest.find(conn, key)
        if existing:
            conn.rollback()
            fid, kind, status, period, province, rows, code, msg = existing
            return IngestResult(fid, str(path), kind, "duplicate", _period_text(period), province, 0, code, msg)
        file_id = manifest.insert(
            conn,
            sha256=key,
            original_name=path.name,
            archive_path="",
            size_bytes=0,
            received_at=datetime.now(tz=UTC),
            run_period=run_period,
            kind=UNKNOWN,
            status="quarantined",
            row_count=0,
            error_code=rej.code,
            error_message=human,
        )
        conn.commit()
    log.warning("refused %s", human)
    return IngestResult(file_id, str(path), UNKNOWN, "quarantined", None, None, 0, rej.code, human)


def _load_workbook(conn: psycopg.Connection, path: Path, base: dict, report: WorkbookReport) -> IngestResult:
    # The month's partition first, in its own statement: it may wait for another loader of a new month,
    # which must not happen while this one holds a write on audit.files. The COPY goes into the partition
    # directly; its statement-level lineage trigger checks the file_id once (schema.sql).
    partition = month_partition(conn, "raw.province_report_cells", report.period)
    file_id = manifest.insert(
        conn,
        **base,
        kind=WORKBOOK,
        period=report.period,
        province_code=report.province_code,
        report_date=report.report_date,
        replaces_note=report.replaces_note,
        status="loaded",
        row_count=len(report.figures),
        unit=report.unit,
    )
    copy_sql = sql.SQL("copy {} ({}) from stdin").format(
        partition, sql.SQL(", ").join(map(sql.Identifier, CELL_COLUMNS))
    )
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        copy.write(_cell_lines(file_id, report))
    status = manifest.recompute_versions(conn, WORKBOOK, report.period, report.province_code)[file_id]
    return IngestResult(
        file_id,
        str(path),
        WORKBOOK,
        status,
        _period_text(report.period),
        report.province_code,
        len(report.figures),
        None,
        None,
    )


def _copy_field(value: object) -> str:
    """One value in COPY's text format, as psycopg's row writer sends it."""
    if value is None:
        return "\\N"
    if isinstance(value, Decimal) and value.is_nan():
        return "NaN"
    text = value.isoformat() if isinstance(value, date) else str(value)
    return _COPY_SPECIAL.sub(lambda m: _COPY_ESCAPES[m.group(0)], text) if _COPY_SPECIAL.search(text) else text


def _cell_lines(file_id: int, report: WorkbookReport) -> str:
    """The workbook's figures as one block of COPY text lines, in CELL_COLUMNS order. The columns of a
    worksheet line are formatted once per line and those of a worksheet column once per workbook (the
    report shares one tuple for each): per figure only its value and the text as reported are."""
    head = "\t".join(map(_copy_field, (file_id, report.period, report.province_code)))
    lines: list[str] = []
    columns: dict[tuple, str] = {}
    last_line: tuple | None = None
    prefix = ""
    special = _COPY_SPECIAL.search
    for line, column, value, as_reported in report.figures:
        if line is not last_line:
            last_line = line
            prefix = "\t".join([head, *map(_copy_field, line), ""])
        text = columns.get(column)
        if text is None:
            text = columns[column] = "\t".join([*map(_copy_field, column), ""])
        shown = value if type(value) is int or (type(value) is Decimal and value.is_finite()) else _copy_field(value)
        if type(as_reported) is not str or special(as_reported):
            as_reported = _copy_field(as_reported)
        lines.append(f"{prefix}{text}{shown}\t{as_reported}\n")
    block = "".join(lines)
    if "\x00" in block:  # refused as psycopg's row writer refuses it
        raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return block


def _load_response(conn: psycopg.Connection, path: Path, base: dict) -> IngestResult:
    r = load_response(conn, path, base)
    message = "; ".join(r.notes) or None
    return IngestResult(
        r.file_id, str(path), RESPONSE, "loaded", _period_text(r.period), r.province_code, r.accepted, None, message
    )


def _load_csv(conn: psycopg.Connection, path: Path, base: dict, kind: str, today: date | None) -> IngestResult:
    file_id = manifest.insert(conn, **base, kind=kind, status="loaded")
    res = load_csv(conn, path, file_id, today=today)
    message = "; ".join(res.notes) or None
    manifest.update(
        conn,
        file_id,
        period=res.period,
        province_code=res.province_code,
        row_count=res.row_count,
        error_message=message,
    )
    status = manifest.recompute_versions(conn, kind, res.period, res.province_code)[file_id]
    return IngestResult(
        file_id,
        str(path),
        kind,
        status,
        _period_text(res.period),
        res.province_code,
        res.row_count,
        None,
        message,
    )


def _quarantine(
    conn: psycopg.Connection,
    path: Path,
    stored: Path,
    base: dict,
    kind: str,
    err: RejectedFile,
    settings: Settings,
) -> IngestResult:
    period = err.period if isinstance(err.period, date) else None
    month = _period_text(period) or "unknown"
    human = human_message(path.name, err)
    report = {
        **err.to_dict(path.name),
        "human": human,
        "kind": kind,
        "sha256": base["sha256"],
        "period": month if period else None,
        "province_code": err.province_code,
    }
    quarantine(stored, base["sha256"], settings.quarantine_dir, month, report, name=path.name)
    file_id = manifest.insert(
        conn,
        **base,
        kind=kind,
        period=period,
        province_code=err.province_code,
        status="quarantined",
        row_count=0,
        error_code=err.code,
        error_message=human,
        error_sheet=err.sheet,
        error_row=err.row,
        error_column=err.column,
    )
    conn.commit()
    log.warning("quarantined %s", human)
    return IngestResult(
        file_id, str(path), kind, "quarantined", _period_text(period), err.province_code, 0, err.code, human
    )


def _ingest_in_turn(
    paths: list[Path],
    *,
    warehouse_url: str,
    run_period: date,
    settings: Settings,
    connection: Callable[[], psycopg.Connection],
) -> list[IngestResult]:
    """Files one after another on one connection, each in its own transaction; the next file is read ahead
    (archived, identified, parsed) in a thread while this one loads, so its parsing overlaps this load's
    waits on the database and the disk. `connection` gives the connection, asked for once the first file's
    reading has started (opening one overlaps it). Loads, their order and each file's outcome are those of
    `ingest_file` on each path in turn."""
    results: list[IngestResult] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-read-ahead") as ahead:
        following: Future[Prepared] | None = ahead.submit(prepare, paths[0], settings) if paths else None
        conn = connection()
        for i, path in enumerate(paths):
            assert following is not None
            ready = following.result()
            following = ahead.submit(prepare, paths[i + 1], settings) if i + 1 < len(paths) else None
            results.append(
                ingest_file(
                    path,
                    warehouse_url=warehouse_url,
                    run_period=run_period,
                    settings=settings,
                    conn=conn,
                    prepared=ready,
                )
            )
    return results


_worker_conn: psycopg.Connection | None = None


def _worker_connection(warehouse_url: str) -> psycopg.Connection:
    """The pool worker's own connection: opened once, reopened if broken."""
    global _worker_conn
    if _worker_conn is None or _worker_conn.closed or _worker_conn.broken:
        _worker_conn = _connect(warehouse_url)
    return _worker_conn


def _ingest_share(args: tuple) -> list[IngestResult]:
    """A run of files in a pool worker, on the worker's own connection, each file read when its turn comes:
    the pool's processes and their backends keep the cores busy, so a read-ahead thread would only add
    switching (P2, docs/performance.md)."""
    global _worker_conn
    paths, warehouse_url, run_period, settings = args
    try:
        conn = _worker_connection(warehouse_url)
        return [
            ingest_file(path, warehouse_url=warehouse_url, run_period=run_period, settings=settings, conn=conn)
            for path in paths
        ]
    except BaseException:
        if _worker_conn is not None:
            _worker_conn.close()
        _worker_conn = None
        raise


def guided_runs(items: list[Path], workers: int) -> list[list[Path]]:
    """Consecutive runs of `items` for `workers` processes that each take the next run when free, shrinking
    as the work left shrinks (guided scheduling): each run is the items left divided by twice the workers,
    rounded up. The first runs are long (few hand-offs), the last hold one item, so the workers finish
    within about one item of each other: 63 files on 2 workers in runs of 16, 12, 9, 7, 5, 4, 3, 2, 2, 1, 1
    and 1, where runs of equal length leave one worker idle for up to a whole run at the end."""
    runs: list[list[Path]] = []
    start, divisor = 0, 2 * max(workers, 1)
    while start < len(items):
        size = -(-(len(items) - start) // divisor)
        runs.append(items[start : start + size])
        start += size
    return runs


def ingest_files(
    paths: list[Path],
    *,
    warehouse_url: str,
    run_period: date,
    settings: Settings | None = None,
    workers: int = 2,
) -> list[IngestResult]:
    """Ingest many files, `workers` processes at a time (one: in this process, reading the next file ahead
    in a thread while it loads one); results in the order of `paths`."""
    settings = settings or load_settings()
    files = [Path(p) for p in paths]
    if workers <= 1 or len(files) <= 1:
        with ExitStack() as opened:
            return _ingest_in_turn(
                files,
                warehouse_url=warehouse_url,
                run_period=run_period,
                settings=settings,
                connection=lambda: opened.enter_context(_connect(warehouse_url)),
            )
    # fork: workers start in milliseconds with the parser already imported (at the top); each keeps one
    # connection and takes the next run of consecutive files whenever it is free (`guided_runs`)
    shares = [(run, warehouse_url, run_period, settings) for run in guided_runs(files, workers)]
    warm_up()  # once in this process rather than in every worker
    gc.freeze()  # the objects so far are never collected in a worker (a full collection there cost ≈ 20 ms)
    ctx = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            return [r for share in pool.map(_ingest_share, shares) for r in share]
    finally:
        gc.unfreeze()
