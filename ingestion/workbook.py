"""Parse a provincial monthly workbook into one record per figure, in VND.

Header detection by label (up to three merged header rows), province, period and unit from the title
rows, report date from the footer; every figure keeps its sheet, row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from ingestion.components import matcher, normalise_stt
from ingestion.container import check_workbook
from ingestion.errors import RejectedFile
from ingestion.file_period import MONTH_LINE, REPLACES_NOTE, TITLE_ROWS, UNTIL_LINE, rows_period
from ingestion.labels import Labels, labels
from ingestion.numbers import NumberError, parse_number
from ingestion.provinces import province_from_title
from ingestion.sheetxml import SheetFacts
from ingestion.text import fold
from ntp_core.reference import MERGER_DATE

MAX_HEADER_SCAN = TITLE_ROWS
_FOOTER_DATE = re.compile(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})")
_INDEX_CELL = re.compile(r"\(?[a-z0-9]{1,2}\)?(?:\s*[=+\-x/*]\s*\(?[a-z0-9]{1,2}\)?)*")
# A workbook figure is rejected only beyond 10^18 VND (~ 500,000 x the programmes' yearly budget): a
# thousand- or million-fold unit slip must load so that NTP-T02 can flag it; negatives in parentheses
# are adjustments the contract allows. Treasury lines are machine-made and held to 10^13 per line.
MAX_FIGURE_VND = 10**18
UNIT_NAMES = {1_000_000: "trieu_dong", 1: "dong", 1_000_000_000: "ty_dong"}


def _exact(value: Decimal) -> Decimal:
    """Integral values without a trailing scale (`3000750000`, not `3000750000.000`)."""
    return value.to_integral_value() if value == value.to_integral_value() else value.normalize()


def _power_of_ten(factor: int) -> int | None:
    """n where factor is 10**n (the units: đồng, triệu đồng, tỷ đồng), else None."""
    text = str(factor)
    return len(text) - 1 if text == "1" + "0" * (len(text) - 1) else None


def _whole_scaled(shortest: str, zeros: int) -> int | None:
    """A float's shortest text (`repr`) times 10**zeros as an exact int, when that is whole and the text is
    plain digits: `1234.567` in triệu đồng (zeros 6) is 1234567000 — what Decimal arithmetic on the same
    text gives, without it. None otherwise (an exponent, or more decimals than the unit has zeros)."""
    whole, dot, fraction = shortest.partition(".")
    fraction = fraction.rstrip("0")
    if not dot or len(fraction) > zeros or "e" in fraction:
        return None
    return int(whole + fraction) * 10 ** (zeros - len(fraction))


@lru_cache(maxsize=4096)
def col_letter(idx: int) -> str:
    s = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        s = chr(65 + rem) + s
    return s


@dataclass(frozen=True)
class DataColumn:
    index: int
    plan_block: str
    measure: str
    fund_source: str


@dataclass
class WorkbookReport:
    period: date
    province_code: str
    unit: str
    unit_factor: int
    report_date: date | None
    replaces_note: str | None
    #: One record per figure: (line, column, value, as_reported). `line` is (sheet, row, capital_type, stt,
    #: component_key, label), one tuple shared by the figures of a worksheet line; `column` is (column
    #: letter, block, measure, source), one tuple shared by the figures of a worksheet column. `value` in
    #: VND (percent for the rate): an int when whole, else a Decimal; `as_reported` the cell as read.
    figures: list[tuple[tuple, tuple, int | Decimal, str]] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple]:
        """The figures as flat records: (sheet, row, column, capital_type, stt, component_key, label, block,
        measure, source, value as a Decimal, as_reported)."""
        return [
            (ln[0], ln[1], col[0], ln[2], ln[3], ln[4], ln[5], col[1], col[2], col[3], Decimal(value), as_reported)
            for ln, col, value, as_reported in self.figures
        ]


def _text(v: object) -> str:
    return v if isinstance(v, str) else ("" if v is None or v == "" else str(v))


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _filled(grid: list[list], merges: list, rows: range, cols: set[int] | None) -> dict[tuple[int, int], object]:
    """Values merged cells inherit from their top-left cell, for the given rows (and columns)."""
    fill: dict[tuple[int, int], object] = {}
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(grid):
            continue
        top = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(max(r0, rows.start), min(r1, rows.stop - 1) + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and (cols is None or c in cols):
                    fill[(r, c)] = top
    return fill


def _date(d: str, m: str, y: str, what: str, **where) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError as err:
        raise RejectedFile("unknown_period", f"{what} {d}/{m}/{y} is not a valid date", **where) from err


class _Sheet:
    def __init__(self, name: str, capital_type: str, grid: list[list], merges: list, facts: SheetFacts):
        self.name, self.capital_type, self.grid, self.merges, self.facts = (
            name,
            capital_type,
            grid,
            merges,
            facts,
        )

    def cell(self, r: int, c: int, fill: dict | None = None) -> object:
        if fill is not None and (r, c) in fill:
            return fill[(r, c)]
        row = self.grid[r]
        return row[c] if c < len(row) else ""


def _capital_type(name: str, grid: list[list], lab: Labels) -> str | None:
    ct = lab.sheet_names.get(fold(name).replace(" ", ""))
    if ct:
        return ct
    for row in grid[:12]:
        for v in row:
            if isinstance(v, str) and v.strip():
                f = fold(v)
                for title, t in lab.sheet_titles.items():
                    if f == title or f.startswith(title + " ") or f.endswith(" " + title):
                        return t
    return None


def _find_header_row(sheet: _Sheet, lab: Labels) -> int:
    for r, row in enumerate(sheet.grid[:MAX_HEADER_SCAN]):
        roles = {lab.column_role(fold(v)) for v in row if isinstance(v, str) and v.strip()}
        if roles & {"stt", "content"}:
            return r
    raise RejectedFile(
        "missing_columns",
        f"no header row with 'STT' / 'Nội dung' in the first {MAX_HEADER_SCAN} rows",
        sheet=sheet.name,
    )


def _label_kind(f: str, lab: Labels) -> bool:
    return bool(lab.column_role(f) or lab.block(f) or lab.measure(f) or lab.fund_source(f))


#: Header readings already made in this process, by what they read: the header rows' cells and the merges
#: over them (the month's 63 workbooks share a handful of layouts). Bounded; a bad header is never kept.
_HEADERS: dict[tuple, tuple[dict[str, int], list[DataColumn], int]] = {}


def _columns(sheet: _Sheet, r0: int, lab: Labels) -> tuple[dict[str, int], list[DataColumn], int]:
    """Leading/trailing column roles, data columns, and the last header row — read once per layout: what
    they depend on is the up to three rows from `r0` and, for the merges over those rows, their place
    relative to `r0` and the value of their top-left cell."""
    grid = sheet.grid
    last = min(len(grid), r0 + 3)
    merges = tuple(
        (a - r0, c0, b - r0, c1, grid[a][c0] if c0 < len(grid[a]) else "")
        for (a, c0), (b, c1) in sheet.merges
        if a < len(grid) and a < last and b >= r0
    )
    key = (id(lab), tuple(map(tuple, grid[r0:last])), merges)
    known = _HEADERS.get(key)
    if known is None:
        roles, data, header_end = _read_columns(sheet, r0, lab)
        known = (roles, data, header_end - r0)
        if len(_HEADERS) < 256:
            _HEADERS[key] = known
    roles, data, below = known
    return dict(roles), list(data), r0 + below


def _read_columns(sheet: _Sheet, r0: int, lab: Labels) -> tuple[dict[str, int], list[DataColumn], int]:
    grid = sheet.grid
    last = min(len(grid), r0 + 3)
    fill = _filled(grid, sheet.merges, range(r0, last), None)
    content_col = next(
        (c for c in range(len(grid[r0])) if lab.column_role(fold(sheet.cell(r0, c, fill))) == "content"), None
    )
    header_end = r0
    for r in range(r0 + 1, last):
        cells = [fold(sheet.cell(r, c, fill)) for c in range(len(grid[r]))]
        if (
            content_col is not None
            and content_col < len(cells)
            and cells[content_col]
            and lab.column_role(cells[content_col]) != "content"
        ):
            break
        if not any(_label_kind(f, lab) for f in cells if f):
            break
        header_end = r
    for r in range(r0, header_end):  # unmerged group labels: a block or measure spans to the right
        prev: object = ""
        for c in range(len(grid[r])):
            v = sheet.cell(r, c, fill)
            if _blank(v) and prev and (lab.block(fold(prev)) or lab.measure(fold(prev))):
                fill[(r, c)] = prev
            else:
                prev = v
    roles: dict[str, int] = {}
    data: list[DataColumn] = []
    seen: set[tuple[str, str, str]] = set()
    width = max(len(grid[r]) for r in range(r0, header_end + 1))
    for c in range(width):
        path = [fold(sheet.cell(r, c, fill)) for r in range(r0, header_end + 1)]
        role = next((lab.column_role(f) for f in path if f and lab.column_role(f)), None)
        if role:
            roles.setdefault(role, c)
            continue
        block = next((lab.block(f) for f in path if f and lab.block(f)), None)
        measure = next((lab.measure(f) for f in path if f and lab.measure(f)), None)
        source = next((lab.fund_source(f) for f in reversed(path) if f and lab.fund_source(f)), None)
        if measure and source:
            key = (block[0] if block else "current", measure, source)
            if key not in seen:
                seen.add(key)
                data.append(DataColumn(c, *key))
    if "content" not in roles:
        raise RejectedFile("missing_columns", "no 'Nội dung' column in the header", sheet=sheet.name, row=r0 + 1)
    missing = []
    blocks = {d.plan_block for d in data} | {"current"}
    for plan_block in sorted(blocks):
        for m in ("plan_assigned", "allocated", "disbursed_cumulative"):
            for s in ("NSTW", "NSDP"):
                if (plan_block, m, s) not in seen:
                    missing.append(f"{plan_block}/{m}/{s}")
    if missing:
        measures = {d.measure for d in data}
        row = r0
        if any(m not in measures for m in ("plan_assigned", "allocated", "disbursed_cumulative")):
            # a whole measure group is absent: name the header row where the measures are
            row = next(
                (
                    r
                    for r in range(r0, header_end + 1)
                    if any(lab.measure(fold(sheet.cell(r, c, fill))) for c in range(len(grid[r])))
                ),
                r0,
            )
        raise RejectedFile(
            "missing_columns",
            "required column groups missing from the header: " + ", ".join(missing),
            sheet=sheet.name,
            row=row + 1,
        )
    return roles, data, header_end


@dataclass
class _Title:
    period: date | None = None
    period_text: str = ""
    province_text: str = ""
    unit_factor: int | None = None
    replaces_note: str | None = None
    replaces_date: date | None = None
    period_where: dict = field(default_factory=dict)  # sheet/row/column of the period line
    province_where: dict = field(default_factory=dict)  # … and of the province title


def _read_title(sheet: _Sheet, r_end: int, lab: Labels) -> _Title:
    t = _Title()
    until: date | None = None
    for r in range(r_end):
        for c, v in enumerate(sheet.grid[r]):
            if not isinstance(v, str) or not v.strip():
                continue
            f = fold(v)
            where: dict[str, Any] = {"sheet": sheet.name, "row": r + 1, "column": col_letter(c)}
            m = REPLACES_NOTE.search(f)
            if m and not t.replaces_note:
                t.replaces_note = v.strip()
                day, month_text, year_text = m.groups()
                t.replaces_date = _date(day, month_text, year_text, "the replacement note's date", **where)
                f = f[: m.start()] + f[m.end() :]
            for m in MONTH_LINE.finditer(f):
                if not m.group(1) and t.period is None:
                    month, year = int(m.group(2)), int(m.group(3))
                    if not 1 <= month <= 12:
                        raise RejectedFile("unknown_period", f"'{v.strip()}': month {month} does not exist", **where)
                    t.period, t.period_text = date(year, month, 1), v.strip()
                    t.period_where = where
            m = UNTIL_LINE.search(f)
            if m and until is None:
                day, month_text, year_text = m.groups()
                until = _date(day, month_text, year_text, "the 'data until' date", **where)
                t.period_text = t.period_text or v.strip()
                t.period_where = t.period_where or where
            if not t.province_text and any(f.startswith(p + " ") for p in lab.province_prefixes[:2]):
                t.province_text = v.strip()
                t.province_where = where
            if t.unit_factor is None:
                for ul in lab.unit_labels:
                    if f.startswith(ul + " "):
                        rest = f[len(ul) :].strip()
                        for name, factor in lab.units:
                            if rest == name or rest.startswith(name + " "):
                                t.unit_factor = factor
                                break
                        if t.unit_factor is None:
                            raise RejectedFile(
                                "unknown_unit",
                                f"unit line '{v.strip()}' names no known unit (triệu đồng, đồng, tỷ đồng)",
                                **where,
                            )
                        break
    if until is not None:
        p = date(until.year, until.month, 1)
        if t.period is None:
            t.period = p
        elif t.period != p:
            raise RejectedFile(
                "unknown_period",
                f"the period line says {t.period:%m/%Y} but data until {until:%d/%m/%Y}",
                sheet=sheet.name,
            )
    return t


def _province(sheet: _Sheet, r_end: int, period: date, lab: Labels, title: _Title):
    other_seen = None
    for r in range(r_end):
        for v in sheet.grid[r]:
            if isinstance(v, str) and v.strip():
                found, other = province_from_title(v, period)
                if found:
                    return found
                other_seen = other_seen or other
    if other_seen is not None:
        if other_seen.successor_code and period.year >= 2025:
            msg = (
                f"'{other_seen.short_name}' no longer exists in {period:%m/%Y}: from 07/2025 it reports "
                f"as part of province {other_seen.successor_code}"
            )
        else:
            msg = f"'{other_seen.short_name}' does not exist in {period:%m/%Y}"
        raise RejectedFile("unknown_province", msg, sheet=sheet.name, period=period)
    shown = title.province_text or _text(sheet.cell(0, 0)).strip()
    where = title.province_where or {"sheet": sheet.name, "row": 1, "column": "A"}
    raise RejectedFile(
        "unknown_province",
        f"no recognisable province in the title rows (first title: '{shown}')",
        **where,
        period=period,
    )


@lru_cache(maxsize=65536)
def _footer_probe(f: str, markers: tuple[str, ...]) -> tuple[tuple[str, ...] | None, bool]:
    """(the report-date groups, whether a footer marker starts it) of one folded cell text: the body's
    labels repeat across rows and files, so each is searched once."""
    m = _FOOTER_DATE.search(f)
    return (m.groups() if m else None), any(f.startswith(mk) for mk in markers)


def _footer(sheet: _Sheet, start: int, lab: Labels) -> tuple[int, date | None]:
    """Row index where the footer starts (len(grid) if none) and the report date it carries."""
    footer_at = len(sheet.grid)
    markers = lab.footer_markers
    for r in range(start, len(sheet.grid)):
        for c, v in enumerate(sheet.grid[r]):
            if not isinstance(v, str) or not v.strip():
                continue
            found, marker = _footer_probe(fold(v), markers)
            if found:
                where: dict[str, Any] = {"sheet": sheet.name, "row": r + 1, "column": col_letter(c)}
                day, month_text, year_text = found
                return min(footer_at, r), _date(day, month_text, year_text, "the report date", **where)
            if footer_at == len(sheet.grid) and marker:
                footer_at = r
    return footer_at, None


def warm_up() -> None:
    """Read the label catalogue and build the component matcher now (both cached for the process): workers
    forked afterwards start with them instead of each spending ≈ 8 ms on its first workbook."""
    labels()
    matcher()


def parse_workbook(path: Path, today: date | None = None) -> WorkbookReport:
    facts = check_workbook(path)  # bounded: inflates and scans every sheet before the cell reader sees it
    lab = labels()
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except RejectedFile:
        raise
    except Exception as err:  # the reader's own errors: corrupt content
        raise RejectedFile("corrupt_workbook", f"the workbook cannot be read: {err}") from err
    sheets: list[_Sheet] = []
    for name in wb.sheet_names:
        try:
            ws = wb.get_sheet_by_name(name)
            grid = ws.to_python(skip_empty_area=False)
            merges = list(ws.merged_cell_ranges or [])
        except Exception as err:
            raise RejectedFile("corrupt_workbook", f"sheet '{name}' cannot be read: {err}", sheet=name) from err
        ct = _capital_type(name, grid, lab)
        if ct:
            sheets.append(_Sheet(name, ct, grid, merges, facts.get(name, SheetFacts())))
    if not sheets:
        raise RejectedFile(
            "missing_sheets",
            "no sheet 'Biểu 01a' (VỐN ĐẦU TƯ PHÁT TRIỂN) or 'Biểu 01b' "
            f"(VỐN SỰ NGHIỆP); sheets: {', '.join(wb.sheet_names)}",
        )

    report: WorkbookReport | None = None
    for sheet in sheets:
        try:
            report = _sheet_into(sheet, report, lab, today)
        except RejectedFile as err:
            _add_title_facts(err, sheet, lab)
            raise
    assert report is not None
    return report


def _add_title_facts(err: RejectedFile, sheet: _Sheet, lab: Labels) -> None:
    """Fill in the period and province of a rejected sheet when its title rows name them, though the
    parser stopped before reading them (a bad unit line, no period line, a missing column group): the
    manifest then says whose file it was. Never for an unknown province or disagreeing sheets."""
    if err.code in ("unknown_province", "inconsistent_sheets"):
        return
    try:
        r_end = _find_header_row(sheet, lab)
    except RejectedFile:
        r_end = min(len(sheet.grid), MAX_HEADER_SCAN)
    period = rows_period(sheet.grid[:r_end])
    if err.period is None:
        err.period = period
    if err.province_code is None:
        err.province_code = _title_province_code(sheet, r_end, err.period or period)


def _title_province_code(sheet: _Sheet, r_end: int, period: date | None) -> str | None:
    """The province a title names: in its report month's list, else (no month, or a month of the other
    era) the code the name has in either list when that is one code."""
    last_63 = date(MERGER_DATE.year, MERGER_DATE.month - 1, 1)  # a month of each era
    months = [period] if period else []
    months += [d for d in (last_63, MERGER_DATE) if not period or (d < MERGER_DATE) != (period < MERGER_DATE)]
    for r in range(r_end):
        for v in sheet.grid[r]:
            if not isinstance(v, str) or not v.strip():
                continue
            codes = set()
            for month in months:
                found, other = province_from_title(v, month)
                if found and month == period:
                    return found.province_code
                codes |= {p.province_code for p in (found, other) if p}
            if len(codes) == 1:
                return codes.pop()
    return None


def _sheet_into(sheet: _Sheet, report: WorkbookReport | None, lab: Labels, today: date | None) -> WorkbookReport:
    """Read one sheet into the report (the first sheet creates it)."""
    r0 = _find_header_row(sheet, lab)
    title = _read_title(sheet, r0, lab)
    if title.period is None:
        if report is not None:
            title.period = report.period
        else:
            raise RejectedFile(
                "unknown_period",
                "no period line ('Tháng 3 năm 2024' or '(Số liệu đến hết ngày 31/3/2024)') in the title rows",
                sheet=sheet.name,
            )
    period = title.period
    current_month = (today or date.today()).replace(day=1)
    if period > current_month:
        raise RejectedFile(
            "future_period",
            f"the report is for {period:%m/%Y}, a month that has not started yet",
            **{"sheet": sheet.name, **title.period_where},
            period=period,
        )
    province = _province(sheet, r0, period, lab, title)
    if title.unit_factor is None:
        if report is not None:
            title.unit_factor = report.unit_factor
        else:
            raise RejectedFile(
                "unknown_unit",
                "no unit line ('Đơn vị tính: triệu đồng') in the title rows",
                sheet=sheet.name,
                period=period,
                province_code=province.province_code,
            )
    roles, data_cols, header_end = _columns(sheet, r0, lab)
    footer_at, report_date = _footer(sheet, header_end + 1, lab)
    if report is None:
        report = WorkbookReport(
            period,
            province.province_code,
            UNIT_NAMES.get(title.unit_factor, "other"),
            title.unit_factor,
            report_date,
            title.replaces_note,
        )
    else:
        if (period, province.province_code) != (report.period, report.province_code):
            raise RejectedFile(
                "inconsistent_sheets",
                f"sheet '{sheet.name}' is for {province.short_name} "
                f"{period:%m/%Y}, another sheet for {report.province_code} "
                f"{report.period:%m/%Y}",
                sheet=sheet.name,
            )
        report.report_date = report.report_date or report_date
        report.replaces_note = report.replaces_note or title.replaces_note
    try:
        _body(sheet, roles, data_cols, header_end + 1, footer_at, title.unit_factor, report)
    except RejectedFile as err:
        err.period, err.province_code = period, province.province_code
        raise
    return report


def _body(
    sheet: _Sheet,
    roles: dict[str, int],
    data_cols: list[DataColumn],
    start: int,
    stop: int,
    factor: int,
    report: WorkbookReport,
) -> None:
    lab = labels()
    match = matcher()
    label_cols = {roles[k] for k in ("stt", "content", "code") if k in roles}
    fill = _filled(sheet.grid, sheet.merges, range(start, stop), label_cols)
    rate_col = roles.get("rate")
    # (worksheet column, its record's column tuple, whether it holds amounts) for every value column
    value_cols: list[tuple[int, tuple[str, str, str, str], bool]] = [
        (d.index, (col_letter(d.index), d.plan_block, d.measure, d.fund_source), True) for d in data_cols
    ]
    if rate_col is not None:
        value_cols.append((rate_col, (col_letter(rate_col), "current", "disbursement_rate_pct", "TOTAL"), False))
    fwv = sheet.facts.formulas_without_value
    zeros = _power_of_ten(factor)
    figures = report.figures
    program: str | None = None
    seen: dict[str, int] = {}
    for r in range(start, stop):
        stt_raw = sheet.cell(r, roles["stt"], fill) if "stt" in roles else ""
        label_raw = sheet.cell(r, roles["content"], fill)
        code_raw = sheet.cell(r, roles["code"], fill) if "code" in roles else ""
        row = sheet.grid[r]
        width = len(row)
        raw_values = [(column, amount, row[c] if c < width else "") for c, column, amount in value_cols]
        has_values = (
            any(not _blank(v) for _, _, v in raw_values)
            or bool(fwv)
            and any((r + 1, column[0]) in fwv for _, column, _ in value_cols)
        )
        label = _text(label_raw).strip()
        stt = normalise_stt(stt_raw)
        code = normalise_stt(code_raw)
        if not label and not stt and not code:
            if has_values:
                raise RejectedFile(
                    "unknown_component",
                    "figures on a line without a component name",
                    sheet=sheet.name,
                    row=r + 1,
                    column=col_letter(roles["content"]),
                )
            continue
        inherited = (r, roles["content"]) in fill
        if inherited and not has_values:
            continue
        if r < start + 2 and _INDEX_CELL.fullmatch(fold(label)) and not has_values:
            continue  # a column-numbering row under the header: (A) (B) (1) (2) …
        if (
            r < start + 2
            and _INDEX_CELL.fullmatch(fold(label))
            and all(_blank(v) or _INDEX_CELL.fullmatch(fold(v)) for _, _, v in raw_values)
        ):
            continue
        folded = fold(label)
        if folded in lab.total_line and not code:
            key = "TOTAL"
        else:
            comp = match.match(stt, label, code, program)
            if comp is None:
                what = f"code '{code}'" if code else f"'{stt} {label}'".replace("' ", "'", 1)
                raise RejectedFile(
                    "unknown_component",
                    f"line {what} matches no component of the programmes",
                    sheet=sheet.name,
                    row=r + 1,
                    column=col_letter(roles["code"] if code else roles["content"]),
                )
            key = comp.component_key
            if comp.level == "program":
                program = comp.program
        if key in seen:
            raise RejectedFile(
                "duplicate_component",
                f"component {key} appears twice (rows {seen[key]} and {r + 1})",
                sheet=sheet.name,
                row=r + 1,
                column=col_letter(roles["content"]),
            )
        seen[key] = r + 1
        line = (sheet.name, r + 1, sheet.capital_type, stt or None, key, label)
        for column, amount, raw in raw_values:
            if fwv and (r + 1, column[0]) in fwv:
                raise RejectedFile(
                    "formula_without_value",
                    "a formula without a cached value (the workbook "
                    "was saved without recalculation): open it in Excel and save it again",
                    sheet=sheet.name,
                    row=r + 1,
                    column=column[0],
                )
            if raw == "" or raw is None:  # what parse_number says of an empty cell: no figure
                continue
            if type(raw) is float:  # most figures: exact without a detour via Decimal
                shortest = repr(raw)
                if not amount:
                    if raw.is_integer():
                        figures.append((line, column, int(raw), shortest))
                        continue
                else:
                    vnd = int(raw) * factor if raw.is_integer() else None
                    if vnd is None and zeros is not None:
                        vnd = _whole_scaled(shortest, zeros)
                    if vnd is not None and -MAX_FIGURE_VND < vnd < MAX_FIGURE_VND:
                        figures.append((line, column, vnd, shortest))
                        continue
            try:
                number = parse_number(raw)
            except NumberError as err:
                raise RejectedFile(
                    "unparseable_number", f"{err}", sheet=sheet.name, row=r + 1, column=column[0]
                ) from err
            if number is None:
                continue
            if not amount:
                figures.append((line, column, number, _text(raw)))
                continue
            scaled = number * factor
            if abs(scaled) >= MAX_FIGURE_VND:
                raise RejectedFile(
                    "absurd_amount",
                    f"{_text(raw) or raw!r} in this unit is {scaled:,.0f} VND, beyond any "
                    "programme figure (a unit slip of a thousand is loaded and flagged by NTP-T02)",
                    sheet=sheet.name,
                    row=r + 1,
                    column=column[0],
                )
            figures.append((line, column, _exact(scaled), _text(raw) if isinstance(raw, str) else repr(raw)))
