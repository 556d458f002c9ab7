"""Writes a provincial report workbook: canonical layout (docs/report-layout.md) or a messy variant.

Every variant carries the same figures: amounts are converted to the file's unit for display only, and
any text form of a number parses back to the same value.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from generator.layout import SHEET_NAMES, SHEET_TITLES
from generator.messy import Style, vn_number
from generator.report import B_CUR, M_DISB, M_PLAN, ProvinceReport, SheetReport, rate
from ntp_core.periods import add_months

FIXED_CREATED = datetime(2020, 1, 1, 8, 0, 0)
MEASURE_LABELS = ("Kế hoạch vốn giao", "Đã phân bổ chi tiết", "Lũy kế giải ngân từ đầu năm")
FOUNDER = "SỞ TÀI CHÍNH"
OLD_FOUNDER = "SỞ KẾ HOẠCH VÀ ĐẦU TƯ"
TITLE = "BÁO CÁO TÌNH HÌNH PHÂN BỔ, GIẢI NGÂN VỐN CÁC CHƯƠNG TRÌNH MỤC TIÊU QUỐC GIA"


def period_line(period: date) -> str:
    last = _month_end(period)
    return f"Tháng {period.month} năm {period.year} (Số liệu đến hết ngày {last.day}/{last.month}/{last.year})"


def _month_end(period: date) -> date:
    return add_months(period, 1) - timedelta(days=1)


def report_date(seed: int, period: date, code: str) -> date:
    r = np.random.default_rng([seed & 0xFFFFFFFF, period.year, period.month, int(code), 6])
    nxt = add_months(period, 1)
    day = int(r.integers(3, 13)) if r.random() < 0.9 else int(r.integers(13, 26))
    return nxt.replace(day=day)


def decimals_for(seed: int, year: int, code: str) -> int:
    return int(np.random.default_rng([seed & 0xFFFFFFFF, year, int(code), 5]).integers(1, 4))


def date_line(place: str, d: date) -> str:
    return f"{place}, ngày {d.day:02d} tháng {d.month} năm {d.year}"


def province_title(report: ProvinceReport, style: Style) -> str:
    p = report.province
    name = p.short_name
    if style.ascii_names:
        name = strip_diacritics(name)
    kind = "THÀNH PHỐ" if p.is_city else "TỈNH"
    if style.title_form == 1:
        return f"ỦY BAN NHÂN DÂN {kind} {name.upper()}"
    if style.title_form == 2:
        return f"{kind} {name.upper()}" if not style.ascii_names else f"{strip_diacritics(kind)} {name.upper()}"
    if style.title_form == 3:
        return name.upper()
    return f"UBND {kind} {name.upper()}"


def strip_diacritics(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")


def write_workbook(path: Path, report: ProvinceReport, style: Style | None = None) -> None:
    style = style or Style()
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": False})
    wb.set_properties({"created": FIXED_CREATED, "author": "", "title": "Báo cáo giải ngân CTMTQG"})
    fmt = _formats(wb, style)
    for cap in ("DTPT", "SN"):
        _write_sheet(wb, fmt, report, report.sheets[cap], style)
    wb.close()


def _formats(wb: xlsxwriter.Workbook, style: Style) -> dict[str, object]:
    num = "#,##0" if style.unit == "đồng" else ("#,##0.000" if style.unit == "triệu" else "#,##0.000000")
    return {
        "title": wb.add_format({"bold": True, "align": "center"}),
        "left": wb.add_format({"bold": True}),
        "italic": wb.add_format({"italic": True, "align": "center"}),
        "head": wb.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True, "border": 1}),
        "num": wb.add_format({"num_format": num, "border": 1}),
        "numb": wb.add_format({"num_format": num, "border": 1, "bold": True}),
        "text": wb.add_format({"border": 1, "text_wrap": True}),
        "textb": wb.add_format({"border": 1, "text_wrap": True, "bold": True}),
        "rate": wb.add_format({"num_format": "0.00", "border": 1}),
        "plain": wb.add_format({}),
    }


def _txt(text: str, style: Style) -> str:
    return style.text(text)


def _write_sheet(wb: xlsxwriter.Workbook, fmt: dict, report: ProvinceReport, sh: SheetReport, style: Style) -> None:
    ws = wb.add_worksheet(SHEET_NAMES[sh.capital_type])
    lay = sh.layout
    values = sh.values()
    total = sh.total(values)
    present = sh.present(values)
    year = report.period.year
    with_code = style.code_column
    ncol_lead = 3 if with_code else 2
    last_col = ncol_lead + 18 + 1  # 18 amount columns, rate, note
    row = 0
    for extra in style.extra_title_rows:
        ws.write(row, 0, _txt(extra, style), fmt["plain"])
        row += 1
    ws.write(row, 0, _txt(province_title(report, style), style), fmt["left"])
    ws.write(row + 1, 0, _txt(FOUNDER if year >= 2025 else OLD_FOUNDER, style), fmt["left"])
    # title lines are merged across the table so they print centred; the text stays in column A
    ws.merge_range(row + 2, 0, row + 2, last_col, _txt(TITLE, style), fmt["title"])
    ws.merge_range(row + 3, 0, row + 3, last_col, _txt(SHEET_TITLES[sh.capital_type], style), fmt["title"])
    pline = period_line(report.period)
    if report.replaces is not None:
        r = report.replaces
        pline += f" (Thay thế báo cáo ngày {r.day:02d}/{r.month}/{r.year})"
    if style.period_line:
        ws.merge_range(row + 4, 0, row + 4, last_col, _txt(pline, style), fmt["italic"])
    ws.merge_range(row + 5, 0, row + 5, last_col, _txt(style.unit_line, style), fmt["italic"])
    row += 7  # one blank row before the header
    h0 = row
    # header, three levels
    lead = [("STT",), (style.label("content"),)] + ([(style.label("code"),)] if with_code else [])
    for c, (label,) in enumerate(lead):
        ws.merge_range(h0, c, h0 + 2, c, _txt(label, style), fmt["head"])
    blocks = (style.label("block_current").format(year=year), style.label("block_carry"))
    measures = [style.label(k) for k in ("plan", "alloc", "disb")]
    funds = [style.label(k) for k in ("total", "nstw", "nsdp")]
    for b in range(2):
        c0 = ncol_lead + 9 * b
        ws.merge_range(h0, c0, h0, c0 + 8, _txt(blocks[b], style), fmt["head"])
        for mi in range(3):
            ws.merge_range(h0 + 1, c0 + 3 * mi, h0 + 1, c0 + 3 * mi + 2, _txt(measures[mi], style), fmt["head"])
            for fi in range(3):
                ws.write(h0 + 2, c0 + 3 * mi + fi, _txt(funds[fi], style), fmt["head"])
    ws.merge_range(h0, last_col - 1, h0 + 2, last_col - 1, _txt(style.label("rate"), style), fmt["head"])
    ws.merge_range(h0, last_col, h0 + 2, last_col, _txt(style.label("note"), style), fmt["head"])
    row = h0 + 3
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 48)
    if with_code:
        ws.set_column(2, 2, 14)
    ws.set_column(ncol_lead, last_col - 2, 15)
    ws.set_column(last_col - 1, last_col - 1, 10)
    ws.set_column(last_col, last_col, 16)
    # body
    body_start = row
    lines: list[tuple[str, str, str, Any, int | None]] = [("", "TỔNG SỐ", "", total, -1)]
    unknown_after = {after: (stt, name) for after, stt, name in sh.unknown_rows}
    for i, comp in enumerate(lay.components):
        if present[i]:
            lines.append((comp.stt, comp.name_vi, comp.component_key, values[i], i))
        if i in unknown_after:
            stt, name = unknown_after[i]
            lines.append((stt, name, "", values[i] * 0, None))
    for stt, name, key, v, ref in lines:
        if style.blank_row_before(stt, row):
            if "blank" in style.hidden_rows:
                ws.set_row(row, None, None, {"hidden": True})
            row += 1
        bold = ref == -1 or (ref is not None and lay.components[ref].level == "program")
        label = _txt(style.component_name(name), style)
        if ref == -1 and style.merge_total_label:
            ws.merge_range(row, 0, row, 1, label, fmt["textb"])
        else:
            ws.write_string(row, 0, stt, fmt["textb" if bold else "text"])
            ws.write_string(row, 1, label, fmt["textb" if bold else "text"])
        if with_code:
            ws.write_string(row, 2, key, fmt["text"])
        for b in range(2):
            for mi in range(3):
                c0 = ncol_lead + 9 * b + 3 * mi
                nstw, nsdp = int(v[b, mi, 0]), int(v[b, mi, 1])
                tot = nstw + nsdp
                if ref is not None and (ref, b, mi) in sh.total_overrides:
                    tot = sh.total_overrides[(ref, b, mi)]
                if style.formulas and ref is not None and ref >= 0 and tot == nstw + nsdp:
                    _number(ws, row, c0 + 1, nstw, style, fmt["numb" if bold else "num"], force=True)
                    _number(ws, row, c0 + 2, nsdp, style, fmt["numb" if bold else "num"], force=True)
                    f = f"={xl_rowcol_to_cell(row, c0 + 1)}+{xl_rowcol_to_cell(row, c0 + 2)}"
                    ws.write_formula(row, c0, f, fmt["numb" if bold else "num"], style.display(tot))
                    continue
                for fi, amount in enumerate((tot, nstw, nsdp)):
                    _number(ws, row, c0 + fi, amount, style, fmt["numb" if bold else "num"])
        ref_key = ref if ref is not None else None
        if ref_key is not None and ref_key in sh.rate_overrides:
            rv: float | None = sh.rate_overrides[ref_key]
        else:
            rv = rate(int(v[B_CUR, M_PLAN].sum()), int(v[B_CUR, M_DISB].sum()))
        if rv is None:
            ws.write_blank(row, last_col - 1, None, fmt["rate"])
        else:
            ws.write_number(row, last_col - 1, rv, fmt["rate"])
        if not style.merge_note:
            ws.write_blank(row, last_col, None, fmt["text"])
        for pad in range(style.trailing_columns):
            ws.write_blank(row, last_col + 1 + pad, None, fmt["text"])
        lines_needed = max(1, -(-len(name) // 52))
        if lines_needed > 1:
            ws.set_row(row, 15 * lines_needed)
        if style.hide_row(row, ref is not None and ref >= 0):
            ws.set_row(row, None, None, {"hidden": True})
        row += 1
    body_end = row
    if style.merge_note and body_end - body_start > 1:
        ws.merge_range(body_start, last_col, body_end - 1, last_col, "", fmt["text"])
    # footer
    row += 1
    place = report.province.short_name
    if style.ascii_names:
        place = strip_diacritics(place)
    ws.write(row, last_col - 6, _txt(date_line(place, report.report_date), style), fmt["italic"])
    row += 1
    ws.write(row, 1, _txt("Người lập biểu", style), fmt["title"])
    ws.write(row, last_col - 6, _txt("KT. CHỦ TỊCH", style), fmt["title"])
    ws.write(row + 1, last_col - 6, _txt("PHÓ CHỦ TỊCH", style), fmt["title"])
    ws.write(row + 5, 1, _txt("Nguyễn Văn An", style), fmt["title"])
    ws.write(row + 5, last_col - 6, _txt("Lò Văn Bình", style), fmt["title"])
    ws.freeze_panes(body_start, ncol_lead)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.3, right=0.3, top=0.4, bottom=0.4)


def _number(ws, row: int, col: int, vnd: int, style: Style, f: object, force: bool = False) -> None:
    """Write an amount in the style's unit: a number cell, a blank, or a text form of the number."""
    bad = style.bad_cell
    if bad is not None and (bad[0], bad[1]) == (row, col) and bad[2] == ws.name:
        if bad[3].startswith("="):
            ws.write_formula(row, col, bad[3], f, "NOVALUE")
        else:
            ws.write_string(row, col, bad[3], f)
        return
    if vnd == 0:
        z = 0 if force else style.zero_form(row, col)
        if z is None:
            ws.write_blank(row, col, None, f)
        elif isinstance(z, str):
            ws.write_string(row, col, z, f)
        else:
            ws.write_number(row, col, 0, f)
        return
    value = style.display(vnd)
    form = "number" if force else style.number_form(row, col)
    if form == "number":
        ws.write_number(row, col, value, f)
    else:
        ws.write_string(row, col, vn_number(vnd, style.unit, form), f)
