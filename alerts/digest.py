"""The monthly quality digest: built from the findings table (never from logs), written to
`$NTP_DATA_DIR/reports/<YYYY-MM>/` as HTML, CSV and JSON (rewritten on every run), and sent by e-mail and
to Slack when configured — once per month and channel unless forced.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from alerts import delivery, render
from ntp import warehouse
from ntp.findings import FINDING_COLUMNS, fetch_findings
from ntp.periods import parse_period
from ntp.settings import load


@dataclass
class AlertOutcome:
    html_path: Path
    csv_path: Path
    json_path: Path
    sent: list[str] = field(default_factory=list)


def _headline(conn, period: date) -> dict:
    """Reporting coverage and national figures for the month (province figures, current block)."""
    from ntp.reference import provinces_for

    expected = len(provinces_for(period))
    files = conn.execute(
        """select kind, count(distinct province_code) filter (where status = 'loaded'),
                  count(*) filter (where status = 'quarantined')
           from audit.files where period = %s or (period is null and run_period = %s) group by kind""",
        (period, period),
    ).fetchall()
    by_kind = {kind: {"provinces": n, "quarantined": q} for kind, n, q in files}
    marts_built = conn.execute("select to_regclass('marts.fct_ntp_monthly') is not null").fetchone()[0]
    programs = (
        []
        if not marts_built
        else conn.execute(
            """select c.program_key,
                  sum(f.plan_assigned_vnd) filter (where f.plan_block = 'current'),
                  sum(f.allocated_vnd) filter (where f.plan_block = 'current'),
                  sum(f.disbursed_cumulative_vnd) filter (where f.plan_block = 'current')
           from marts.fct_ntp_monthly f
           join marts.dim_component c using (component_key)
           where f.period = %s and f.reporting_source = 'province' and c.level = 'program'
           group by c.program_key order by c.program_key""",
            (period,),
        ).fetchall()
    )
    return {
        "provinces_expected": expected,
        "province_reports": by_kind.get("province_workbook", {}).get("provinces", 0),
        "treasury_reports": by_kind.get("treasury_extract", {}).get("provinces", 0),
        "quarantined_files": sum(v["quarantined"] for v in by_kind.values()),
        "programs": [
            {
                "program": p,
                "plan_vnd": plan,
                "allocated_vnd": alloc,
                "disbursed_vnd": disb,
                "rate_pct": round(float(disb) / float(plan) * 100, 2) if plan and disb is not None else None,
            }
            for p, plan, alloc, disb in programs
        ],
    }


def _quarantined(conn, period: date) -> list[dict]:
    rows = conn.execute(
        """select original_name, error_code, error_message, error_sheet, error_row, error_column
           from audit.files where status = 'quarantined' and coalesce(period, run_period) = %s
           order by original_name""",
        (period,),
    ).fetchall()
    keys = ["file", "error_code", "message", "sheet", "row", "column"]
    return [dict(zip(keys, r, strict=True)) for r in rows]


def _progress(conn, period: date, provinces: list[str]) -> dict[str, dict]:
    """Per province: cumulative current-year disbursement as % of the province's plan, month by month up to
    the report month, from both sources; and the deadlines of the year from the seed."""
    if not provinces:
        return {}
    rows = conn.execute(
        """with figures as (
               select province_code, period, reporting_source,
                      sum(disbursed_cumulative_vnd) as disbursed, sum(plan_assigned_vnd) as plan
               from marts.fct_ntp_monthly
               join quality.int_quality__component_tree as tree using (capital_type, component_key)
               where tree.is_leaf and plan_block = 'current' and province_code = any(%(p)s)
                 and period between date_trunc('year', %(d)s::date) and %(d)s::date
               group by 1, 2, 3
           )
           select t.province_code, extract(month from t.period)::int, t.reporting_source,
                  t.disbursed / nullif(p.plan, 0) * 100
           from figures t
           join figures p on p.province_code = t.province_code and p.period = t.period
                and p.reporting_source = 'province'
           order by 1, 2""",
        {"p": provinces, "d": period},
    ).fetchall()
    deadlines = conn.execute(
        """select deadline_kind, plan_year, deadline_date from reference.ref_deadlines
           where (deadline_kind in ('allocation', 'year_end_disbursement') and plan_year = %(y)s)
              or (deadline_kind = 'carryover_disbursement' and plan_year < %(y)s
                  and deadline_date between make_date(%(y)s, 1, 1) and make_date(%(y)s + 1, 1, 31))
           order by deadline_date""",
        {"y": period.year},
    ).fetchall()
    marks = [(kind if kind != "carryover_disbursement" else f"carryover:{year}", d) for kind, year, d in deadlines]
    out: dict[str, dict] = {
        code: {"series": {"province": [], "treasury": []}, "deadlines": marks} for code in provinces
    }
    for code, month, source, pct in rows:
        if pct is not None:
            out[code]["series"][source].append((month, round(float(pct), 2)))
    return out


def _province_names(period: date) -> dict[str, str]:
    from ntp.reference import provinces_for

    return {p.province_code: p.short_name for p in provinces_for(period)}


def build(period_text: str, *, language: str | None = None) -> tuple[AlertOutcome, dict]:
    """Write the digest files for a month; return their paths and the digest content."""
    period = parse_period(period_text)
    label = period.strftime("%Y-%m")
    lang = language or delivery.language()
    out_dir = load().reports_dir / label
    out_dir.mkdir(parents=True, exist_ok=True)
    url = warehouse.url()
    findings = fetch_findings(label, url, language=lang)
    provinces = sorted({f["province_code"] for f in findings if f["province_code"]})
    with warehouse.connect(url) as conn:
        digest = {
            "period": label,
            "language": lang,
            "headline": _headline(conn, period),
            "counts": _counts(findings),
            "quarantined": _quarantined(conn, period),
            "findings": findings,
            "province_names": _province_names(period),
            "progress": _progress(conn, period, provinces),
        }
    outcome = AlertOutcome(out_dir / "alert.html", out_dir / "findings.csv", out_dir / "alert.json")
    outcome.csv_path.write_text(findings_csv(findings), encoding="utf-8")
    public = {k: v for k, v in digest.items() if k not in ("province_names", "progress")}
    outcome.json_path.write_text(json.dumps(public, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    outcome.html_path.write_text(render.html(digest, lang), encoding="utf-8")
    return outcome, digest


def _counts(findings: list[dict]) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        counts.setdefault(f["severity"], {}).setdefault(f["status"], 0)
        counts[f["severity"]][f["status"]] += 1
    return counts


def findings_csv(findings: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FINDING_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(findings)
    return buf.getvalue()


def build_and_send(period_text: str, *, force: bool = False, language: str | None = None) -> AlertOutcome:
    outcome, digest = build(period_text, language=language)
    outcome.sent = delivery.deliver(digest, outcome, force=force)
    return outcome
