"""The findings workbook a province receives and returns: its open findings with Vietnamese headers, the
province and component names, both figures and the delta, status, file:row and the finding id, and two empty
answer columns (`Giải trình`, `Hướng xử lý`). ingestion.responses reads it back; both take the labels from
ntp_core.response_workbook. Every text is written as a text cell, never as a formula."""

from __future__ import annotations

import io

import xlsxwriter

from alerts.formats import word
from alerts.grouping import cause_text, group
from ntp_core.response_workbook import ACTION, EXPLANATION, FIGURES, FINDING_ID, PERIOD_LABEL, PROVINCE_LABEL, SHEET

ACTIONS = ["Sẽ sửa số liệu", "Số liệu đúng"]
PROVINCE_FIGURE, TREASURY_FIGURE, DELTA = FIGURES
COLUMNS = [
    ("STT", 5),
    (FINDING_ID, 34),
    ("Quy tắc", 9),
    ("Mức độ", 9),
    ("Mã tỉnh", 7),
    ("Tên tỉnh", 18),
    ("Mã nội dung", 16),
    ("Tên nội dung", 36),
    ("Nguồn vốn", 9),
    ("Loại vốn", 8),
    ("Khối kế hoạch", 10),
    ("Chỉ tiêu", 16),
    (PROVINCE_FIGURE, 18),
    (TREASURY_FIGURE, 18),
    (DELTA, 18),
    ("Trạng thái", 12),
    ("Tệp:dòng", 28),
    ("Nội dung", 48),
    ("Nguyên nhân chung", 40),
    (EXPLANATION, 40),
    (ACTION, 18),
]
HEADER_ROW = 3  # 0-based: title, province/month line, instruction, header


def findings_xlsx(
    findings: list[dict],
    *,
    period: str,
    province: str | None,
    province_name: str = "",
    units: dict[str, str] | None = None,
    language: str = "vi",
) -> bytes:
    """The workbook of the open findings (not resolved) of one province and month, as bytes."""
    rows = [f for f in findings if f["status"] != "resolved"]
    name = province_name or next((f.get("province_name") for f in rows if f.get("province_name")), "") or ""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    title = wb.add_format({"bold": True, "font_size": 13})
    head = wb.add_format({"bold": True, "bg_color": "#F3F5F7", "border": 1, "text_wrap": True, "valign": "top"})
    answer_head = wb.add_format({"bold": True, "bg_color": "#FFF4CC", "border": 1, "text_wrap": True})
    money = wb.add_format({"num_format": "#,##0", "valign": "top"})
    text = wb.add_format({"valign": "top", "text_wrap": True})
    answer = wb.add_format({"bg_color": "#FFFBEA", "border": 1, "text_wrap": True, "valign": "top", "locked": False})
    ws = wb.add_worksheet(SHEET)
    ws.write_string(0, 0, f"Phát hiện kiểm tra chất lượng số liệu CTMTQG tháng {period[5:]}/{period[:4]}", title)
    ws.write_string(1, 0, PROVINCE_LABEL, bold)
    ws.write_string(1, 1, province or "")
    ws.write_string(1, 2, name)
    ws.write_string(1, 4, PERIOD_LABEL, bold)
    ws.write_string(1, 5, period)
    ws.write_string(
        2,
        0,
        f"Vui lòng điền cột '{EXPLANATION}' và '{ACTION}' rồi gửi lại tệp này vào hộp thư báo cáo; "
        "các cột khác chỉ để tham khảo, số liệu sửa ở đây không được ghi nhận.",
    )
    for c, (label, width) in enumerate(COLUMNS):
        ws.write_string(HEADER_ROW, c, label, answer_head if label in (EXPLANATION, ACTION) else head)
        ws.set_column(c, c, width)
    causes = {}
    for item in group(rows):
        if len(item["members"]) > 1:
            unit = (units or {}).get(item["members"][0].get("source_file") or "")
            for f in item["members"]:
                causes[id(f)] = cause_text(item, unit, "vi")
    for n, f in enumerate(rows, start=1):
        r = HEADER_ROW + n
        source = f"{f.get('source_file') or ''}{':' + str(f['source_row']) if f.get('source_row') else ''}"
        values = [
            n,
            f["finding_key"],
            f["rule_id"],
            word(f["severity"], "vi"),
            f["province_code"] or "",
            f.get("province_name") or "",
            f["component_key"] or "",
            f.get("component_name") or "",
            word(f["fund_source"], "vi"),
            f["capital_type"] or "",
            word(f["plan_block"], "vi"),
            word(f["measure"], "vi"),
            f["province_value_vnd"],
            f["treasury_value_vnd"],
            f["delta_vnd"],
            word(f["status"], "vi"),
            source,
            f["message"] or "",
            causes.get(id(f), ""),
            f.get("explanation") or "",
            f.get("planned_action") or "",
        ]
        for c, value in enumerate(values):
            label = COLUMNS[c][0]
            if label in (EXPLANATION, ACTION):
                ws.write_string(r, c, value, answer)
            elif isinstance(value, int | float) or (value is not None and not isinstance(value, str)):
                ws.write_number(r, c, float(value), money if label in FIGURES else text)
            elif value is None:
                ws.write_blank(r, c, None, money)
            else:
                ws.write_string(r, c, value, text)
    if rows:
        action_col = len(COLUMNS) - 1
        ws.data_validation(
            HEADER_ROW + 1,
            action_col,
            HEADER_ROW + len(rows),
            action_col,
            {"validate": "list", "source": ACTIONS, "error_type": "information"},
        )
        ws.autofilter(HEADER_ROW, 0, HEADER_ROW + len(rows), len(COLUMNS) - 1)
    ws.freeze_panes(HEADER_ROW + 1, 2)
    wb.close()
    return buf.getvalue()
