"""HTML of the monthly digest: self-contained (inline CSS and SVG, no script, no external asset), in
Vietnamese by default or English (NTP_ALERT_LANGUAGE=en)."""

from __future__ import annotations

from html import escape

from alerts.chart import progress_svg

TEXT = {
    "vi": {
        "title": "Cảnh báo chất lượng số liệu CTMTQG — tháng {period}",
        "province_reports": "Báo cáo của tỉnh",
        "treasury_reports": "Báo cáo KBNN",
        "quarantined_files": "Tệp bị cách ly",
        "severity": "Mức độ",
        "new": "Mới",
        "persisting": "Tồn tại",
        "resolved": "Đã khắc phục",
        "error": "lỗi",
        "warning": "cảnh báo",
        "national": "Toàn quốc theo chương trình (kế hoạch năm, số liệu của tỉnh)",
        "program": "Chương trình",
        "plan": "Kế hoạch (VND)",
        "allocated": "Đã phân bổ (VND)",
        "disbursed": "Giải ngân (VND)",
        "rate": "Tỷ lệ (%)",
        "province": "Tỉnh",
        "rule": "Quy tắc",
        "component": "Nội dung",
        "fund": "Nguồn vốn",
        "capital": "Loại vốn",
        "block": "Khối KH",
        "province_value": "Tỉnh (VND)",
        "treasury_value": "KBNN (VND)",
        "expected": "Kỳ vọng (VND)",
        "delta": "Chênh lệch (VND)",
        "status": "Trạng thái",
        "source": "Tệp / dòng",
        "message": "Nội dung cảnh báo",
        "file": "Tệp",
        "error_code": "Mã lỗi",
        "reason": "Lý do",
        "location": "Vị trí",
        "chart_title": "Tiến độ giải ngân",
        "chart_axis": "Tháng",
        "treasury": "KBNN",
        "linear": "Tuyến tính đến 100 %",
        "no_data": "Không có số liệu",
        "no_findings": "Không có phát hiện nào trong tháng.",
        "deadline_allocation": "Hạn phân bổ",
        "deadline_year_end": "Hạn giải ngân",
        "deadline_carryover": "Hạn vốn kéo dài {year}",
        "findings_total": "Tổng số phát hiện",
        "csv_note": "Toàn bộ phát hiện: findings.csv (đính kèm).",
        "status_new": "mới",
        "status_persisting": "tồn tại",
        "status_resolved": "đã khắc phục",
        "missing": "Tỉnh thiếu báo cáo (NTP-C01)",
        "missing_what": "Thiếu",
        "province_workbook": "báo cáo của tỉnh",
        "treasury_extract": "báo cáo KBNN",
    },
    "en": {
        "title": "NTP data quality alert — {period}",
        "province_reports": "Provincial reports",
        "treasury_reports": "Treasury extracts",
        "quarantined_files": "Quarantined files",
        "severity": "Severity",
        "new": "New",
        "persisting": "Persisting",
        "resolved": "Resolved",
        "error": "errors",
        "warning": "warnings",
        "national": "National figures per program (plan year, provincial reports)",
        "program": "Program",
        "plan": "Plan (VND)",
        "allocated": "Allocated (VND)",
        "disbursed": "Disbursed (VND)",
        "rate": "Rate (%)",
        "province": "Province",
        "rule": "Rule",
        "component": "Component",
        "fund": "Fund",
        "capital": "Capital",
        "block": "Block",
        "province_value": "Province (VND)",
        "treasury_value": "Treasury (VND)",
        "expected": "Expected (VND)",
        "delta": "Delta (VND)",
        "status": "Status",
        "source": "File / row",
        "message": "Message",
        "file": "File",
        "error_code": "Error code",
        "reason": "Reason",
        "location": "Location",
        "chart_title": "Disbursement progress",
        "chart_axis": "Month",
        "treasury": "Treasury",
        "linear": "Linear to 100 %",
        "no_data": "No figures",
        "no_findings": "No finding this month.",
        "deadline_allocation": "Allocation",
        "deadline_year_end": "Year-end",
        "deadline_carryover": "Carry-over {year}",
        "findings_total": "Findings",
        "csv_note": "All findings: findings.csv (attached).",
        "status_new": "new",
        "status_persisting": "persisting",
        "status_resolved": "resolved",
        "missing": "Provinces missing a report (NTP-C01)",
        "missing_what": "Missing",
        "province_workbook": "provincial workbook",
        "treasury_extract": "Treasury extract",
    },
}


def texts(language: str) -> dict[str, str]:
    return TEXT["en" if language == "en" else "vi"]


def _vnd(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) or (hasattr(value, "to_integral_value") and value != value.to_integral_value()):
        return f"{float(value):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{int(value):,}".replace(",", ".")


def _table(headers: list[str], rows: list[list], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for n, r in enumerate(rows):
        cls = f" class='{classes[n]}'" if classes else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;margin:24px;color:#1f2933}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;min-width:120px}
.kpi b{display:block;font-size:20px}.kpi span{font-size:12px;color:#52606d}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f5f7}
td.num,th.num{text-align:right}tr.error td:first-child{border-left:4px solid #b42318}
tr.warning td:first-child{border-left:4px solid #dc6803}.muted{color:#6b7280;font-size:12px}
"""


def _program_rows(h: dict) -> list[list]:
    return [
        [
            p["program"],
            _vnd(p["plan_vnd"]),
            _vnd(p["allocated_vnd"]),
            _vnd(p["disbursed_vnd"]),
            "" if p["rate_pct"] is None else f"{p['rate_pct']:.2f}",
        ]
        for p in h["programs"]
    ]


def _chart(digest: dict, code: str, t: dict[str, str]) -> str:
    progress = digest.get("progress", {}).get(code)
    if not progress:
        return ""
    year = int(digest["period"][:4])
    deadlines = []
    for kind, d in progress.get("deadlines", []):
        if kind == "allocation":
            deadlines.append((t["deadline_allocation"], d))
        elif kind == "year_end_disbursement":
            deadlines.append((t["deadline_year_end"], d))
        else:
            deadlines.append((t["deadline_carryover"].format(year=kind.split(":")[1]), d))
    labels = {
        "chart_title": t["chart_title"],
        "chart_axis": t["chart_axis"],
        "province": t["province"],
        "treasury": t["treasury"],
        "linear": t["linear"],
        "no_data": t["no_data"],
    }
    return progress_svg(year, progress["series"], deadlines, labels)


def html(digest: dict, language: str = "vi") -> str:
    t = texts(language)
    h = digest["headline"]
    counts = digest["counts"]
    errors = sum(counts.get("error", {}).get(s, 0) for s in ("new", "persisting"))
    warnings = sum(counts.get("warning", {}).get(s, 0) for s in ("new", "persisting"))
    title = t["title"].format(period=digest["period"])
    parts = [
        f"<!doctype html><html lang='{'en' if language == 'en' else 'vi'}'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<div class='kpis'>"
        f"<div class='kpi'><b>{h['province_reports']}/{h['provinces_expected']}</b>"
        f"<span>{t['province_reports']}</span></div>"
        f"<div class='kpi'><b>{h['treasury_reports']}/{h['provinces_expected']}</b>"
        f"<span>{t['treasury_reports']}</span></div>"
        f"<div class='kpi'><b>{errors}</b><span>{t['error']}</span></div>"
        f"<div class='kpi'><b>{warnings}</b><span>{t['warning']}</span></div>"
        f"<div class='kpi'><b>{h['quarantined_files']}</b><span>{t['quarantined_files']}</span></div>"
        "</div>",
    ]
    rows = [
        [t.get(sev, sev), c.get("new", 0), c.get("persisting", 0), c.get("resolved", 0)]
        for sev, c in sorted(counts.items())
    ]
    parts.append(_table([t["severity"], t["new"], t["persisting"], t["resolved"]], rows))
    parts.append(f"<h2>{escape(t['national'])}</h2>")
    parts.append(_table([t["program"], t["plan"], t["allocated"], t["disbursed"], t["rate"]], _program_rows(h)))
    if digest["quarantined"]:
        parts.append(f"<h2>{escape(t['quarantined_files'])}</h2>")
        parts.append(
            _table(
                [t["file"], t["error_code"], t["reason"], t["location"]],
                [
                    [
                        q["file"],
                        q["error_code"] or "",
                        q["message"] or "",
                        " ".join(str(x) for x in (q["sheet"], q["row"], q["column"]) if x),
                    ]
                    for q in digest["quarantined"]
                ],
            )
        )
    by_province: dict[str, list[dict]] = {}
    for f in digest["findings"]:
        by_province.setdefault(f["province_code"] or "—", []).append(f)
    names = digest.get("province_names", {})
    # provinces that only miss a report: one compact table instead of a section each
    missing_only = sorted(code for code, items in by_province.items() if all(f["rule_id"] == "NTP-C01" for f in items))
    if missing_only:
        parts.append(f"<h2>{escape(t['missing'])} ({len(missing_only)})</h2>")
        parts.append(
            _table(
                [t["province"], t["missing_what"], t["status"]],
                [
                    [
                        f"{code} {names.get(code, '')}",
                        ", ".join(t.get(f["measure"], f["measure"]) for f in by_province[code]),
                        ", ".join(sorted({t.get("status_" + f["status"], f["status"]) for f in by_province[code]})),
                    ]
                    for code in missing_only
                ],
            )
        )
        by_province = {code: items for code, items in by_province.items() if code not in missing_only}
    if not by_province:
        parts.append(f"<p>{escape(t['no_findings'])}</p>")
    for code in sorted(by_province):
        items = by_province[code]
        name = names.get(code, "")
        parts.append(
            f"<h2>{escape(t['province'])} {escape(code)} {escape(name)} "
            f"<span class='muted'>({t['findings_total']}: {len(items)})</span></h2>"
        )
        parts.append(_chart(digest, code, t))
        shown = items[:200]
        parts.append(
            _table(
                [
                    t["rule"],
                    t["severity"],
                    t["component"],
                    t["fund"],
                    t["capital"],
                    t["block"],
                    t["province_value"],
                    t["treasury_value"],
                    t["expected"],
                    t["delta"],
                    t["status"],
                    t["source"],
                    t["message"],
                ],
                [
                    [
                        f["rule_id"],
                        f["severity"],
                        f["component_key"] or "",
                        f["fund_source"] or "",
                        f["capital_type"] or "",
                        f["plan_block"] or "",
                        _vnd(f["province_value_vnd"]),
                        _vnd(f["treasury_value_vnd"]),
                        _vnd(f["expected_vnd"]),
                        _vnd(f["delta_vnd"]),
                        t.get("status_" + f["status"], f["status"]),
                        f"{f['source_file'] or ''}{':' + str(f['source_row']) if f['source_row'] else ''}",
                        f["message"],
                    ]
                    for f in shown
                ],
                [f["severity"] for f in shown],
            )
        )
        if len(items) > len(shown):
            parts.append(f"<p class='muted'>… {len(items) - len(shown)} — {escape(t['csv_note'])}</p>")
    parts.append(f"<p class='muted'>{escape(t['csv_note'])}</p></body></html>")
    return "\n".join(parts)


def slack_text(digest: dict, language: str = "vi") -> str:
    t = texts(language)
    h = digest["headline"]
    counts = digest["counts"]
    errors = sum(counts.get("error", {}).get(s, 0) for s in ("new", "persisting"))
    warnings = sum(counts.get("warning", {}).get(s, 0) for s in ("new", "persisting"))
    new = sum(c.get("new", 0) for c in counts.values())
    return (
        f"*{t['title'].format(period=digest['period'])}*\n"
        f"{t['province_reports']}: {h['province_reports']}/{h['provinces_expected']} · "
        f"{t['treasury_reports']}: {h['treasury_reports']}/{h['provinces_expected']} · "
        f"{t['quarantined_files']}: {h['quarantined_files']}\n"
        f"{errors} {t['error']}, {warnings} {t['warning']} ({new} {t['new'].lower()})"
    )
