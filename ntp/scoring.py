"""Detection scoring: the findings mart against the generator's ground truth, recall and precision per rule.

A finding and a ground-truth row match on rule × period × province × component × fund source × capital type
× plan block × measure, as a multiset (a rule can fire twice on one key, e.g. NTP-T02 against the Treasury
and against last month). The two vocabularies differ only in spelling, normalised here: the TỔNG SỐ line and
the `Tổng số` column are `TOTAL` in the warehouse and empty in the truth; the rate measure is
`disbursement_rate_pct` / `disbursement_rate`; file-level rules (C02, F01) are matched on rule × period ×
the file they name (its base name), since a file's province is known only when the ingestion could read it;
C01 and A04 on rule × period × province. Resolved findings are not detections of their month.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

from ntp_core import reference, warehouse
from ntp_core.periods import period_range

RULES = tuple(r.rule_id for r in reference.rule_catalogue())
LOOSE_RULES = {"NTP-A04", "NTP-C01"}
FILE_RULES = {"NTP-C02", "NTP-F01"}
Key = tuple[str, ...]


@dataclass
class RuleScore:
    rule_id: str
    expected: int = 0
    found: int = 0
    matched: int = 0
    missed: list[Key] = field(default_factory=list)
    spurious: list[Key] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.matched / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.matched / self.found if self.found else None

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "expected": self.expected,
            "found": self.found,
            "matched": self.matched,
            "recall": self.recall,
            "precision": self.precision,
            "missed": [list(k) for k in self.missed[:20]],
            "spurious": [list(k) for k in self.spurious[:20]],
        }


def _text(value) -> str:
    return "" if value is None else str(value)


def normalise(row: dict) -> Key:
    """The matching key of a finding or a ground-truth row."""
    rule = row["rule_id"]
    period = _text(row["period"])[:7]
    province = _text(row.get("province_code"))
    file = _text(row.get("file", row.get("source_file"))).rsplit("/", 1)[-1]
    if rule in FILE_RULES and file:
        return (rule, period, "", "", "", "", "", "", file)
    if rule in LOOSE_RULES:
        return (rule, period, province, "", "", "", "", "")
    component = _text(row.get("component_key"))
    fund = _text(row.get("fund_source"))
    measure = _text(row.get("measure"))
    return (
        rule,
        period,
        province,
        "" if component == "TOTAL" else component,
        "" if fund == "TOTAL" else fund,
        _text(row.get("capital_type")),
        _text(row.get("plan_block")).split(":")[0],
        "disbursement_rate" if measure == "disbursement_rate_pct" else measure,
    )


def read_truth(path: Path, periods: list[date]) -> list[dict]:
    wanted = {d.strftime("%Y-%m") for d in periods}
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["rule_id"].startswith("NTP-") and r["period"] in wanted]


def read_findings(periods: list[date], warehouse_url: str | None = None) -> list[dict]:
    sql = """select rule_id, to_char(period, 'YYYY-MM') as period, province_code, component_key, fund_source,
                    capital_type, plan_block, measure, source_file
             from marts.fct_findings where status <> 'resolved' and period = any(%s)"""
    with warehouse.connect(warehouse_url or warehouse.url()) as conn:
        cur = conn.execute(sql, (periods,))
        cols = [d.name for d in cur.description or ()]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def score(truth: list[dict], found: list[dict], provinces: set[str] | None = None) -> dict[str, RuleScore]:
    """Recall and precision per rule; `provinces` limits both sides to a generated subset (plus rows with
    no province, such as an unreadable file)."""

    def keep(row: dict) -> bool:
        return provinces is None or not row.get("province_code") or row["province_code"] in provinces

    expected = Counter(normalise(r) for r in truth if keep(r))
    detected = Counter(normalise(r) for r in found if keep(r))
    scores = {rule: RuleScore(rule) for rule in RULES}
    for key in expected.keys() | detected.keys():
        s = scores.setdefault(key[0], RuleScore(key[0]))
        e, d = expected[key], detected[key]
        s.expected += e
        s.found += d
        s.matched += min(e, d)
        s.missed.extend([key] * max(0, e - d))
        s.spurious.extend([key] * max(0, d - e))
    return scores


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def print_scores(scores: dict[str, RuleScore], *, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump([s.as_dict() for s in scores.values()], out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    out.write(f"{'rule':8}  {'expected':>8}  {'found':>6}  {'matched':>7}  {'recall':>8}  {'precision':>9}\n")
    for s in scores.values():
        out.write(
            f"{s.rule_id:8}  {s.expected:8}  {s.found:6}  {s.matched:7}  {_pct(s.recall):>8}  {_pct(s.precision):>9}\n"
        )
    for s in scores.values():
        for key in s.missed[:5]:
            out.write(f"missed   {' | '.join(key)}\n")
        for key in s.spurious[:5]:
            out.write(f"spurious {' | '.join(key)}\n")


def run_score(
    truth_path: str,
    periods_spec: str,
    *,
    provinces: str | None = None,
    fmt: str = "table",
    out: TextIO,
    warehouse_url: str | None = None,
) -> int:
    """`ntp score`: 0 when every rule with expected or found rows has recall and precision of 100 %."""
    periods = period_range(periods_spec)
    subset = {p.strip() for p in provinces.split(",")} if provinces and provinces != "all" else None
    scores = score(read_truth(Path(truth_path), periods), read_findings(periods, warehouse_url), subset)
    print_scores(scores, fmt=fmt, out=out)
    perfect = all(s.matched == s.expected == s.found for s in scores.values())
    return 0 if perfect else 1
