"""Numbers and cells as an official reads them: Vietnamese separators (1.234.567; 4,37 %) or English ones
(1,234,567; 4.37 %), and spreadsheet cells that cannot turn into formulas."""

from __future__ import annotations

from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def number(value, language: str = "vi", decimals: int = 0) -> str:
    """A figure with thousands separators; `decimals` digits when the value is not whole."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    places = decimals if decimals or value != value.to_integral_value() else 0
    text = f"{value:,.{places or 2 if value != value.to_integral_value() else places}f}"
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
