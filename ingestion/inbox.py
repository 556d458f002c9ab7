"""Which delivered files a monthly run should ingest, decided by a cheap look at their content."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from python_calamine import CalamineWorkbook

from ingestion.archive import empty_file_key, sha256_of
from ingestion.container import check_workbook, sniff
from ingestion.csvformat import _decode, sniff_csv
from ingestion.csvload import kind_of_header
from ingestion.errors import RejectedFile
from ingestion.file_period import TITLE_ROWS, ky_bao_cao_period, plan_year_period, rows_period
from ingestion.identify import is_unsafe_name
from ntp_core.warehouse import connect

# Hidden and temporary files of the uploader; a name starting with `..` is a path-like upload, not hidden:
# it is taken and quarantined (unsafe_file_name) so the sender learns why.
IGNORED = re.compile(r"(^\.(?!\.)|~\$|\.error\.json$|\.tmp$|\.part$)")


def _workbook_period(path: Path) -> date | None:
    """The month of the first title line, sheet by sheet, in the rows where the parser reads the title."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            period = rows_period(wb.get_sheet_by_name(name).to_python(nrows=TITLE_ROWS))
            if period is not None:
                return period
    except Exception:
        return None
    return None


def _csv_period(path: Path) -> tuple[str | None, date | None]:
    """(kind, period) from the header and first data line; plan files give January of nam_kh."""
    try:
        fmt = sniff_csv(path)
        kind = kind_of_header(fmt.header)
        if kind is None:
            return None, None
        with open(path, "rb") as f:
            f.seek(fmt.start)
            head = f.read(1 << 14)
        text = _decode(head, fmt.encoding)
        lines = text.splitlines()
        if len(lines) < 2:
            return kind, None
        row = next(csv.reader([lines[1]], delimiter=fmt.delimiter))
        values = dict(zip(fmt.header, row, strict=False))
        if kind == "treasury_extract":
            return kind, ky_bao_cao_period(values.get("ky_bao_cao", "").strip())
        return kind, plan_year_period(values.get("nam_kh", ""))
    except Exception:
        return None, None


def sniff_period(path: Path) -> tuple[str | None, date | None]:
    """(kind or None, period or None) without parsing the whole file."""
    try:
        container = sniff(path)
    except OSError:
        return None, None
    if container == "xlsx":
        try:
            check_workbook(path)  # never expand a zip bomb just to read a title line
        except RejectedFile:
            return "province_workbook", None
        return "province_workbook", _workbook_period(path)
    if container == "csv" and path.suffix.lower() not in (".xlsx", ".xls", ".xlsm"):
        return _csv_period(path)
    return None, None


def _known(warehouse_url: str, hashes: dict[Path, str]) -> set[Path]:
    """The files already in audit.files, as ingestion.load tells a re-delivery (manifest.find): by content,
    except that a path-like name is known only as its own quarantine (same bytes, same name)."""
    if not hashes:
        return set()
    with connect(warehouse_url) as conn:
        rows = conn.execute(
            "select sha256, original_name, error_code = 'unsafe_file_name' from audit.files where sha256 = any(%s)",
            (sorted(set(hashes.values())),),
        ).fetchall()
    known_content = {sha for sha, _name, unsafe in rows if not unsafe}
    known_unsafe = {(sha, name) for sha, name, unsafe in rows if unsafe}
    return {
        path
        for path, sha in hashes.items()
        if ((sha, path.name) in known_unsafe if is_unsafe_name(path.name) else sha in known_content)
    }


def _inbox_files(inbox: Path) -> list[Path]:
    """Regular files under the inbox, never following symbolic links (a link could point outside it)."""
    out: list[Path] = []
    for root, dirs, files in os.walk(inbox, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
        for name in files:
            path = Path(root) / name
            if not path.is_symlink() and path.is_file() and not IGNORED.search(name):
                out.append(path)
    return sorted(out)


class InboxOutsideRoot(ValueError):
    """A run asked for an inbox folder outside the configured inbox root."""


def confined_inbox(requested: str | os.PathLike | None, root: Path) -> Path:
    """The inbox a run reads: the configured root (`NTP_INBOX_DIR`), or `requested` (a run's conf), which
    must resolve — links followed — to the root or a folder under it; anything else is refused."""
    top = Path(root).resolve()
    if requested is None or str(requested) == "":
        return top
    asked = Path(requested)
    resolved = (asked if asked.is_absolute() else top / asked).resolve()
    if resolved != top and not resolved.is_relative_to(top):
        raise InboxOutsideRoot(
            f"inbox {str(requested)!r} resolves to {resolved}, outside the configured inbox root {top} "
            "(NTP_INBOX_DIR): refused"
        )
    return resolved


def _cached(
    paths: list[Path], cache: dict, width: int, compute: Callable[[Path, os.stat_result], list]
) -> dict[Path, list]:
    """`compute(path, stat)` per path, or its earlier answer while the file keeps its size and modification
    time. `cache` maps str(path) to [size, mtime_ns, *answer] (`width` values) and is updated in place;
    entries of paths not asked for are dropped. A path that is no longer a regular file (gone, or swapped
    for a link or a folder since it was listed) is left out; nothing is read through a link."""
    out: dict[Path, list] = {}
    for path in paths:
        try:
            st = path.stat(follow_symlinks=False)
            key = [st.st_size, st.st_mtime_ns]
            hit = cache.get(str(path))
            if isinstance(hit, list) and len(hit) == 2 + width and hit[:2] == key:
                out[path] = hit[2:]
            else:
                out[path] = compute(path, st)
        except OSError:
            continue
        cache[str(path)] = [*key, *out[path]]
    for stale in set(cache) - {str(path) for path in out}:
        del cache[stale]
    return out


def _hashes(paths: list[Path], cache: dict | None = None) -> dict[Path, str]:
    """SHA-256 (or the empty-file key) per path; `cache` as in `_cached`."""
    found = _cached(
        paths, {} if cache is None else cache, 1, lambda p, st: [sha256_of(p) if st.st_size else empty_file_key(p.name)]
    )
    return {path: answer[0] for path, answer in found.items()}


def _sniffed(paths: list[Path], cache: dict) -> dict[Path, tuple[str | None, date | None]]:
    """`sniff_period` per path; `cache` as in `_cached` (answer: kind, ISO month or null)."""

    def sniff(path: Path, _st: os.stat_result) -> list:
        kind, p = sniff_period(path)
        return [kind, p.isoformat() if p else None]

    found = _cached(paths, cache, 2, sniff)
    return {path: (kind, date.fromisoformat(p) if p else None) for path, (kind, p) in found.items()}


def _read_cache(cache_path: Path | None) -> dict:
    if cache_path is None:
        return {}
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


def _write_cache(cache_path: Path | None, cache: dict) -> None:
    """Replace the cache file in one rename (owner-only: it names the inbox's files)."""
    if cache_path is None:
        return
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_path.with_name(f".{cache_path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(cache, f)
    os.replace(tmp, cache_path)


def pending_months(inbox: Path, warehouse_url: str, *, cache_path: Path | None = None, today: date) -> dict:
    """The report months with inbox files not yet in audit.files: {month: [sha256, …]}. The listing,
    the link refusal and the "already known" rule are the ones the monthly run uses; a file whose month
    cannot be read goes to the month due on `today` (the previous calendar month), whose run quarantines it."""
    cache = _read_cache(cache_path)
    hashes = _hashes(_inbox_files(Path(inbox)), cache)
    _write_cache(cache_path, cache)
    known = _known(warehouse_url, hashes)
    months: dict[str, list[str]] = {}
    for path in sorted(set(hashes) - known):
        months.setdefault(report_month(path, today=today), []).append(hashes[path])
    return dict(sorted(months.items()))


def report_month(path: Path, *, today: date) -> str:
    """The month (YYYY-MM) whose run the watcher starts for a new file: the month its content names
    (`sniff_period`, as the run's discovery reads it), else the month due on `today` (the previous one)."""
    _kind, period = sniff_period(path)
    return (period or (today.replace(day=1) - timedelta(days=1))).strftime("%Y-%m")


def trigger_requests(months: dict[str, list[str]], inbox: Path) -> list[dict]:
    """One `ntp_monthly` trigger per month; the run id names the month and the new files' hashes, so the
    same pending files never trigger the same month twice."""
    out = []
    for month, shas in months.items():
        digest = hashlib.sha256("".join(sorted(shas)).encode()).hexdigest()[:12]
        out.append({"conf": {"period": month, "inbox": str(inbox)}, "trigger_run_id": f"inbox__{month}__{digest}"})
    return out


def files_for_period(
    inbox: Path,
    period: date,
    warehouse_url: str,
    *,
    today: date | None = None,
    cache_path: Path | None = None,
) -> list[Path]:
    """Files in the inbox (recursively, any names) that the run for `period` must ingest.

    * every workbook and Treasury extract whose title / `ky_bao_cao` says `period`;
    * files not yet in audit.files (by sha256) that belong to an EARLIER month: a late report or a
      corrected version for a past month is taken by the next run that sees it, which also rebuilds that
      month (plan-assignment files of year Y count as January of Y);
    * files not yet in audit.files whose period cannot be read, or lies after the current month, so the
      first run that sees them quarantines them with a precise error instead of leaving them unreported;
    * files for a later month that has already begun are left to that month's run.
    Workbooks are size- and zip-bomb-checked before their content is looked at. Sorted by path.

    `cache_path` (the monthly DAG gives `$NTP_DATA_DIR/inbox-periods.json`): a file's month, as read, is
    kept with its size and modification time, so a run reads only the files that are new or changed since
    the last run instead of every file the inbox ever received.
    """
    period = period.replace(day=1)
    this_month = (today or date.today()).replace(day=1)
    picked: list[Path] = []
    unsure: list[Path] = []
    cache = _read_cache(cache_path)
    periods = cache["periods"] if isinstance(cache.get("periods"), dict) else {}
    hashes_seen = cache["hashes"] if isinstance(cache.get("hashes"), dict) else {}
    sniffed = _sniffed(_inbox_files(Path(inbox)), periods)
    for path, (_kind, p) in sniffed.items():
        if p == period:
            picked.append(path)
        elif p is None or p < period or p > this_month:
            unsure.append(path)
    hashes = _hashes(unsure, hashes_seen)
    _write_cache(cache_path, {"periods": periods, "hashes": hashes_seen})
    if hashes:
        known = _known(warehouse_url, hashes)
        picked.extend(path for path in hashes if path not in known)
    return sorted(picked)
