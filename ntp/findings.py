"""Reading the findings mart: the columns of the rule catalogue, for the CLI and the alert."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from ntp import warehouse
from ntp.periods import parse_period

FINDING_COLUMNS = [
    "rule_id",
    "severity",
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
    "source_file",
    "source_row",
    "status",
    "first_seen_period",
    "message",
]

_QUERY = """
select rule_id, severity, to_char(period, 'YYYY-MM'), province_code, component_key, fund_source,
       capital_type, plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd,
       source_file, source_row, status, to_char(first_seen_period, 'YYYY-MM'), {message}
from marts.fct_findings
where period = %s
order by case severity when 'error' then 0 else 1 end, rule_id, province_code nulls first,
         component_key nulls first, fund_source, capital_type, plan_block, measure, source_file
"""


def _number(value):
    """VND amounts are whole đồng in practice; print them without a trailing .0 but never round."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def fetch_findings(period_text: str, warehouse_url: str | None = None, *, language: str = "vi") -> list[dict]:
    period = parse_period(period_text)
    message = "message_en" if language == "en" else "message_vi"
    with warehouse.connect(warehouse_url or warehouse.url()) as conn:
        (exists,) = conn.execute("select to_regclass('marts.fct_findings')").fetchone() or (None,)
        if exists is None:
            return []
        rows = conn.execute(_QUERY.format(message=message), (period,)).fetchall()
    out = []
    for row in rows:
        item = dict(zip(FINDING_COLUMNS, row, strict=True))
        for key in ("province_value_vnd", "treasury_value_vnd", "expected_vnd", "delta_vnd"):
            item[key] = _number(item[key])
        out.append(item)
    return out


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_findings(period_text: str, *, fmt: str, out: TextIO, language: str = "vi") -> int:
    findings = fetch_findings(period_text, language=language)
    if fmt == "json":
        json.dump(findings, out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=FINDING_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(findings)
    else:
        shown = [
            "rule_id",
            "severity",
            "province_code",
            "component_key",
            "fund_source",
            "capital_type",
            "plan_block",
            "province_value_vnd",
            "treasury_value_vnd",
            "delta_vnd",
            "status",
        ]
        table = [shown] + [[_fmt(f[c]) for c in shown] for f in findings]
        widths = [max(len(r[i]) for r in table) for i in range(len(shown))]
        for n, row in enumerate(table):
            out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
            if n == 0:
                out.write("  ".join("-" * w for w in widths) + "\n")
        out.write(f"{len(findings)} finding(s) for {parse_period(period_text):%Y-%m}\n")
    return 0
