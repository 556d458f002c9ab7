"""A provincial report as written: figures per sheet row in VND, after the province's rounding.

Leaf figures are the model's figures rounded to the file's decimals of a triệu; every parent line is the
exact sum of its written direct children and `TỔNG SỐ` the sum of the programs, so rounding never breaks
an identity. Planting edits these objects (parent deltas, Tổng số cells, rates, unknown rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from generator.layout import CAPITAL_TYPES, Sheet, members, sheet, slot_index
from generator.model import YearFigures
from ntp_core.reference import Province

B_CUR, B_CO = 0, 1
M_PLAN, M_ALLOC, M_DISB = 0, 1, 2


def round_to(values: np.ndarray, decimals: int) -> np.ndarray:
    """Round non-negative VND to `decimals` decimals of a triệu (half up), staying in exact integers."""
    q = 10 ** (6 - decimals)
    v = np.asarray(values, np.int64)
    return np.where(v >= 0, (v + q // 2) // q * q, -((-v + q // 2) // q * q))


@dataclass
class SheetReport:
    capital_type: str
    leaf: np.ndarray  # [n_rows, block, measure, fund] leaf figures as written (parents zero here)
    parent_deltas: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # row,b,m,f,delta
    total_overrides: dict[tuple[int, int, int], int] = field(default_factory=dict)  # (row,b,m) -> Tổng số
    rate_overrides: dict[int, float] = field(default_factory=dict)  # row -> written rate (-1: TỔNG SỐ)
    unknown_rows: list[tuple[int, str, str]] = field(default_factory=list)  # (after row, stt, name)
    leaf_overrides: dict[tuple[int, int, int, int], int] = field(default_factory=dict)

    @property
    def layout(self) -> Sheet:
        return sheet(self.capital_type)

    def values(self) -> np.ndarray:
        """All rows: leaves as written, parents = Σ direct children (+ planted parent deltas)."""
        lay = self.layout
        v = self.leaf.copy()
        for (r, b, m, f), val in self.leaf_overrides.items():
            v[r, b, m, f] = val
        for i in range(len(lay.components) - 1, -1, -1):
            kids = lay.children[lay.components[i].component_key]
            if kids:
                v[i] = sum(v[lay.row_of(k)] for k in kids)
        by_key = {c.component_key: i for i, c in enumerate(lay.components)}
        for r, b, m, f, delta in self.parent_deltas:
            row: int | None = r
            while row is not None:  # keep every ancestor consistent: only row r breaks
                v[row, b, m, f] += delta
                parent = lay.components[row].parent_key
                row = by_key[parent] if parent else None
        return v

    def total(self, values: np.ndarray | None = None) -> np.ndarray:
        v = self.values() if values is None else values
        return sum(v[i] for i, c in enumerate(self.layout.components) if c.parent_key is None)

    def present(self, values: np.ndarray) -> np.ndarray:
        return (values != 0).any(axis=(1, 2, 3))


def rate(plan: int, disbursed: int) -> float | None:
    """Reported rate: current-year (NSTW + NSĐP) disbursed ÷ plan × 100, two decimals, half up."""
    if plan == 0:
        return None
    return float((Decimal(int(disbursed)) * 100 / Decimal(int(plan))).quantize(Decimal("0.01"), ROUND_HALF_UP))


@dataclass
class ProvinceReport:
    period: date
    province: Province
    report_date: date
    decimals: int
    sheets: dict[str, SheetReport]
    replaces: date | None = None  # report date of the version this one replaces
    file_name: str = ""


def assemble(
    fig: YearFigures, code: str, period: date, report_date: date, decimals: int, province: Province
) -> ProvinceReport:
    """The written report of reporting province `code` for `period` from the province-side figures."""
    m = period.month - 1
    ents = [fig.eindex(c) for c in members(code, period) if c in fig.entities]
    idx = slot_index()
    sheets = {}
    for cap in CAPITAL_TYPES:
        lay = sheet(cap)
        leaf = np.zeros((len(lay.components), 2, 3, 2), np.int64)
        for key in lay.leaves:
            s = idx[(cap, key)]
            r = lay.row_of(key)
            plan = fig.plan[ents, s].sum(axis=0)
            alloc = fig.alloc[m, ents, s].sum(axis=0)
            disb = fig.disb[m, ents, s].sum(axis=0)
            co_a = fig.co_alloc[m, ents, s].sum(axis=(0, 2))
            co_d = fig.co_disb[m, ents, s].sum(axis=(0, 2))
            for b, trio in ((B_CUR, (plan, alloc, disb)), (B_CO, (co_a, co_a, co_d))):
                for mi, arr in enumerate(trio):
                    leaf[r, b, mi] = round_to(arr, decimals)
        sheets[cap] = SheetReport(cap, leaf)
    return ProvinceReport(period, province, report_date, decimals, sheets)
