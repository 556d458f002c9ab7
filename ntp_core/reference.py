"""Reference data (components, provinces before and after the 1 July 2025 merger, the rule catalogue).

The single copy lives in `dbt_project/seeds/` so dbt and Python read the same files; an operator who
replaces the placeholder Treasury codes edits one CSV. The constants the dbt models read (merger date, unit
scale bands, the first month of NTP-D03) are the `vars` of `dbt_project/dbt_project.yml`, read here too.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

from ntp_core.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"
DBT_PROJECT_FILE = PROJECT_ROOT / "dbt_project" / "dbt_project.yml"


@cache
def dbt_vars() -> dict:
    """The `vars` of dbt_project.yml: the one copy of the constants dbt and Python share."""
    with open(DBT_PROJECT_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)["vars"]


MERGER_DATE = date.fromisoformat(dbt_vars()["merger_date"])
UNIT_SCALE_BANDS: tuple[tuple[int, int], ...] = tuple((int(lo), int(hi)) for lo, hi in dbt_vars()["unit_scale_bands"])
D03_FIRST_MONTH = int(dbt_vars()["d03_first_month"])


@dataclass(frozen=True)
class Component:
    component_key: str
    treasury_code: str
    program: str
    level: str  # program | project | content | subproject
    parent_key: str | None
    stt: str
    name_vi: str
    capital_types: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    province_code: str
    province_name: str  # with prefix: "Tỉnh Điện Biên", "Thành phố Hà Nội"
    codename: str
    region: str | None
    successor_code: str | None  # for the 63 pre-merger provinces

    @property
    def short_name(self) -> str:
        for prefix in ("Thành phố ", "Tỉnh "):
            if self.province_name.startswith(prefix):
                return self.province_name[len(prefix) :]
        return self.province_name

    @property
    def is_city(self) -> bool:
        return self.province_name.startswith("Thành phố ")


def _rows(name: str, seeds_dir: Path = SEEDS_DIR) -> list[dict[str, str]]:
    with open(seeds_dir / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass(frozen=True)
class Rule:
    rule_id: str  # NTP-A01
    name: str  # allocation_mismatch
    severity: str
    category: str
    tolerance_vnd: int
    tolerance_pct: float  # percent: 0.05 = 0.05 %
    message_vi: str
    message_en: str

    @property
    def model_name(self) -> str:
        """The dbt model of the rule: `rule_ntp_a01__allocation_mismatch`."""
        return f"rule_{self.rule_id.lower().replace('-', '_')}__{self.name}"


@cache
def rule_catalogue() -> tuple[Rule, ...]:
    """The quality rules, in catalogue order: `ref_rule_catalogue.csv` is their only list."""
    return tuple(
        Rule(
            rule_id=r["rule_id"],
            name=r["name"],
            severity=r["severity"],
            category=r["category"],
            tolerance_vnd=int(r["tolerance_vnd"]),
            tolerance_pct=float(r["tolerance_pct"]),
            message_vi=r["message_vi"],
            message_en=r["message_en"],
        )
        for r in _rows("ref_rule_catalogue.csv")
    )


def rule(rule_id: str) -> Rule:
    return next(r for r in rule_catalogue() if r.rule_id == rule_id)


@cache
def deadlines(kind: str) -> dict[int, date]:
    """{plan year: deadline} of one kind of `ref_deadlines.csv` (allocation, carryover_disbursement,
    year_end_disbursement)."""
    return {
        int(r["plan_year"]): date.fromisoformat(r["deadline_date"])
        for r in _rows("ref_deadlines.csv")
        if r["deadline_kind"] == kind
    }


@cache
def components() -> tuple[Component, ...]:
    return tuple(
        Component(
            component_key=r["component_key"],
            treasury_code=r["treasury_code"],
            program=r["program"],
            level=r["level"],
            parent_key=r["parent_key"] or None,
            stt=r["stt"],
            name_vi=r["name_vi"],
            capital_types=tuple(r["capital_types"].split("|")),
        )
        for r in _rows("ref_components.csv")
    )


@cache
def provinces_63() -> tuple[Province, ...]:
    return tuple(
        Province(r["province_code"], r["province_name"], r["codename"], r["region"], r["successor_code_2025"])
        for r in _rows("ref_provinces_63.csv")
    )


@cache
def provinces_34() -> tuple[Province, ...]:
    region_of: dict[str | None, str | None] = {}
    for p in provinces_63():
        region_of.setdefault(p.successor_code, p.region)
    return tuple(
        Province(r["province_code"], r["province_name"], r["codename"], region_of.get(r["province_code"]), None)
        for r in _rows("ref_provinces_34.csv")
    )


def provinces_for(period: date) -> tuple[Province, ...]:
    """The provinces that exist (and must report) in a report month."""
    return provinces_34() if period >= MERGER_DATE else provinces_63()


def predecessors(successor_code: str) -> tuple[Province, ...]:
    """The pre-merger provinces that became `successor_code` on 1 July 2025."""
    return tuple(p for p in provinces_63() if p.successor_code == successor_code)
