"""The monthly quality alert: built from the findings table (never from logs) and written under
`$NTP_DATA_DIR/reports/<YYYY-MM>/` (rewritten on every run):

* the national digest: alert.html, findings.csv (UTF-8 with BOM), alert.json — sent to NTP_ALERT_TO and
  to Slack;
* each province's part, in provinces/<code>/: alert.html, chart.png, findings.csv and the findings workbook
  phat-hien-<code>-<YYYY-MM>.xlsx the province returns with its answers — sent to the province's recipients
  (alerts.recipients), the chart embedded by Content-ID.

Each part is sent once per month and channel unless forced (audit.alert_sends).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from alerts import delivery, recipients, render
from alerts.chart import progress_png
from alerts.findings import fetch_findings, findings_csv
from alerts.workbook import findings_xlsx
from ntp_core import warehouse
from ntp_core.periods import parse_period
from ntp_core.reference import provinces_for
from ntp_core.settings import load


@dataclass
class ProvincePart:
    code: str
    name: str
    html_path: Path
    chart_path: Path | None  # none when the province has no figure this year (e.g. only a missing report)
    xlsx_path: Path
    csv_path: Path
    part: dict


@dataclass
class AlertOutcome:
    html_path: Path
    csv_path: Path
    json_path: Path
    provinces: list[ProvincePart] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)


def _headline(conn, period: date) -> dict:
    """Reporting coverage and national figures for the month (province figures, current block)."""
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
    return {p.province_code: p.short_name for p in provinces_for(period)}


def _expectations(conn, period: date) -> list[dict]:
    """Great Expectations failures of the files of the month (audit.validation_results)."""
    rows = conn.execute(
        """select f.original_name, v.suite, v.expectation, v.observed
           from audit.validation_results v join audit.files f using (file_id)
           where not v.success and coalesce(f.period, f.run_period) = %s
           order by f.original_name, v.suite, v.expectation""",
        (period,),
    ).fetchall()
    return [dict(zip(("file", "suite", "expectation", "observed"), r, strict=True)) for r in rows]


def _units(conn, period: date) -> dict[str, str]:
    """The unit each workbook of the month declares (for "appears to be in nghìn đồng, not triệu đồng")."""
    rows = conn.execute(
        "select original_name, unit from audit.files where period = %s and unit is not null", (period,)
    ).fetchall()
    return dict(rows)


def _response_notes(conn, period: date) -> dict[str, list[dict]]:
    """Per province: the rows of its returned workbooks (answering this month, or ingested by its run) that
    were not taken, or taken with figures typed over."""
    rows = conn.execute(
        """select r.province_code, f.original_name, r.source_row, r.finding_key, r.outcome, r.note
           from audit.finding_responses r join audit.files f using (file_id)
           where f.status = 'loaded' and (f.run_period = %s or f.period = %s)
             and (r.outcome <> 'accepted' or r.note is not null)
           order by f.ingested_at, r.source_row""",
        (period, period),
    ).fetchall()
    out: dict[str, list[dict]] = {}
    for code, name, row, key, outcome, note in rows:
        out.setdefault(code, []).append(
            {"file": name, "row": row, "finding_key": key, "outcome": outcome, "note": note}
        )
    return out


def build(period_text: str, *, language: str | None = None) -> tuple[AlertOutcome, dict]:
    """Write the national digest and every province's part for a month; return their paths and content."""
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
            "expectations": _expectations(conn, period),
            "findings": findings,
            "province_names": _province_names(period),
            "units": _units(conn, period),
            "progress": _progress(conn, period, provinces),
        }
        notes = _response_notes(conn, period)
    outcome = AlertOutcome(out_dir / "alert.html", out_dir / "findings.csv", out_dir / "alert.json")
    outcome.csv_path.write_text("\ufeff" + findings_csv(findings, lang), encoding="utf-8", newline="")
    public = {k: v for k, v in digest.items() if k not in ("province_names", "progress", "units")}
    outcome.json_path.write_text(json.dumps(public, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    outcome.html_path.write_text(render.national_html(digest, lang), encoding="utf-8")
    for code in provinces:
        outcome.provinces.append(_province_part(digest, code, out_dir / "provinces" / code, lang, notes.get(code, [])))
    return outcome, digest


def _province_part(digest: dict, code: str, out_dir: Path, lang: str, notes: list[dict]) -> ProvincePart:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [f for f in digest["findings"] if f["province_code"] == code]
    name = next((f["province_name"] for f in rows if f.get("province_name")), None) or digest["province_names"].get(
        code, ""
    )
    part = {
        "code": code,
        "name": name,
        "period": digest["period"],
        "findings": rows,
        "units": digest["units"],
        "response_notes": notes,
    }
    progress = digest["progress"].get(code) or {"series": {}, "deadlines": []}
    has_figures = any(progress["series"].values())
    result = ProvincePart(
        code,
        name,
        out_dir / "alert.html",
        out_dir / "chart.png" if has_figures else None,
        out_dir / f"phat-hien-{code}-{digest['period']}.xlsx",
        out_dir / "findings.csv",
        part,
    )
    if result.chart_path:
        chart = progress_png(
            int(digest["period"][:4]),
            progress["series"],
            render.deadline_marks(progress, lang),
            render.chart_labels(lang),
            decimal_comma=lang != "en",
        )
        result.chart_path.write_bytes(chart)
    result.xlsx_path.write_bytes(
        findings_xlsx(rows, period=digest["period"], province=code, province_name=name, units=digest["units"])
    )
    result.csv_path.write_text("\ufeff" + findings_csv(rows, lang), encoding="utf-8", newline="")
    chart_src = "chart.png" if result.chart_path else None
    result.html_path.write_text(render.province_html(part, lang, chart_src=chart_src), encoding="utf-8")
    return result


def _counts(findings: list[dict]) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for f in findings:
        counts.setdefault(f["severity"], {}).setdefault(f["status"], 0)
        counts[f["severity"]][f["status"]] += 1
    return counts


def deliver(digest: dict, outcome: AlertOutcome, *, force: bool = False) -> list[str]:
    """Send every part not yet sent this month (all when forced); returns the parts sent, e.g.
    ["email:national", "email:11", "slack:national"]."""
    lang = digest["language"]
    period = parse_period(digest["period"])
    sent: list[str] = []
    cfg = delivery.smtp_settings()
    with warehouse.connect(warehouse.url()) as conn:
        if cfg and cfg["recipients"] and (force or not delivery.already_sent(conn, period, "email", "national")):
            msg = delivery.message(
                delivery.subject_of(digest, lang),
                outcome.html_path.read_text(encoding="utf-8"),
                cfg,
                to=cfg["recipients"],
                text_body=render.slack_text(digest, lang).replace("*", ""),
                attachments=[outcome.csv_path, outcome.json_path],
            )
            delivery.send_message(msg, cfg)
            delivery.record_send(conn, period, "email", "national", cfg["recipients"], forced=force)
            sent.append("email:national")
        routes = recipients.recipients() if cfg else {}
        for part in outcome.provinces:
            to = [email for _role, email in routes.get(part.code, [])]
            if cfg is None or not to or not (force or not delivery.already_sent(conn, period, "email", part.code)):
                continue
            cid = f"chart-{part.code}"
            images = {cid: part.chart_path.read_bytes()} if part.chart_path else {}
            html = render.province_html(part.part, lang, chart_src=f"cid:{cid}" if images else None)
            msg = delivery.message(
                delivery.subject_of({**digest, "findings": part.part["findings"]}, lang, f"{part.code} {part.name}"),
                html,
                cfg,
                to=to,
                images=images,
                attachments=[part.xlsx_path, part.csv_path],
            )
            delivery.send_message(msg, cfg)
            delivery.record_send(conn, period, "email", part.code, to, forced=force)
            sent.append(f"email:{part.code}")
        webhook = delivery.slack_webhook()
        if webhook and (force or not delivery.already_sent(conn, period, "slack", "national")):
            delivery.post_slack(render.slack_text(digest, lang), webhook)
            delivery.record_send(conn, period, "slack", "national", ["webhook"], forced=force)
            sent.append("slack:national")
    return sent


def build_and_send(period_text: str, *, force: bool = False, language: str | None = None) -> AlertOutcome:
    outcome, digest = build(period_text, language=language)
    outcome.sent = deliver(digest, outcome, force=force)
    return outcome
