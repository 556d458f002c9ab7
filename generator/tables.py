"""The generator's output tables: ground truth (`ground_truth.csv`), the broken-file corpus
(`broken_files.csv`), and how they are written."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from generator.layout import BLOCKS, FUNDS, slots

TRUTH_HEADER = (
    "rule_id",
    "period",
    "province_code",
    "component_key",
    "fund_source",
    "capital_type",
    "plan_block",
    "measure",
    "province_value_vnd",
    "treasury_value_vnd",
    "expected_vnd",
    "delta_vnd",
    "file",
    "note",
)
BROKEN_HEADER = (
    "file",
    "expected_error_code",
    "expected_sheet",
    "expected_row",
    "expected_column",
    "description",
)


def write_table(path: Path, header: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def truth_row(
    rule: str,
    period: date,
    code: str,
    slot: int | None = None,
    fund: int | None = None,
    block: int | None = None,
    measure: str = "",
    pv: int | None = None,
    tv: int | None = None,
    exp: int | None = None,
    file: str = "",
    note: str = "",
    capital_type: str = "",
    component_key: str = "",
    fund_source: str | None = None,
) -> dict[str, str]:
    if slot is not None:
        s = slots()[slot]
        capital_type, component_key = s.capital_type, s.component.component_key
    actual = pv if pv is not None else tv
    delta = "" if actual is None or exp is None else str(actual - exp)
    return {
        "rule_id": rule,
        "period": period.strftime("%Y-%m"),
        "province_code": code,
        "component_key": component_key,
        "fund_source": fund_source if fund_source is not None else (FUNDS[fund] if fund is not None else ""),
        "capital_type": capital_type,
        "plan_block": BLOCKS[block] if block is not None else "",
        "measure": measure,
        "province_value_vnd": "" if pv is None else str(pv),
        "treasury_value_vnd": "" if tv is None else str(tv),
        "expected_vnd": "" if exp is None else str(exp),
        "delta_vnd": delta,
        "file": file,
        "note": note,
    }
