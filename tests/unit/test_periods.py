"""Report months: parsing, ranges and month arithmetic, against hand-computed dates."""

from __future__ import annotations

from datetime import date

import pytest

from ntp_core.periods import add_months, label, parse_period, period_range


def test_parse_period() -> None:
    assert parse_period("2024-03") == date(2024, 3, 1)
    assert parse_period(" 2025-7 ") == date(2025, 7, 1)
    for bad in ("2024-13", "2024-00", "03/2024", "", "2024"):
        with pytest.raises(ValueError, match="not a report month"):
            parse_period(bad)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 1, 1), 1, date(2024, 2, 1)),
        (date(2024, 12, 1), 1, date(2025, 1, 1)),
        (date(2024, 1, 1), -1, date(2023, 12, 1)),
        (date(2025, 7, 1), -13, date(2024, 6, 1)),
        (date(2024, 11, 1), 14, date(2026, 1, 1)),
    ],
)
def test_add_months(start: date, n: int, expected: date) -> None:
    assert add_months(start, n) == expected


def test_period_range() -> None:
    assert period_range("2024-11:2025-02") == [date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)]
    assert period_range("2024-03") == [date(2024, 3, 1)]
    with pytest.raises(ValueError, match="backwards"):
        period_range("2024-03:2024-01")
    assert label(date(2024, 3, 1)) == "2024-03"
