"""Recognise a province from a title cell or a code, for a given report month."""

from __future__ import annotations

from datetime import date
from functools import cache

from ingestion.labels import labels
from ingestion.text import fold
from ntp_core.reference import MERGER_DATE, Province, provinces_34, provinces_63, provinces_for


def _strip_prefixes(folded: str) -> str:
    prefixes = labels().province_prefixes
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if folded.startswith(p + " "):
                folded, changed = folded[len(p) + 1 :], True
    return folded


@cache
def _index(era: str) -> dict[str, Province]:
    provs = provinces_63() if era == "63" else provinces_34()
    out: dict[str, Province] = {}
    for p in provs:
        out[fold(p.short_name)] = p
        out[fold(p.short_name).replace(" ", "")] = p
    return out


def province_from_title(text: object, period: date) -> tuple[Province | None, Province | None]:
    """(province valid in `period`, or None; a province of the other era the text names, or None)."""
    key = _strip_prefixes(fold(text))
    if not key:
        return None, None
    era, other = ("34", "63") if period >= MERGER_DATE else ("63", "34")
    for candidate in (key, key.replace(" ", "")):
        if candidate in _index(era):
            return _index(era)[candidate], None
    for candidate in (key, key.replace(" ", "")):
        if candidate in _index(other):
            return None, _index(other)[candidate]
    return None, None


def province_codes(period: date) -> frozenset[str]:
    return frozenset(p.province_code for p in provinces_for(period))
