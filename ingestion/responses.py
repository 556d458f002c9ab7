"""A province's returned findings workbook: recognised by its content, read row by row against the open
findings of the warehouse, and stored with lineage (file, row) in audit.finding_responses.

The workbook is the one the monthly alert attaches (alerts.workbook writes it with the headers below): a
sheet `Phát hiện` whose header row names `Mã phát hiện` (the finding id), a line above it with the province
code and the month, the findings' figures, and two answer columns `Giải trình` and `Hướng xử lý`. Only the
finding id and the two answer columns are read; figures typed over are ignored, and reported.

* unknown or closed finding ids are stored as not taken and reported back (the file's message and the
  province's next alert), never guessed;
* a row whose figures differ from the finding's is accepted for its answer, and the change is reported;
* a workbook without an answer column, without its province or month, or listing another province's
  findings is rejected (quarantined like any bad file) with the sheet, row and column at fault.
"""

from __future__ import annotations

import html
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from python_calamine import CalamineWorkbook

from ingestion import manifest
from ingestion.container import check_workbook
from ingestion.errors import RejectedFile
from ingestion.file_period import label_period
from ingestion.text import fold
from ntp_core.response_workbook import ACTION, EXPLANATION, FIGURES, FINDING_ID, PERIOD_LABEL, PROVINCE_LABEL, SHEET

KIND = "finding_response"
HEADER_ROWS = 8  # the header row is looked for in the first rows of the sheet
OPEN = ("new", "persisting", "explained")


@dataclass
class ResponseLoad:
    file_id: int
    period: date
    province_code: str
    accepted: int
    notes: list[str] = field(default_factory=list)


def _sheet_name(names: list[str]) -> str | None:
    return next((n for n in names if fold(n).strip() == fold(SHEET)), None)


def _has_response_sheet(path: Path) -> bool:
    """A cheap first look (the sheet names in xl/workbook.xml), so other workbooks pay ~1 ms."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/workbook.xml")
        if info.file_size > 1 << 20:
            return False
        xml = z.read(info).decode("utf-8", "replace")
    names = [html.unescape(n) for n in re.findall(r"<(?:\w+:)?sheet\b[^>]*\bname=\"([^\"]*)\"", xml)]
    return _sheet_name(names) is not None


def is_response_workbook(path: Path) -> bool:
    """True for a workbook with a `Phát hiện` sheet whose header row names `Mã phát hiện`."""
    try:
        if not _has_response_sheet(path):
            return False
        check_workbook(path)  # never expand a zip bomb to look at it
        wb = CalamineWorkbook.from_path(str(path))
        name = _sheet_name(wb.sheet_names)
        if name is None:
            return False
        rows = wb.get_sheet_by_name(name).to_python(nrows=HEADER_ROWS)
    except Exception:  # noqa: BLE001 - not readable as a response: the workbook path decides and reports
        return False
    return _header_row(rows) is not None


def _header_row(rows: list[list]) -> int | None:
    for n, row in enumerate(rows):
        if any(isinstance(v, str) and fold(v).strip() == fold(FINDING_ID) for v in row):
            return n
    return None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _label_cell(rows: list[list], label: str) -> object:
    """The cell right of `label` in the rows above the header (None when there is none)."""
    for row in rows:
        for i, v in enumerate(row[:-1]):
            if isinstance(v, str) and fold(v).strip() == fold(label):
                return row[i + 1]
    return None


def _label_value(rows: list[list], label: str) -> str:
    return _text(_label_cell(rows, label))


def _number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    try:
        return Decimal(str(value).replace(".", "").replace(",", ".").replace(" ", ""))
    except ArithmeticError:
        return None


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "—"
    return f"{int(value):,}".replace(",", ".") if value == value.to_integral_value() else str(value)


def read_response(path: Path) -> tuple[date, str, list[dict]]:
    """(month, province code, rows) of a returned workbook; each row: source_row, finding_key, the answers
    and the figures as typed. Raises RejectedFile for a malformed one."""
    check_workbook(path)
    wb = CalamineWorkbook.from_path(str(path))
    sheet = _sheet_name(wb.sheet_names)
    if sheet is None:
        raise RejectedFile("response_no_sheet", f"a returned findings workbook needs the sheet '{SHEET}'")
    rows = wb.get_sheet_by_name(sheet).to_python()
    header_at = _header_row(rows[:HEADER_ROWS])
    if header_at is None:
        raise RejectedFile("response_no_header", f"no header row naming '{FINDING_ID}'", sheet=sheet)
    header = {fold(_text(v)): i for i, v in enumerate(rows[header_at]) if _text(v)}
    for needed in (EXPLANATION, ACTION):
        if fold(needed) not in header:
            raise RejectedFile(
                "response_missing_column",
                f"the answer column '{needed}' is missing from the header row; return the workbook as sent",
                sheet=sheet,
                row=header_at + 1,
            )
    province = _label_value(rows[:header_at], PROVINCE_LABEL)
    period = label_period(_label_cell(rows[:header_at], PERIOD_LABEL))
    if not province or period is None:
        raise RejectedFile(
            "response_no_province",
            f"the cells '{PROVINCE_LABEL}' and '{PERIOD_LABEL}' above the header must keep the province and month",
            sheet=sheet,
            row=header_at,
        )
    province = province.zfill(2)
    col = {key: header[fold(key)] for key in (FINDING_ID, EXPLANATION, ACTION, *FIGURES) if fold(key) in header}
    out = []
    for n, row in enumerate(rows[header_at + 1 :], start=header_at + 2):

        def cell(key: str, row=row):
            i = col.get(key)
            return row[i] if i is not None and i < len(row) else None

        key = _text(cell(FINDING_ID))
        explanation, action = _text(cell(EXPLANATION)), _text(cell(ACTION))
        if not key and not explanation and not action:
            continue
        out.append(
            {
                "source_row": n,
                "finding_key": key,
                "explanation": explanation or None,
                "planned_action": action or None,
                "figures": {name: _number(cell(name)) for name in FIGURES if name in col},
                "id_column": _column_letter(col[FINDING_ID]),
            }
        )
    return period, province, out


def load_response(conn: psycopg.Connection, path: Path, base: dict) -> ResponseLoad:
    """Validate a returned workbook against the open findings and store its answers; RejectedFile when
    it cannot be taken at all."""
    period, province, rows = read_response(path)
    keys = sorted({r["finding_key"] for r in rows if r["finding_key"]})
    known: dict[str, dict] = {}
    exists = conn.execute("select to_regclass('marts.fct_findings')").fetchone()
    if keys and exists and exists[0]:
        cur = conn.execute(
            """select distinct on (finding_key) finding_key, province_code, status, period,
                      province_value_vnd, treasury_value_vnd, delta_vnd
               from marts.fct_findings where finding_key = any(%s)
               order by finding_key, period desc""",
            (keys,),
        )
        names = [d.name for d in cur.description or []]
        known = {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}
    for r in rows:
        finding = known.get(r["finding_key"])
        if finding and finding["province_code"] != province:
            raise RejectedFile(
                "response_other_province",
                f"finding {r['finding_key']} belongs to province {finding['province_code']}, "
                f"not to {province} named by this workbook",
                sheet=SHEET,
                row=r["source_row"],
                column=r["id_column"],
                period=period,
                province_code=province,
            )
    notes: list[str] = []
    stored: list[tuple] = []  # (row, key as typed, explanation, action, outcome, note)
    for r in rows:
        where = f"row {r['source_row']}"
        key, finding = r["finding_key"], known.get(r["finding_key"])
        answer = (r["explanation"], r["planned_action"])
        if not key:
            notes.append(f"{where}: no finding id; the answer was not taken")
            stored.append((r["source_row"], "", *answer, "no_finding_id", None))
        elif finding is None:
            notes.append(f"{where}: unknown finding id {key!r}; the answer was not taken")
            stored.append((r["source_row"], key, *answer, "unknown_finding", None))
        elif finding["status"] not in OPEN:
            closed = f"{finding['period']:%Y-%m}"
            notes.append(
                f"{where}: finding {key} is closed ({finding['status']} in {closed}); the answer was not taken"
            )
            stored.append((r["source_row"], key, *answer, "closed_finding", closed))
        elif r["explanation"] or r["planned_action"]:
            changed = [
                f"{name} {_fmt(finding[column])} → {_fmt(r['figures'].get(name))}"
                for name, column in FIGURES.items()
                if name in r["figures"] and not _same(finding[column], r["figures"][name])
            ]
            note = "; ".join(changed) or None
            if note:
                notes.append(f"{where}: finding {key}: figures typed over, ignored: {note}; the answer was taken")
            stored.append((r["source_row"], key, *answer, "accepted", note))
    accepted = sum(1 for row in stored if row[4] == "accepted")
    message = "; ".join(notes) or None
    file_id = manifest.insert(
        conn,
        **base,
        kind=KIND,
        period=period,
        province_code=province,
        status="loaded",
        row_count=accepted,
        error_message=message,
    )
    received: datetime = base["received_at"]
    with conn.cursor() as cur:
        cur.executemany(
            """insert into audit.finding_responses (file_id, source_row, finding_key, period, province_code,
                   explanation, planned_action, outcome, note, received_at)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(file_id, row, key, period, province, e, a, o, note, received) for row, key, e, a, o, note in stored],
        )
    return ResponseLoad(file_id, period, province, accepted, notes)


def _same(stored, typed: Decimal | None) -> bool:
    if stored is None or typed is None:
        return stored is None and typed is None
    return abs(Decimal(stored) - typed) < Decimal("0.5")
