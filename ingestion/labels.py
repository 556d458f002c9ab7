"""The label and synonym table of the provincial workbook, loaded once from `labels.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ingestion.text import compact, fold

LABELS_FILE = Path(__file__).with_name("labels.yaml")


@dataclass(frozen=True)
class Labels:
    leading: dict[str, frozenset[str]]
    trailing: dict[str, frozenset[str]]
    block_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    measures: dict[str, str]  # folded label -> measure
    fund_sources: dict[str, str]  # compact label -> NSTW | NSDP | TOTAL
    total_line: frozenset[str]
    sheet_names: dict[str, str]  # compact name -> capital type
    sheet_titles: dict[str, str]  # folded title -> capital type
    province_prefixes: tuple[str, ...]
    units: tuple[tuple[str, int], ...]
    unit_labels: tuple[str, ...]
    footer_markers: tuple[str, ...]

    def column_role(self, folded: str) -> str | None:
        for role, names in {**self.leading, **self.trailing}.items():
            if folded in names:
                return role
        return None

    def block(self, folded: str) -> tuple[str, int | None] | None:
        for block, pattern in self.block_patterns:
            m = pattern.fullmatch(folded)
            if m:
                return block, int(m.group("year")) if "year" in pattern.groupindex else None
        return None

    def measure(self, folded: str) -> str | None:
        return self.measures.get(folded)

    def fund_source(self, folded: str) -> str | None:
        return self.fund_sources.get(folded.replace(" ", ""))


def _pattern(synonym: str) -> re.Pattern[str]:
    return re.compile(re.escape(fold(synonym.replace("{year}", "YEARX"))).replace("yearx", r"(?P<year>\d{4})"))


@cache
def labels(path: Path = LABELS_FILE) -> Labels:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Labels(
        leading={k: frozenset(fold(s) for s in v) for k, v in data["leading_columns"].items()},
        trailing={k: frozenset(fold(s) for s in v) for k, v in data["trailing_columns"].items()},
        block_patterns=tuple((block, _pattern(s)) for block, syns in data["plan_blocks"].items() for s in syns),
        measures={fold(s): m for m, syns in data["measures"].items() for s in syns},
        fund_sources={compact(s): src for src, syns in data["fund_sources"].items() for s in syns},
        total_line=frozenset(fold(s) for s in data["total_line"]),
        sheet_names={compact(n): ct for ct, d in data["sheets"].items() for n in d["names"]},
        sheet_titles={fold(t): ct for ct, d in data["sheets"].items() for t in d["titles"]},
        province_prefixes=tuple(fold(p) for p in data["province_prefixes"]),
        units=tuple(sorted(((fold(k), int(v)) for k, v in data["units"].items()), key=lambda kv: -len(kv[0]))),
        unit_labels=tuple(fold(s) for s in data["unit_labels"]),
        footer_markers=tuple(fold(s) for s in data["footer_markers"]),
    )
