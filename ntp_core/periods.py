"""Report months: parsing `YYYY-MM`, ranges `YYYY-MM:YYYY-MM`, and month arithmetic."""

from __future__ import annotations

import re
from datetime import date

_PERIOD = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_period(text: str) -> date:
    """`2024-03` -> date(2024, 3, 1); a clear ValueError otherwise."""
    m = _PERIOD.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"not a report month: {text!r} (expected YYYY-MM, e.g. 2024-03)")
    return date(int(m.group(1)), int(m.group(2)), 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def period_range(spec: str) -> list[date]:
    """`2024-01:2024-03` -> the three first-of-month dates; a single `YYYY-MM` -> one."""
    start_text, _, end_text = spec.partition(":")
    start = parse_period(start_text)
    end = parse_period(end_text) if end_text else start
    if end < start:
        raise ValueError(f"period range runs backwards: {spec!r}")
    out = []
    d = start
    while d <= end:
        out.append(d)
        d = add_months(d, 1)
    return out


def label(d: date) -> str:
    return d.strftime("%Y-%m")
