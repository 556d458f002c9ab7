"""HTML of the monthly digest (self-contained: inline CSS, no external assets)."""

from __future__ import annotations

from html import escape


def _vnd(value) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".")


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#1f2933}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left}th{background:#f3f5f7}
td:nth-child(n+6){text-align:right}.error{color:#b42318}.warning{color:#b54708}
"""


def html(digest: dict) -> str:
    h = digest["headline"]
    parts = [f"<!doctype html><html lang='vi'><head><meta charset='utf-8'>"
             f"<title>Cảnh báo chất lượng số liệu CTMTQG — {digest['period']}</title><style>{STYLE}</style></head><body>",
             f"<h1>Cảnh báo chất lượng số liệu CTMTQG — tháng {digest['period']}</h1>",
             f"<p>Báo cáo của tỉnh: <b>{h['province_reports']}</b>/{h['provinces_expected']} · "
             f"Báo cáo KBNN: <b>{h['treasury_reports']}</b>/{h['provinces_expected']} · "
             f"Tệp bị cách ly: <b>{h['quarantined_files']}</b></p>"]
    counts = digest["counts"]
    rows = [[sev, c.get("new", 0), c.get("persisting", 0), c.get("resolved", 0)] for sev, c in sorted(counts.items())]
    parts.append(_table(["Mức độ", "Mới", "Tồn tại", "Đã khắc phục"], rows))
    parts.append("<h2>Toàn quốc theo chương trình (kế hoạch năm)</h2>")
    parts.append(_table(
        ["Chương trình", "Kế hoạch (VND)", "Đã phân bổ (VND)", "Giải ngân (VND)", "Tỷ lệ (%)"],
        [[p["program"], _vnd(p["plan_vnd"]), _vnd(p["allocated_vnd"]), _vnd(p["disbursed_vnd"]),
          p["rate_pct"] if p["rate_pct"] is not None else ""] for p in h["programs"]],
    ))
    by_province: dict[str, list[dict]] = {}
    for f in digest["findings"]:
        by_province.setdefault(f["province_code"] or "—", []).append(f)
    for code in sorted(by_province):
        parts.append(f"<h2>Tỉnh {escape(code)}</h2>")
        parts.append(_table(
            ["Quy tắc", "Mức độ", "Nội dung", "Nguồn vốn", "Loại vốn", "Tỉnh (VND)", "KBNN (VND)",
             "Chênh lệch (VND)", "Trạng thái", "Tệp / dòng"],
            [[f["rule_id"], f["severity"], f["component_key"] or "", f["fund_source"] or "",
              f["capital_type"] or "", _vnd(f["province_value_vnd"]), _vnd(f["treasury_value_vnd"]),
              _vnd(f["delta_vnd"]), f["status"], f"{f['source_file'] or ''}:{f['source_row'] or ''}"]
             for f in by_province[code]],
        ))
    if digest["quarantined"]:
        parts.append("<h2>Tệp bị cách ly</h2>")
        parts.append(_table(["Tệp", "Mã lỗi", "Lý do"],
                            [[q["file"], q["error_code"], q["message"]] for q in digest["quarantined"]]))
    parts.append("</body></html>")
    return "\n".join(parts)
