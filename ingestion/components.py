"""Match a workbook line (Mã, or STT + Nội dung) to a reference component."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from ingestion.text import fold
from ntp_core.reference import Component, components

_PREFIX = re.compile(r"^(?:tieu du an|du an|noi dung(?: thanh phan)?|nd|da|tda)\s*\d*(?:\s|$)")


def _strip_prefix(folded: str) -> str:
    return _PREFIX.sub("", folded, count=1).strip()


def normalise_stt(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        return str(int(value)) if value == int(value) else repr(value)
    return str(value).strip().rstrip(".").strip()


@dataclass(frozen=True)
class Matcher:
    by_code: dict[str, Component]
    by_name: dict[str, tuple[Component, ...]]
    by_stripped: dict[str, tuple[Component, ...]]

    def match(self, stt: str, label: str, code: str, program: str | None) -> Component | None:
        if code:
            return self.by_code.get(code.strip().upper()) or self.by_code.get(code.strip())
        folded = fold(label)
        for table, key in ((self.by_name, folded), (self.by_stripped, _strip_prefix(folded))):
            found = self._pick(table.get(key, ()), stt, program)
            if found:
                return found
        return None

    @staticmethod
    def _pick(cands: tuple[Component, ...], stt: str, program: str | None) -> Component | None:
        if len(cands) > 1 and program:
            cands = tuple(c for c in cands if c.program == program) or cands
        if stt and len(cands) >= 1:
            exact = tuple(c for c in cands if c.stt.upper() == stt.upper())
            if exact:
                cands = exact
            elif len(cands) > 1:
                return None
        return cands[0] if len(cands) == 1 else None


@cache
def matcher() -> Matcher:
    by_code: dict[str, Component] = {}
    by_name: dict[str, list[Component]] = defaultdict(list)
    by_stripped: dict[str, list[Component]] = defaultdict(list)
    for c in components():
        by_code[c.component_key.upper()] = c
        by_code[c.treasury_code] = c
        by_name[fold(c.name_vi)].append(c)
        by_stripped[_strip_prefix(fold(c.name_vi))].append(c)
    return Matcher(by_code, {k: tuple(v) for k, v in by_name.items()}, {k: tuple(v) for k, v in by_stripped.items()})
