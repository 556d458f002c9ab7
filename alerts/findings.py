"""Reading the findings mart for the CLI and the alert: one month, optionally one province, in Vietnamese or
English; as a table (one line per cause), CSV (UTF-8 with BOM, names next to codes, cells that cannot turn
into formulas), JSON or the province's findings workbook (.xlsx)."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import TextIO

from alerts.formats import number, safe_cell, word
from alerts.grouping import cause_text, group
from alerts.workbook import findings_xlsx
from ntp_core import warehouse
from ntp_core.periods import parse_period

FINDING_COLUMNS = [
    "rule_id",
    "severity",
    "period",
    "province_code",
    "province_name",
    "component_key",
    "component_name",
    "fund_source",
    "capital_type",
    "plan_block",
    "measure",
    "province_value_vnd",
    "treasury_value_vnd",
    "expected_vnd",
    "delta_vnd",
    "source_file",
    "source_sheet",
    "source_row",
    "status",
    "first_seen_period",
    "message",
    "explanation",
    "planned_action",
    "response_file",
    "response_row",
    "finding_key",
]
NUMERIC = {"province_value_vnd", "treasury_value_vnd", "expected_vnd", "delta_vnd", "source_row", "response_row"}

LABELS = {
    "vi": {
        "rule_id": "Quy tắc",
        "severity": "Mức độ",
        "period": "Kỳ báo cáo",
        "province_code": "Mã tỉnh",
        "province_name": "Tên tỉnh",
        "component_key": "Mã nội dung",
        "component_name": "Tên nội dung",
        "fund_source": "Nguồn vốn",
        "capital_type": "Loại vốn",
        "plan_block": "Khối kế hoạch",
        "measure": "Chỉ tiêu",
        "province_value_vnd": "Số của tỉnh (đồng)",
        "treasury_value_vnd": "Số của KBNN (đồng)",
        "expected_vnd": "Số kỳ vọng (đồng)",
        "delta_vnd": "Chênh lệch (đồng)",
        "source_file": "Tệp",
        "source_sheet": "Biểu",
        "source_row": "Dòng",
        "status": "Trạng thái",
        "first_seen_period": "Kỳ phát hiện đầu tiên",
        "message": "Nội dung",
        "explanation": "Giải trình",
        "planned_action": "Hướng xử lý",
        "response_file": "Tệp giải trình",
        "response_row": "Dòng giải trình",
        "finding_key": "Mã phát hiện",
    },
    "en": {
        "rule_id": "Rule",
        "severity": "Severity",
        "period": "Report month",
        "province_code": "Province code",
        "province_name": "Province",
        "component_key": "Component code",
        "component_name": "Component",
        "fund_source": "Fund",
        "capital_type": "Capital",
        "plan_block": "Plan block",
        "measure": "Measure",
        "province_value_vnd": "Province figure (VND)",
        "treasury_value_vnd": "Treasury figure (VND)",
        "expected_vnd": "Expected (VND)",
        "delta_vnd": "Delta (VND)",
        "source_file": "File",
        "source_sheet": "Sheet",
        "source_row": "Row",
        "status": "Status",
        "first_seen_period": "First seen",
        "message": "Message",
        "explanation": "Explanation",
        "planned_action": "Planned action",
        "response_file": "Response file",
        "response_row": "Response row",
        "finding_key": "Finding id",
    },
}
_QUERY = """
select rule_id, severity, to_char(period, 'YYYY-MM'), province_code, province_name, component_key,
       {component_name}, fund_source, capital_type, plan_block, measure, province_value_vnd, treasury_value_vnd,
       expected_vnd, delta_vnd, source_file, source_sheet, source_row, status,
       to_char(first_seen_period, 'YYYY-MM'), {message}, explanation, planned_action, response_file,
       response_row, finding_key
from marts.fct_findings
where period = %(period)s and (%(province)s::text is null or province_code = %(province)s)
order by case severity when 'error' then 0 else 1 end, rule_id, province_code nulls first,
         component_key nulls first, fund_source, capital_type, plan_block, measure, source_file, source_row
"""


def _number(value):
    """VND amounts are whole đồng in practice; print them without a trailing .0 but never round."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def fetch_findings(
    period_text: str, warehouse_url: str | None = None, *, language: str = "vi", province: str | None = None
) -> list[dict]:
    period = parse_period(period_text)
    en = language == "en"
    query = _QUERY.format(
        message="message_en" if en else "message_vi",
        component_name="component_name_en" if en else "component_name_vi",
    )
    with warehouse.connect(warehouse_url or warehouse.url()) as conn:
        (exists,) = conn.execute("select to_regclass('marts.fct_findings')").fetchone() or (None,)
        if exists is None:
            return []
        rows = conn.execute(query, {"period": period, "province": province}).fetchall()
    out = []
    for row in rows:
        item = dict(zip(FINDING_COLUMNS, row, strict=True))
        for key in ("province_value_vnd", "treasury_value_vnd", "expected_vnd", "delta_vnd"):
            item[key] = _number(item[key])
        out.append(item)
    return out


def findings_csv(findings: list[dict], language: str = "vi") -> str:
    """CSV text (the caller writes it as UTF-8 with BOM): headers in the language, text cells that a
    spreadsheet cannot evaluate (a leading =, +, -, @, tab or CR is quoted with ')."""
    labels = LABELS["en" if language == "en" else "vi"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([labels[c] for c in FINDING_COLUMNS])
    for f in findings:
        writer.writerow(
            [
                ("" if f[c] is None else f[c])
                if c in NUMERIC
                else safe_cell(word(f[c], language) if c in ("severity", "status") else ("" if f[c] is None else f[c]))
                for c in FINDING_COLUMNS
            ]
        )
    return buf.getvalue()


def print_findings(
    period_text: str, *, fmt: str, out: TextIO, language: str = "vi", province: str | None = None
) -> int:
    findings = fetch_findings(period_text, language=language, province=province)
    label = f"{parse_period(period_text):%Y-%m}"
    if fmt == "json":
        json.dump(findings, out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
    elif fmt == "csv":
        out.write("\ufeff" + findings_csv(findings, language))
    elif fmt == "xlsx":
        data = findings_xlsx(findings, period=label, province=province, language=language)
        stream = getattr(out, "buffer", None) or sys.stdout.buffer
        out.flush()
        stream.write(data)
        stream.flush()
    else:
        out.write(table(findings, language))
        out.write(
            f"{len(findings)} phát hiện, kỳ {label}\n"
            if language != "en"
            else f"{len(findings)} finding(s) for {label}\n"
        )
    return 0


def table(findings: list[dict], language: str = "vi") -> str:
    """One line per cause: a group of findings sharing a unit-scale cause is one line with its count."""
    labels = LABELS["en" if language == "en" else "vi"]
    shown = [
        "rule_id",
        "severity",
        "province_code",
        "province_name",
        "component_key",
        "fund_source",
        "capital_type",
        "plan_block",
        "province_value_vnd",
        "treasury_value_vnd",
        "delta_vnd",
        "status",
    ]
    rows: list[list[str] | str] = [[labels[c] for c in shown]]
    for item in group(findings):
        f = item["members"][0]
        if len(item["members"]) > 1:
            rows.append(
                f"{f['rule_id']}  {word(f['severity'], language)}  {f['province_code'] or ''} "
                f"{f['province_name'] or ''}: {cause_text(item, None, language)} ({word(f['status'], language)})"
            )
        else:
            rows.append([number(f[c], language) if c in NUMERIC else word(f[c], language) for c in shown])
    cells = [r for r in rows if isinstance(r, list)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(shown))]
    lines = []
    for n, row in enumerate(rows):
        if isinstance(row, str):
            lines.append(row)
            continue
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"
