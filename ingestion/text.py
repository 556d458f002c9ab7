"""Text normalisation for matching Vietnamese labels and names.

`fold` maps every spelling the offices use to one key: NFC or NFD input, old or new tone placement
(`Hoà`/`Hòa`), with or without diacritics, any case, spacing and line breaks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w%/ ]+")


@lru_cache(maxsize=65536)
def fold(value: object) -> str:
    """Lower-case, diacritic-free, single-spaced key; punctuation other than `%` and `/` becomes a space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = _PUNCT.sub(" ", text.replace("_", " "))
    return _SPACES.sub(" ", text).strip()


def compact(value: object) -> str:
    """`fold` without any spaces: `NS TW` and `NSTW` meet."""
    return fold(value).replace(" ", "")


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)
