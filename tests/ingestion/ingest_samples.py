"""Small provincial workbooks and Treasury/plan CSVs written by the tests themselves.

`write_workbook` writes the canonical layout of docs/report-layout.md; keyword options switch on one
variant at a time so each test states exactly what differs from the canonical file.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from ntp_core.reference import components

MEASURES = ("Kế hoạch vốn giao", "Đã phân bổ chi tiết", "Lũy kế giải ngân từ đầu năm")
SOURCES = ("Tổng số", "NSTW", "NSĐP")


@dataclass
class Line:
    stt: str
    name: str
    key: str  # component_key, or TOTAL
    current: tuple[Decimal, ...]  # (plan NSTW, plan NSDP, alloc NSTW, alloc NSDP, disb NSTW, disb NSDP)
    carry: tuple[Decimal, ...] = (Decimal(0),) * 6


def _c(key: str):
    return next(c for c in components() if c.component_key == key)


def _sum(lines: list[Line], attr: str) -> tuple[Decimal, ...]:
    return tuple(sum((getattr(line, attr)[i] for line in lines), Decimal(0)) for i in range(6))


def default_lines() -> list[Line]:
    """TỔNG SỐ, three programs, a few children; amounts in triệu đồng with up to 3 decimals."""
    D = Decimal
    nd02 = Line(
        "2",
        _c("NTM.ND02").name_vi,
        "NTM.ND02",
        (D("1200.5"), D("300.25"), D("1100"), D("250.125"), D("150.333"), D("20")),
        (D("80"), D("20"), D("80"), D("20"), D("10.5"), D("0")),
    )
    da1 = Line("1", _c("GNBV.DA1").name_vi, "GNBV.DA1", (D("500"), D("100"), D("480"), D("90"), D("60.001"), D("5")))
    dtts1 = Line("1", _c("DTTS.DA1").name_vi, "DTTS.DA1", (D("900"), D("0"), D("850.75"), D("0"), D("99.999"), D("0")))
    ntm = Line("I", _c("NTM").name_vi, "NTM", nd02.current, nd02.carry)
    gnbv = Line("II", _c("GNBV").name_vi, "GNBV", da1.current, da1.carry)
    dtts = Line("III", _c("DTTS").name_vi, "DTTS", dtts1.current, dtts1.carry)
    body = [ntm, nd02, gnbv, da1, dtts, dtts1]
    top = [ntm, gnbv, dtts]
    total = Line("", "TỔNG SỐ", "TOTAL", _sum(top, "current"), _sum(top, "carry"))
    return [total, *body]


def rate(line: Line) -> Decimal:
    plan = line.current[0] + line.current[1]
    return (Decimal(0) if not plan else ((line.current[4] + line.current[5]) / plan * 100)).quantize(Decimal("0.01"))


def vn_text(value: Decimal) -> str:
    """`1.234.567,5`: Vietnamese thousands and decimal separators."""
    sign = "-" if value < 0 else ""
    q = abs(value).normalize()
    whole, _, frac = f"{q:f}".partition(".")
    groups = f"{int(whole):,}".replace(",", ".")
    return sign + groups + ("," + frac if frac else "")


@dataclass
class Variant:
    province_title: str = "UBND TỈNH ĐIỆN BIÊN"
    period_line: str = "Tháng 3 năm 2024 (Số liệu đến hết ngày 31/3/2024)"
    unit_line: str = "Đơn vị tính: triệu đồng"
    footer_date: str | None = "Điện Biên, ngày 05 tháng 4 năm 2024"
    replaces: str | None = None  # appended to the period line
    extra_title_rows: int = 0  # blank/other rows inserted before the header
    header_labels: dict[str, str] = field(default_factory=dict)  # canonical label -> label written
    merged_header: bool = True
    with_code: bool = True
    with_total_source: bool = True  # write the `Tổng số` source columns
    with_carryover: bool = True
    numbers_as_text: bool = False  # `1.234,5` text cells
    nfd: bool = False  # every text cell in NFD
    blank_row_after: int | None = None  # index in lines after which a blank row is inserted
    hidden_row_after: int | None = None  # ... a hidden empty row
    trailing_empty_cols: int = 0
    unit_factor: Decimal = Decimal(1)  # amounts written = triệu amounts * factor
    cell_override: dict[tuple[int, int], object] = field(default_factory=dict)  # (line idx, value col idx)
    label_override: dict[int, str] = field(default_factory=dict)  # line idx -> Nội dung text
    sheets: tuple[str, ...] = ("Biểu 01a", "Biểu 01b")


def _t(text: str, v: Variant) -> str:
    return unicodedata.normalize("NFD", text) if v.nfd else text


def write_workbook(
    path: str | Path,
    variant: Variant | None = None,
    lines: list[Line] | None = None,
    post: Callable[[Path], None] | None = None,
) -> Path:
    v = variant or Variant()
    lines = lines if lines is not None else default_lines()
    path = Path(path)
    wb = xlsxwriter.Workbook(str(path))
    merge_fmt = wb.add_format({"bold": True, "align": "center", "text_wrap": True})
    for sheet_name in v.sheets:
        ws = wb.add_worksheet(sheet_name)
        capital = "VỐN ĐẦU TƯ PHÁT TRIỂN" if sheet_name.endswith("a") else "VỐN SỰ NGHIỆP"
        period = v.period_line + (f" {v.replaces}" if v.replaces else "")
        title = [
            v.province_title,
            "SỞ TÀI CHÍNH",
            "BÁO CÁO TÌNH HÌNH PHÂN BỔ, GIẢI NGÂN VỐN CÁC CHƯƠNG TRÌNH MỤC TIÊU QUỐC GIA",
            capital,
            period,
            v.unit_line,
        ]
        r = 0
        for text in title:
            if text:
                ws.write_string(r, 0, _t(text, v))
            r += 1
        r += 1 + v.extra_title_rows
        r0 = r
        hl = v.header_labels
        lab = lambda s, hl=hl: _t(hl.get(s, s), v)  # noqa: E731
        sources = SOURCES if v.with_total_source else SOURCES[1:]
        blocks = [("Kế hoạch năm 2024", "current")] + (
            [("Kế hoạch các năm trước chuyển sang", "carry")] if v.with_carryover else []
        )
        lead = ["STT", "Nội dung"] + (["Mã"] if v.with_code else [])
        col = 0
        for text in lead:
            if v.merged_header:
                ws.merge_range(r0, col, r0 + 2, col, lab(text), merge_fmt)
            else:
                ws.write_string(r0, col, lab(text))
            col += 1
        data_cols: list[tuple[str, int, str]] = []  # (block, measure idx, source)
        for btext, bkey in blocks:
            width = 3 * len(sources)
            if v.merged_header:
                ws.merge_range(r0, col, r0, col + width - 1, lab(btext), merge_fmt)
            else:
                ws.write_string(r0, col, lab(btext))
            for mi, mtext in enumerate(MEASURES):
                mcol = col + mi * len(sources)
                if v.merged_header:
                    ws.merge_range(r0 + 1, mcol, r0 + 1, mcol + len(sources) - 1, lab(mtext), merge_fmt)
                else:
                    ws.write_string(r0 + 1, mcol, lab(mtext))
                for si, stext in enumerate(sources):
                    ws.write_string(r0 + 2, mcol + si, lab(stext))
                    data_cols.append((bkey, mi, stext))
            col += width
        rate_col = col
        for text in ("Tỷ lệ giải ngân (%)", "Ghi chú"):
            if v.merged_header:
                ws.merge_range(r0, col, r0 + 2, col, lab(text), merge_fmt)
            else:
                ws.write_string(r0, col, lab(text))
            col += 1
        for extra in range(v.trailing_empty_cols):
            ws.write_blank(r0 + 3, col + extra, None)
        r = r0 + 3
        for i, line in enumerate(lines):
            ws.write_string(r, 0, line.stt)
            ws.write_string(r, 1, _t(v.label_override.get(i, line.name), v))
            if v.with_code:
                ws.write_string(r, 2, "" if line.key == "TOTAL" else line.key)
            for j, (bkey, mi, stext) in enumerate(data_cols):
                vals = line.current if bkey == "current" else line.carry
                if stext == "Tổng số":
                    x = vals[2 * mi] + vals[2 * mi + 1]
                else:
                    x = vals[2 * mi + (0 if stext == "NSTW" else 1)]
                x = x * v.unit_factor
                cell = v.cell_override.get((i, j), x)
                c = len(lead) + j
                if isinstance(cell, str):
                    ws.write_string(r, c, cell)
                elif cell is None:
                    pass
                elif v.numbers_as_text:
                    ws.write_string(r, c, vn_text(Decimal(cell)))
                else:
                    ws.write_number(r, c, float(cell))
            ws.write_number(r, rate_col, float(rate(line)))
            r += 1
            if v.blank_row_after == i:
                r += 1
            if v.hidden_row_after == i:
                ws.set_row(r, None, None, {"hidden": True})
                r += 1
        r += 1
        if v.footer_date:
            ws.write_string(r, 10, _t(v.footer_date, v))
        ws.write_string(r + 1, 2, "Người lập biểu")
        ws.write_string(r + 1, 12, "KT. CHỦ TỊCH")
        ws.write_string(r + 4, 12, "Nguyễn Văn A")
    wb.close()
    if post:
        post(path)
    return path


def first_data_row(variant: Variant | None = None) -> int:
    """1-based worksheet row of the TỔNG SỐ line."""
    v = variant or Variant()
    return 8 + v.extra_title_rows + 3


def drop_cached_value(sheet_index: int, cell: str) -> Callable[[Path], None]:
    """A post-processor that turns `cell` of a sheet into a formula saved without its cached value."""

    def post(path: Path) -> None:
        member = f"xl/worksheets/sheet{sheet_index + 1}.xml"
        tmp = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename == member:
                    xml = data.decode()
                    xml, n = re.subn(
                        rf'<c r="{cell}"([^>]*?)(?:/>|>.*?</c>)',
                        rf'<c r="{cell}"\1><f>SUM(A1:A2)</f></c>',
                        xml,
                        count=1,
                    )
                    assert n == 1, cell
                    data = xml.encode()
                dst.writestr(info, data)
        shutil.move(tmp, path)

    return post


TREASURY_HEADER = (
    "ky_bao_cao,ma_kbnn,ma_tinh,ma_ctmt,nguon_von,loai_von,nam_kh,ma_dvqhns,ten_dvqhns,"
    "du_toan_giao,thanh_toan_trong_ky,luy_ke_thanh_toan"
)


def treasury_rows(period: str = "202403", province: str = "11", n: int = 6) -> list[list[str]]:
    codes = [("92010", "DTPT"), ("91002", "DTPT"), ("93010", "SN"), ("92031", "SN")]
    rows = []
    for i in range(n):
        code, loai = codes[i % len(codes)]
        rows.append(
            [
                period,
                "1101",
                province,
                code,
                "NSTW" if i % 2 == 0 else "NSDP",
                loai,
                "2024" if i % 3 else "2023",
                f"{7000000 + i}",
                f"Ban quản lý dự án huyện Mường Nhé {i}",
                str(1_000_000_000 + i * 1000),
                str(-5_000_000 if i == 1 else 20_000_000 + i),
                str(100_000_000 + i),
            ]
        )
    return rows


def write_csv(
    path: str | Path,
    header: str,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    trailer: list[str] | None = None,
    quote_all: bool = False,
) -> Path:
    path = Path(path)

    def q(x: str) -> str:
        return f'"{x}"' if quote_all or delimiter in x or '"' in x else x

    text = header.replace(",", delimiter) + "\n"
    text += "".join(delimiter.join(q(x) for x in row) + "\n" for row in rows)
    if trailer:
        text += delimiter.join(q(x) for x in trailer) + "\n"
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


PLAN_HEADER = "nam_kh,ma_tinh,ma_ctmt,nguon_von,loai_von,ke_hoach_giao"


def plan_rows(year: str = "2024", province: str = "11") -> list[list[str]]:
    return [
        [year, province, "92010", "NSTW", "DTPT", "500000000000"],
        [year, province, "92010", "NSDP", "DTPT", "100000000000"],
        [year, province, "91002", "NSTW", "SN", "1200500000000"],
    ]


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as legacy Vietnamese software writes it: base letter (with ^, ˘ or horn) + tone mark."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)
