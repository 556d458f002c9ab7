"""One cause, one line: findings of one rule, province-month and sheet whose figures are off by the same
power of a thousand (a workbook typed in the wrong unit) are shown as one group; every finding stays a row
of fct_findings and of the workbook's detail."""

from __future__ import annotations

import math
from decimal import Decimal

from alerts.formats import number

UNITS = ["dong", "nghin_dong", "trieu_dong", "ty_dong"]
UNIT_NAMES = {
    "vi": {"dong": "đồng", "nghin_dong": "nghìn đồng", "trieu_dong": "triệu đồng", "ty_dong": "tỷ đồng"},
    "en": {"dong": "đồng", "nghin_dong": "thousand đồng", "trieu_dong": "million đồng", "ty_dong": "billion đồng"},
}


def scale_of(finding: dict) -> int:
    """The power of ten (a multiple of 3) the figure is off by against what it should be; 0 when none."""
    value = finding.get("province_value_vnd")
    if value is None:
        value = finding.get("treasury_value_vnd")
    basis = finding.get("expected_vnd")
    if basis is None and finding.get("province_value_vnd") is not None:
        basis = finding.get("treasury_value_vnd")
    if not value or not basis:
        return 0
    ratio = abs(Decimal(str(value)) / Decimal(str(basis)))
    if ratio <= 0:
        return 0
    power = math.log10(ratio)
    k = 3 * round(power / 3)
    return k if k and abs(power - k) < 0.6 else 0


def group(findings: list[dict]) -> list[dict]:
    """Findings in display order as items: {'members': [...], 'scale': k} — a group when two or more
    findings share rule, province, month, file, sheet and a scale k ≠ 0, else one finding each."""
    buckets: dict[tuple, list[dict]] = {}
    order: list[tuple] = []
    for n, f in enumerate(findings):
        k = scale_of(f) if f.get("status") != "resolved" else 0
        key = (
            (f["rule_id"], f["province_code"], f["period"], f.get("source_file"), f.get("source_sheet"), k)
            if k
            else ("single", n)
        )
        if key not in buckets:
            buckets[key] = []
            order.append(key)
        buckets[key].append(f)
    items = []
    for key in order:
        members = buckets[key]
        if key[0] != "single" and len(members) == 1:
            items.append({"members": members, "scale": 0})
        else:
            items.append({"members": members, "scale": 0 if key[0] == "single" else key[-1]})
    return items


def cause_text(item: dict, unit: str | None, language: str) -> str:
    """ "Biểu 01a appears to be in nghìn đồng, not triệu đồng: 525 figures, ≈ 1,000 ×" in the language."""
    k = item["scale"]
    first = item["members"][0]
    sheet = first.get("source_sheet") or first.get("source_file") or ""
    factor = number(10 ** abs(k), language)
    direction = "" if k > 0 else "1/"
    count = len(item["members"])
    names = UNIT_NAMES["en" if language == "en" else "vi"]
    actual = None
    if unit in UNITS:
        i = UNITS.index(unit) - k // 3
        actual = UNITS[i] if 0 <= i < len(UNITS) else None
    if language == "en":
        if actual and unit:
            return (
                f"{sheet} appears to be in {names[actual]}, not {names[unit]}: {count} figures, ≈ {direction}{factor} ×"
            )
        return f"{sheet}: {count} figures, ≈ {direction}{factor} × (a unit mix-up?)"
    if actual and unit:
        scale = f"{count} số liệu, ≈ {direction}{factor} lần"
        return f"{sheet} có vẻ lập theo {names[actual]}, không phải {names[unit]}: {scale}"
    return f"{sheet}: {count} số liệu, ≈ {direction}{factor} lần (nghi nhầm đơn vị tính)"
