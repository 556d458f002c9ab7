"""Vietnamese number formats to exact decimals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_ZERO_MARKS = {"-", "–", "—", "−", "0"}
_THOUSANDS_DOT = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?")
_THOUSANDS_SPACE = re.compile(r"\d{1,3}( \d{3})+(,\d+)?")
_PLAIN_COMMA = re.compile(r"\d+(,\d+)?")
_PLAIN_DOT = re.compile(r"\d*\.\d+|\d+")


class NumberError(ValueError):
    pass


def parse_number(value: object) -> Decimal | None:
    """A cell value as an exact Decimal; None for a blank cell; NumberError when unparseable.

    Numeric cells are exact to their shortest repr. Text: `1.234.567,5`, `1 234,5`, `1234,5`, `12.5`,
    `-`/`–` for zero, `(12,5)` or a leading minus for negatives, an optional trailing `%`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise NumberError(f"boolean {value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberError(f"{value!r} is not a finite number")
        return Decimal(repr(value)).normalize() if value != int(value) else Decimal(int(value))
    if not isinstance(value, str):
        raise NumberError(f"{value!r} ({type(value).__name__}) is not a number")
    text = value.replace("\u00a0", " ").replace("\u202f", " ").strip()
    if not text:
        return None
    if text in _ZERO_MARKS:
        return Decimal(0)
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text[:1] in "-−–":
        negative, text = not negative, text[1:].strip()
    text = text.removesuffix("%").strip()
    if _THOUSANDS_DOT.fullmatch(text) or _THOUSANDS_SPACE.fullmatch(text) or _PLAIN_COMMA.fullmatch(text):
        digits = text.replace(".", "").replace(" ", "").replace(",", ".")
    elif _PLAIN_DOT.fullmatch(text):
        digits = text
    else:
        raise NumberError(f"'{value}' is not a number")
    try:
        number = Decimal(digits)
    except InvalidOperation as err:  # pragma: no cover - guarded by the patterns
        raise NumberError(f"'{value}' is not a number") from err
    return -number if negative else number
