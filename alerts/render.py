"""HTML of the monthly alert from Jinja2 templates (alerts/templates, autoescaped): the national digest and
each province's part, in one language — Vietnamese by default or English (NTP_ALERT_LANGUAGE=en) — with the
language's number formats. Charts are PNG images referenced by `img_src` (a Content-ID in the e-mail, a file
next to the page on disk). No script, no external asset."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from alerts.formats import number, percent, word
from alerts.grouping import cause_text, group

TEXT = {
    "vi": {
        "title": "Cảnh báo chất lượng số liệu CTMTQG — tháng {period}",
        "province_title": "Cảnh báo chất lượng số liệu CTMTQG — {name} — tháng {period}",
        "province_intro": (
            "Kính gửi Sở Tài chính, Kho bạc Nhà nước tỉnh và Ban chỉ đạo: dưới đây là các phát hiện của tháng. "
            "Vui lòng điền cột Giải trình và Hướng xử lý trong tệp đính kèm và gửi lại tệp vào hộp thư báo cáo."
        ),
        "province_reports": "Báo cáo của tỉnh",
        "treasury_reports": "Báo cáo KBNN",
        "quarantined_files": "Tệp bị cách ly",
        "severity": "Mức độ",
        "new": "Mới",
        "persisting": "Tồn tại",
        "explained": "Đã giải trình",
        "resolved": "Đã khắc phục",
        "errors": "lỗi",
        "warnings": "cảnh báo",
        "national": "Toàn quốc theo chương trình (kế hoạch năm, số liệu của tỉnh)",
        "program": "Chương trình",
        "plan": "Kế hoạch (đồng)",
        "allocated": "Đã phân bổ (đồng)",
        "disbursed": "Giải ngân (đồng)",
        "rate": "Tỷ lệ",
        "province": "Tỉnh",
        "rule": "Quy tắc",
        "component": "Nội dung",
        "fund": "Nguồn vốn",
        "capital": "Loại vốn",
        "block": "Khối kế hoạch",
        "province_value": "Số của tỉnh (đồng)",
        "treasury_value": "Số của KBNN (đồng)",
        "delta": "Chênh lệch (đồng)",
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
        "csv_note": "Toàn bộ phát hiện: tệp findings.csv đính kèm.",
        "xlsx_note": "Toàn bộ phát hiện và cột giải trình: tệp .xlsx đính kèm.",
        "missing": "Tỉnh thiếu báo cáo (NTP-C01)",
        "missing_what": "Thiếu",
        "province_workbook": "báo cáo của tỉnh",
        "treasury_extract": "báo cáo KBNN",
        "explained_by_province": "Đã được tỉnh giải trình",
        "explanation": "Giải trình",
        "planned_action": "Hướng xử lý",
        "response_source": "Tệp giải trình : dòng",
        "expectations": "Kiểm định dữ liệu không đạt trong tháng",
        "no_expectation_failure": "Mọi kiểm định dữ liệu của tháng đều đạt.",
        "suite": "Bộ kiểm định",
        "expectation": "Kiểm định",
        "observed": "Giá trị quan sát",
        "grouped_note": "{n} số liệu, chi tiết trong tệp đính kèm",
        "open_findings": "Phát hiện cần xử lý",
        "response_notes": "Ghi chú về tệp giải trình đã nhận",
        "note_unknown_finding": "{file}, dòng {row}: không có phát hiện mã '{key}'; giải trình chưa được ghi nhận.",
        "note_closed_finding": "{file}, dòng {row}: phát hiện {key} đã khắc phục từ tháng {note}; giải trình "
        "chưa được ghi nhận.",
        "note_no_finding_id": "{file}, dòng {row}: thiếu mã phát hiện; giải trình chưa được ghi nhận.",
        "note_accepted": "{file}, dòng {row}: số liệu sửa trong tệp không được ghi nhận ({note}); giải trình "
        "đã được ghi nhận.",
    },
    "en": {
        "title": "NTP data quality alert — {period}",
        "province_title": "NTP data quality alert — {name} — {period}",
        "province_intro": (
            "To the Department of Finance, the provincial State Treasury and the steering committee: the findings "
            "of the month. Please fill in the columns Giải trình (explanation) and Hướng xử lý (action) of the "
            "attached workbook and return it to the reporting inbox."
        ),
        "province_reports": "Provincial reports",
        "treasury_reports": "Treasury extracts",
        "quarantined_files": "Quarantined files",
        "severity": "Severity",
        "new": "New",
        "persisting": "Persisting",
        "explained": "Explained",
        "resolved": "Resolved",
        "errors": "errors",
        "warnings": "warnings",
        "national": "National figures per program (plan year, provincial reports)",
        "program": "Program",
        "plan": "Plan (VND)",
        "allocated": "Allocated (VND)",
        "disbursed": "Disbursed (VND)",
        "rate": "Rate",
        "province": "Province",
        "rule": "Rule",
        "component": "Component",
        "fund": "Fund",
        "capital": "Capital",
        "block": "Block",
        "province_value": "Province (VND)",
        "treasury_value": "Treasury (VND)",
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
        "xlsx_note": "All findings with the answer columns: the attached .xlsx.",
        "missing": "Provinces missing a report (NTP-C01)",
        "missing_what": "Missing",
        "province_workbook": "provincial workbook",
        "treasury_extract": "Treasury extract",
        "explained_by_province": "Explained by the province",
        "explanation": "Explanation",
        "planned_action": "Planned action",
        "response_source": "Response file : row",
        "expectations": "Expectation failures of the month",
        "no_expectation_failure": "Every expectation of the month passed.",
        "suite": "Suite",
        "expectation": "Expectation",
        "observed": "Observed",
        "grouped_note": "{n} figures, detail in the attachment",
        "open_findings": "Findings to act on",
        "response_notes": "About the returned workbooks",
        "note_unknown_finding": "{file}, row {row}: no finding has the id '{key}'; the answer was not taken.",
        "note_closed_finding": "{file}, row {row}: finding {key} was resolved in {note}; the answer was not taken.",
        "note_no_finding_id": "{file}, row {row}: no finding id; the answer was not taken.",
        "note_accepted": "{file}, row {row}: figures typed in the workbook are ignored ({note}); the answer was taken.",
    },
}
SHOWN = 200  # rows of a findings table in the HTML; the attachment has them all

_env = Environment(loader=PackageLoader("alerts", "templates"), autoescape=select_autoescape(["j2", "html"]))


def texts(language: str) -> dict[str, str]:
    return TEXT["en" if language == "en" else "vi"]


def chart_labels(language: str) -> dict[str, str]:
    t = texts(language)
    keys = ("chart_title", "chart_axis", "province", "treasury", "linear", "no_data")
    return {k: t[k] for k in keys}


def deadline_marks(progress: dict, language: str) -> list:
    t = texts(language)
    marks = []
    for kind, d in progress.get("deadlines", []):
        if kind == "allocation":
            marks.append((t["deadline_allocation"], d))
        elif kind == "year_end_disbursement":
            marks.append((t["deadline_year_end"], d))
        else:
            marks.append((t["deadline_carryover"].format(year=kind.split(":")[1]), d))
    return marks


def _view(f: dict, lang: str) -> dict:
    source = f"{f.get('source_file') or ''}{':' + str(f['source_row']) if f.get('source_row') else ''}"
    return {
        **f,
        "severity_text": word(f["severity"], lang),
        "status_text": word(f["status"], lang),
        "block_text": word(f["plan_block"], lang),
        "fund_text": word(f["fund_source"], lang),
        "province_value_text": number(f["province_value_vnd"], lang),
        "treasury_value_text": number(f["treasury_value_vnd"], lang),
        "delta_text": number(f["delta_vnd"], lang),
        "source_text": source,
    }


def items_of(findings: list[dict], lang: str, units: dict[str, str]) -> list[dict]:
    """Display items, one per cause: a group of findings with one scale shows as one line."""
    out = []
    for item in group(findings):
        first = item["members"][0]
        cause = cause_text(item, units.get(first.get("source_file") or ""), lang) if len(item["members"]) > 1 else ""
        out.append({"first": _view(first, lang), "count": len(item["members"]), "cause": cause})
    return out


def _kpis(findings: list[dict]) -> tuple[int, int]:
    live = [f for f in findings if f["status"] in ("new", "persisting")]
    return sum(f["severity"] == "error" for f in live), sum(f["severity"] == "warning" for f in live)


def national_html(digest: dict, language: str = "vi") -> str:
    lang = "en" if language == "en" else "vi"
    t = texts(lang)
    h = digest["headline"]
    units = digest.get("units", {})
    findings = digest["findings"]
    errors, warnings = _kpis(findings)
    names = digest.get("province_names", {})
    by_province: dict[str, list[dict]] = {}
    for f in findings:
        if f["status"] != "explained":
            by_province.setdefault(f["province_code"] or "—", []).append(f)
    missing_only = sorted(c for c, items in by_province.items() if all(f["rule_id"] == "NTP-C01" for f in items))
    missing = [
        {
            "province": f"{code} {names.get(code, '')}",
            "what": ", ".join(t.get(f["measure"], f["measure"]) for f in by_province[code]),
            "status": ", ".join(sorted({word(f["status"], lang) for f in by_province[code]})),
        }
        for code in missing_only
    ]
    provinces = []
    for code in sorted(c for c in by_province if c not in missing_only):
        items = items_of(by_province[code], lang, units)
        provinces.append(
            {
                "code": code,
                "name": names.get(code, ""),
                "total": len(by_province[code]),
                "rows": items[:SHOWN],
                "more": max(0, len(items) - SHOWN),
            }
        )
    counts = [(word(sev, lang), c) for sev, c in sorted(digest["counts"].items())]
    programs = [
        {
            "program": p["program"],
            "plan": number(p["plan_vnd"], lang),
            "allocated": number(p["allocated_vnd"], lang),
            "disbursed": number(p["disbursed_vnd"], lang),
            "rate": percent(p["rate_pct"], lang),
        }
        for p in h["programs"]
    ]
    quarantined = [
        {**q, "location": " ".join(str(x) for x in (q["sheet"], q["row"], q["column"]) if x)}
        for q in digest["quarantined"]
    ]
    return _env.get_template("national.html.j2").render(
        lang=lang,
        t=t,
        title=t["title"].format(period=digest["period"]),
        h=h,
        errors=errors,
        warnings=warnings,
        counts=counts,
        programs=programs,
        quarantined=quarantined,
        expectations=digest.get("expectations", []),
        missing=missing,
        explained=[f for f in findings if f["status"] == "explained"],
        provinces=provinces,
    )


def province_html(part: dict, language: str = "vi", *, chart_src: str | None = None) -> str:
    lang = "en" if language == "en" else "vi"
    t = texts(lang)
    findings = part["findings"]
    open_rows = [f for f in findings if f["status"] in ("new", "persisting")]
    errors, warnings = _kpis(findings)
    items = items_of(open_rows, lang, part.get("units", {}))
    name = f"{part['code']} {part['name']}".strip()
    return _env.get_template("province.html.j2").render(
        lang=lang,
        t=t,
        title=t["province_title"].format(name=name, period=part["period"]),
        errors=errors,
        warnings=warnings,
        chart_src=chart_src,
        items=items[:SHOWN],
        more=max(0, len(items) - SHOWN),
        total=len(open_rows),
        explained=[f for f in findings if f["status"] == "explained"],
        response_notes=[
            t["note_" + n["outcome"]].format(file=n["file"], row=n["row"], key=n["finding_key"], note=n["note"])
            for n in part.get("response_notes", [])
        ],
    )


def slack_text(digest: dict, language: str = "vi") -> str:
    t = texts(language)
    h = digest["headline"]
    errors, warnings = _kpis(digest["findings"])
    explained = sum(f["status"] == "explained" for f in digest["findings"])
    return (
        f"*{t['title'].format(period=digest['period'])}*\n"
        f"{t['province_reports']}: {h['province_reports']}/{h['provinces_expected']} · "
        f"{t['treasury_reports']}: {h['treasury_reports']}/{h['provinces_expected']} · "
        f"{t['quarantined_files']}: {h['quarantined_files']}\n"
        f"{errors} {t['errors']}, {warnings} {t['warnings']}, {explained} {t['explained'].lower()}"
    )
