"""Numbers and cells as an official reads them: Vietnamese separators (1.234.567; 4,37 %) or English ones
(1,234,567; 4.37 %), and spreadsheet cells that cannot turn into formulas."""

from __future__ import annotations

from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Words of the mart shown in the official's language.
WORDS = {
    "vi": {
        "error": "lỗi",
        "warning": "cảnh báo",
        "new": "mới",
        "persisting": "tồn tại",
        "explained": "đã giải trình",
        "resolved": "đã khắc phục",
        "current": "năm nay",
        "carryover": "kéo dài",
        "allocated": "đã phân bổ",
        "disbursed_cumulative": "giải ngân lũy kế",
        "plan_assigned": "kế hoạch giao",
        "TOTAL": "Tổng số",
    },
    "en": {"TOTAL": "Total", "carryover": "carry-over", "disbursed_cumulative": "disbursed (cumulative)"},
}


def number(value, language: str = "vi", decimals: int = 0) -> str:
    """A figure with thousands separators; `decimals` digits when the value is not whole."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    places = decimals or (0 if value == value.to_integral_value() else 2)
    text = f"{value:,.{places}f}"
    if language == "en":
        return text
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(value, language: str = "vi") -> str:
    if value is None:
        return ""
    return f"{number(round(Decimal(str(value)), 2), language, 2)} %"


def safe_cell(value):
    """A text cell that a spreadsheet will not evaluate: a leading =, +, -, @, tab or CR gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def word(value, language: str) -> str:
    """A code of the mart (severity, status, block, measure) in the language; other values unchanged."""
    if value is None:
        return ""
    return WORDS.get("en" if language == "en" else "vi", {}).get(value, str(value))
