"""Sheet structure shared by the model, the writers and the ground-truth checker.

A sheet (`Biểu 01a` = ĐTPT, `Biểu 01b` = SN) lists the components whose `capital_types` include its capital
type, in reference order. A *leaf* of a sheet is a component without children on that sheet: only leaves
carry money of their own (and Treasury lines); every other line is the sum of its direct children.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from ntp_core import reference
from ntp_core.reference import Component, Province

CAPITAL_TYPES = ("DTPT", "SN")
FUNDS = ("NSTW", "NSDP")
BLOCKS = ("current", "carryover")
MEASURES = ("plan_assigned", "allocated", "disbursed_cumulative")
SHEET_NAMES = {"DTPT": "Biểu 01a", "SN": "Biểu 01b"}
SHEET_TITLES = {"DTPT": "VỐN ĐẦU TƯ PHÁT TRIỂN", "SN": "VỐN SỰ NGHIỆP"}


def tolerance(rule_id: str, *values: int) -> float:
    """A rule's tolerance from the rule catalogue: max(tolerance_vnd, tolerance_pct % of the larger value)."""
    rule = reference.rule(rule_id)
    return max(rule.tolerance_vnd, rule.tolerance_pct / 100 * max((abs(int(v)) for v in values), default=0))


def carryover_deadline(plan_year: int) -> date:
    """Deadline for disbursing carried-over capital of `plan_year`.

    From the deadline seed (`ref_deadlines.csv`, kind `carryover_disbursement`) when it lists the year,
    else 31 December of plan year + 2.
    """
    return reference.deadlines("carryover_disbursement").get(plan_year, date(plan_year + 2, 12, 31))


@dataclass(frozen=True)
class Slot:
    """One leaf line of one sheet: where money lives."""

    index: int
    capital_type: str
    component: Component


@dataclass(frozen=True)
class Sheet:
    capital_type: str
    components: tuple[Component, ...]  # every line of the sheet, reference order
    children: dict[str, tuple[str, ...]]  # direct children on this sheet
    leaves: tuple[str, ...]

    def row_of(self, key: str) -> int:
        return self._index[key]

    @property
    def _index(self) -> dict[str, int]:
        return {c.component_key: i for i, c in enumerate(self.components)}


@cache
def sheet(capital_type: str) -> Sheet:
    comps = tuple(c for c in reference.components() if capital_type in c.capital_types)
    keys = {c.component_key for c in comps}
    children: dict[str, list[str]] = {c.component_key: [] for c in comps}
    for c in comps:
        if c.parent_key is not None:
            if c.parent_key not in keys:
                raise ValueError(f"{c.component_key}: parent {c.parent_key} lacks capital type {capital_type}")
            children[c.parent_key].append(c.component_key)
    leaves = tuple(c.component_key for c in comps if not children[c.component_key])
    return Sheet(capital_type, comps, {k: tuple(v) for k, v in children.items()}, leaves)


@cache
def slots() -> tuple[Slot, ...]:
    by_key = {c.component_key: c for c in reference.components()}
    out: list[Slot] = []
    for cap in CAPITAL_TYPES:
        for key in sheet(cap).leaves:
            out.append(Slot(len(out), cap, by_key[key]))
    return tuple(out)


@cache
def slot_index() -> dict[tuple[str, str], int]:
    return {(s.capital_type, s.component.component_key): s.index for s in slots()}


@cache
def component_by_key() -> dict[str, Component]:
    return {c.component_key: c for c in reference.components()}


@cache
def province_by_code() -> dict[str, Province]:
    out = {p.province_code: p for p in reference.provinces_63()}
    return out


@cache
def province34_by_code() -> dict[str, Province]:
    return {p.province_code: p for p in reference.provinces_34()}


def reporting_province(code: str, period: date) -> Province:
    table = province34_by_code() if period >= reference.MERGER_DATE else province_by_code()
    return table[code]


def members(code: str, period: date) -> tuple[str, ...]:
    """Base (pre-merger) provinces whose figures make up `code`'s report in `period`."""
    if period >= reference.MERGER_DATE:
        return tuple(p.province_code for p in reference.predecessors(code))
    return (code,)
