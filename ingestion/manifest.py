"""The audit.files manifest: one row per delivered content, and the version order of revisions."""

from __future__ import annotations

import re
from datetime import date, datetime

import psycopg

COLUMNS = (
    "sha256",
    "original_name",
    "archive_path",
    "size_bytes",
    "kind",
    "period",
    "province_code",
    "report_date",
    "replaces_note",
    "received_at",
    "status",
    "row_count",
    "error_code",
    "error_message",
    "error_sheet",
    "error_row",
    "error_column",
    "unit",
    "run_period",
)


def find(conn: psycopg.Connection, sha256: str, *, unsafe_name: str | None = None) -> tuple | None:
    """The manifest row of this content: a delivery of it under a proper name, or — `unsafe_name`, for a
    path-like name — the quarantine of the same bytes under that same name. A content known only from a
    path-like name's quarantine is not known to a properly named delivery (see schema.sql)."""
    params: tuple[str, ...]
    if unsafe_name is None:
        where, params = "error_code is distinct from 'unsafe_file_name'", (sha256,)
    else:
        where, params = "error_code = 'unsafe_file_name' and original_name = %s", (sha256, unsafe_name)
    return conn.execute(
        "select file_id, kind, status, period, province_code, row_count, error_code, "
        f"error_message from audit.files where sha256 = %s and {where}",
        params,
    ).fetchone()


def insert(conn: psycopg.Connection, **values) -> int:
    cols = [c for c in COLUMNS if c in values]
    placeholders = ", ".join(["%s"] * len(cols))
    row = conn.execute(
        f"insert into audit.files ({', '.join(cols)}) values ({placeholders}) returning file_id",
        [values[c] for c in cols],
    ).fetchone()
    assert row is not None  # insert … returning always returns the row
    return row[0]


def update(conn: psycopg.Connection, file_id: int, **values) -> None:
    sets = ", ".join(f"{c} = %s" for c in values)
    conn.execute(f"update audit.files set {sets} where file_id = %s", [*values.values(), file_id])


def lock_group(conn: psycopg.Connection, kind: str, period: date | None, province_code: str | None) -> None:
    conn.execute("select pg_advisory_xact_lock(7302, hashtext(%s))", (f"{kind}|{period}|{province_code}",))


def _replaces_date(note: str | None) -> date | None:
    if not note:
        return None
    m = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", note)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def version_key(report_date: date | None, replaces_note: str | None, received_at: datetime, sha256: str):
    """Order of versions: footer report date (a replacement note dates the file at least at the report it
    replaces and ranks after it), then the delivery time, then the content hash — never names or listing
    order. A file without any date ranks before dated ones."""
    note_date = _replaces_date(replaces_note)
    effective = max(d for d in (report_date, note_date, date.min) if d is not None)
    return (effective, replaces_note is not None, received_at, sha256)


def recompute_versions(
    conn: psycopg.Connection, kind: str, period: date | None, province_code: str | None
) -> dict[int, str]:
    """Number the loaded versions of one (kind, period, province) 1..n; only the last is `loaded`. Returns
    the status each of them is left with, by file_id.

    Treasury extracts: a national extract (no single province) covers every province, so while one is
    loaded for a month, that month's per-province extracts are all `superseded`, whatever the order they
    arrived in; the marts never add the two together."""
    lock_group(conn, kind, period, None if kind == "treasury_extract" else province_code)
    rows = conn.execute(
        "select file_id, report_date, replaces_note, received_at, sha256 from audit.files "
        "where kind = %s and period is not distinct from %s and province_code is not distinct from %s "
        "and status <> 'quarantined'",
        (kind, period, province_code),
    ).fetchall()
    ordered = sorted(rows, key=lambda r: version_key(r[1], r[2], r[3], r[4]))
    statuses: dict[int, str] = {}
    for i, r in enumerate(ordered, start=1):
        status = statuses[r[0]] = "loaded" if i == len(ordered) else "superseded"
        conn.execute(
            "update audit.files set version = %s, status = %s where file_id = %s "
            "and (version, status) is distinct from (%s, %s)",
            (i, status, r[0], i, status),
        )
    if kind == "treasury_extract":
        for file_id in _national_supersedes_provinces(conn, period):
            if file_id in statuses:
                statuses[file_id] = "superseded"
    return statuses


def _national_supersedes_provinces(conn: psycopg.Connection, period: date | None) -> list[int]:
    """Supersede the month's loaded per-province extracts while a national one is loaded; their file_ids."""
    rows = conn.execute(
        "update audit.files f set status = 'superseded' where f.kind = 'treasury_extract' "
        "and f.period = %(p)s and f.province_code is not null and f.status = 'loaded' "
        "and exists (select 1 from audit.files n where n.kind = 'treasury_extract' and n.period = %(p)s "
        "and n.province_code is null and n.status = 'loaded') returning f.file_id",
        {"p": period},
    ).fetchall()
    return [r[0] for r in rows]
