"""Which report month a delivered file is for, read from its content. The one implementation used by the
inbox scan (a run's discovery and the watcher), the workbook parser and both Treasury load paths.

A workbook's title names its month as a month line (`Tháng 3 năm 2024`, `tháng 03/2024`; a dated line such
as `ngày 5 tháng 4 năm 2024` is the report date, not the month) or as the date its figures run to
(`Số liệu đến hết ngày 31/3/2024`, `đến ngày …`, `tính đến ngày 31/03/2024`). A Treasury extract says it
in `ky_bao_cao` (YYYYMM); a plan-assignment file has no month, only its plan year `nam_kh`. A returned findings
workbook keeps its month in the cell right of `Kỳ báo cáo` (written `2024-03`; a date or any spelling above is
read the same).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ingestion.text import fold

# On folded text (ingestion.text.fold): lower case, no diacritics.
MONTH_LINE = re.compile(r"(ngay \d{1,2} )?thang (\d{1,2})(?: nam |/)(\d{4})")
UNTIL_LINE = re.compile(r"(?:den het|den|tinh den) ngay (\d{1,2})/(\d{1,2})/(\d{4})")
REPLACES_NOTE = re.compile(r"thay the (?:cho )?bao cao (?:ngay |so )?(?:\S+ ngay )?(\d{1,2})/(\d{1,2})/(\d{4})")
KY_BAO_CAO = re.compile(r"(19|20)\d{2}(0[1-9]|1[0-2])")
ISO_MONTH = re.compile(r"((?:19|20)\d{2})-(0?[1-9]|1[0-2])(?:-\d{1,2}(?:[ T][\d:.]+)?)?")
#: The rows a workbook's title may take: the parser looks for the header row in them, discovery for the month.
TITLE_ROWS = 40


def title_period(folded: str) -> date | None:
    """The report month one folded title cell names (a month line first, else the month of its "data
    until" date), or None when it names no existing month. The replacement note's date is not a month."""
    folded = REPLACES_NOTE.sub(" ", folded)
    for m in MONTH_LINE.finditer(folded):
        if not m.group(1) and 1 <= int(m.group(2)) <= 12:
            return date(int(m.group(3)), int(m.group(2)), 1)
    until = UNTIL_LINE.search(folded)
    if until and 1 <= int(until.group(2)) <= 12:
        return date(int(until.group(3)), int(until.group(2)), 1)
    return None


def ky_bao_cao_period(value: str) -> date | None:
    """`202403` -> 1 March 2024; None for anything else (callers strip spaces when they accept them)."""
    if not KY_BAO_CAO.fullmatch(value):
        return None
    return date(int(value[:4]), int(value[4:]), 1)


def plan_year_period(value: str) -> date | None:
    """A plan file's `nam_kh` as January of that year, the month the plan counts from."""
    value = value.strip()
    return date(int(value), 1, 1) if re.fullmatch(r"\d{4}", value) else None


def rows_period(rows: Iterable[Iterable[object]]) -> date | None:
    """The month named by the first title cell, in reading order, that names one (`title_period`)."""
    for row in rows:
        for value in row:
            if isinstance(value, str) and value.strip():
                period = title_period(fold(value))
                if period is not None:
                    return period
    return None


def label_period(value: object) -> date | None:
    """A cell that holds a month: a date, `2024-03`, `202403`, or a title spelling (`Tháng 3 năm 2024`,
    `tháng 03/2024`, `tính đến ngày 31/03/2024`); None for anything else."""
    if isinstance(value, date):  # a datetime too
        return date(value.year, value.month, 1)
    text = str(value if value is not None else "").strip()
    iso = ISO_MONTH.fullmatch(text)
    if iso:
        return date(int(iso.group(1)), int(iso.group(2)), 1)
    return ky_bao_cao_period(text) or title_period(fold(text))
