"""Which delivered files a monthly run should ingest, decided by a cheap look at their content."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from ingestion.archive import sha256_of
from ingestion.container import sniff
from ingestion.csvformat import _decode, sniff_csv
from ingestion.csvload import kind_of_header
from ingestion.text import fold

_MONTH = re.compile(r"(ngay \d{1,2} )?thang (\d{1,2})(?: nam |/)(\d{4})")
_UNTIL = re.compile(r"den het ngay \d{1,2}/(\d{1,2})/(\d{4})")
IGNORED = re.compile(r"(^\.|~\$|\.error\.json$|\.tmp$|\.part$)")


def _workbook_period(path: Path) -> date | None:
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names[:3]:
            rows = wb.get_sheet_by_name(name).to_python(nrows=15)
            for row in rows:
                for v in row:
                    if not isinstance(v, str) or not v.strip():
                        continue
                    f = fold(v)
                    for m in _MONTH.finditer(f):
                        if not m.group(1) and 1 <= int(m.group(2)) <= 12:
                            return date(int(m.group(3)), int(m.group(2)), 1)
                    m = _UNTIL.search(f)
                    if m and 1 <= int(m.group(1)) <= 12:
                        return date(int(m.group(2)), int(m.group(1)), 1)
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
            k = values.get("ky_bao_cao", "").strip()
            if re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", k):
                return kind, date(int(k[:4]), int(k[4:]), 1)
            return kind, None
        y = values.get("nam_kh", "").strip()
        return kind, date(int(y), 1, 1) if re.fullmatch(r"\d{4}", y) else None
    except Exception:
        return None, None


def sniff_period(path: Path) -> tuple[str | None, date | None]:
    """(kind or None, period or None) without parsing the whole file."""
    try:
        container = sniff(path)
    except OSError:
        return None, None
    if container == "xlsx":
        return "province_workbook", _workbook_period(path)
    if container == "csv" and path.suffix.lower() not in (".xlsx", ".xls", ".xlsm"):
        return _csv_period(path)
    return None, None


def _known_hashes(warehouse_url: str, hashes: list[str]) -> set[str]:
    if not hashes:
        return set()
    from ntp.warehouse import connect

    with connect(warehouse_url) as conn:
        rows = conn.execute("select sha256 from audit.files where sha256 = any(%s)", (hashes,)).fetchall()
    return {r[0] for r in rows}


def files_for_period(inbox: Path, period: date, warehouse_url: str) -> list[Path]:
    """Files in the inbox (recursively, any names) whose content belongs to `period`.

    * workbooks and Treasury extracts whose title / `ky_bao_cao` says `period`;
    * a plan-assignment file of year Y: in the run of Y-01, and in any later run of year Y that finds it
      not yet ingested (by sha256);
    * files whose period cannot be read and that are not yet in audit.files (by sha256), so the first run
      that sees them quarantines them.
    Sorted by path, so the list is deterministic.
    """
    period = period.replace(day=1)
    picked: list[Path] = []
    unsure: list[Path] = []
    for path in sorted(p for p in Path(inbox).rglob("*") if p.is_file()):
        if IGNORED.search(path.name):
            continue
        kind, p = sniff_period(path)
        if p is None:
            unsure.append(path)
        elif kind == "plan_assignment":
            if p == period:
                picked.append(path)
            elif p.year == period.year and p <= period:
                unsure.append(path)
        elif p == period:
            picked.append(path)
    if unsure:
        hashes = {path: sha256_of(path) for path in unsure}
        known = _known_hashes(warehouse_url, sorted(set(hashes.values())))
        picked.extend(path for path in unsure if hashes[path] not in known)
    return sorted(picked)
