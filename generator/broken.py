"""Deliberately malformed files (`--broken`), each with the error the loader must report.

They are extra files in the first generated month's folder; the real reports of that month are all
delivered too, so a broken file never causes NTP-C01. Each one is listed in broken_files.csv and in the
ground truth (NTP-F01, or NTP-C02 for an unknown province or component).
"""

from __future__ import annotations

import copy
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from generator.layout import members
from generator.messy import Style
from generator.model import build_year
from generator.report import ProvinceReport, assemble
from generator.tables import TRUTH_HEADER
from generator.treasury import HEADER
from generator.workbook import decimals_for, report_date, write_workbook
from ntp_core import reference
from ntp_core.reference import Province

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
BOMB_BYTES = 160 * 1024 * 1024  # uncompressed sheet XML; compresses to well under 1 MB
UNDER_DECLARED_BYTES = 8 * 1024 * 1024  # the real size of a member whose headers declare a few KB


def _fixed_zip(path: Path, entries: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, zipfile.ZIP_DEFLATED)


def _drop_cached_value(path: Path, cell: str) -> None:
    """Remove the <v> of a formula cell: a formula without a cached value (xlsxwriter always writes one)."""
    with zipfile.ZipFile(path) as zf:
        entries = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    out = []
    for name, data in entries:
        if name == "xl/worksheets/sheet1.xml":
            text = data.decode("utf-8")
            text = re.sub(rf'(<c r="{cell}"[^>]*?) t="str"([^>]*><f>[^<]*</f>)<v>[^<]*</v>', r"\1\2", text)
            data = text.encode("utf-8")
        out.append((name, data))
    _fixed_zip(path, out)


def _zip_bomb(path: Path, template: Path) -> None:
    with zipfile.ZipFile(template) as zf:
        entries = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name != "xl/worksheets/sheet1.xml":
                zf.writestr(info, data)
                continue
            head, _, tail = data.decode("utf-8").partition("<sheetData>")
            with zf.open(info, "w", force_zip64=True) as w:
                w.write((head + "<sheetData>").encode())
                chunk = b" " * (1 << 20)
                for _ in range(BOMB_BYTES >> 20):
                    w.write(chunk)
                w.write(tail.encode())


def _sparse_bomb(path: Path, template: Path) -> None:
    """A few kilobytes: the first sheet gets one more cell at XFD1048576 (and says so in its dimension), so a
    reader that allocates the dense grid would need rows × columns ≈ 17 billion cells."""
    with zipfile.ZipFile(template) as zf:
        entries = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    out = []
    for name, data in entries:
        if name == "xl/worksheets/sheet1.xml":
            text = re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="A1:XFD1048576"/>', data.decode("utf-8"))
            text = text.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
            data = text.encode("utf-8")
        out.append((name, data))
    _fixed_zip(path, out)


def _under_declared(path: Path, template: Path, real_bytes: int) -> None:
    """The first sheet padded to `real_bytes` of XML whose local and central zip headers declare only its
    first few kilobytes, with the CRC of those: a reader trusting the headers sees a small, valid member."""
    with zipfile.ZipFile(template) as zf:
        entries = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    member = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name != member:
                zf.writestr(info, data)
                continue
            head, _, tail = data.decode("utf-8").partition("<sheetData>")
            prefix = (head + "<sheetData>").encode()
            with zf.open(info, "w") as w:
                w.write(prefix)
                pad = real_bytes - len(prefix) - len(tail.encode())
                chunk = b" " * (1 << 20)
                while pad > 0:
                    w.write(chunk[: min(pad, len(chunk))])
                    pad -= len(chunk)
                w.write(tail.encode())
    declared = len(prefix) + 4096
    crc = zlib.crc32((prefix + b" " * 4096)[:declared])
    raw = bytearray(path.read_bytes())
    pos = raw.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", raw, pos + 28)[0]
        if raw[pos + 46 : pos + 46 + name_len] == member.encode():
            struct.pack_into("<I", raw, pos + 16, crc)
            struct.pack_into("<I", raw, pos + 24, declared)
            local = struct.unpack_from("<I", raw, pos + 42)[0]
            struct.pack_into("<I", raw, local + 14, crc)
            struct.pack_into("<I", raw, local + 22, declared)
        pos = raw.find(b"PK\x01\x02", pos + 46)
    path.write_bytes(bytes(raw))


def write_broken(out: Path, months: list[date], seed: int, result) -> list[dict[str, str]]:
    """Write the corpus into the first month's folder; return broken_files.csv rows (truth rows appended)."""
    d = months[0]
    folder = out / d.strftime("%Y-%m")
    folder.mkdir(parents=True, exist_ok=True)
    label = d.strftime("%Y-%m")
    base = _template_report(result, d)
    code = base.province.province_code
    tag = d.strftime("%Y%m")
    rows: list[dict[str, str]] = []

    def add(
        name: str,
        err: str,
        writer: Callable[[Path], object],
        desc: str,
        sheet: str = "",
        row: str = "",
        col: str = "",
        rule: str = "NTP-F01",
        province: str = "",
    ) -> None:
        path = folder / name
        writer(path)
        ts = datetime(d.year, d.month, 28, 12, 0, tzinfo=UTC).timestamp()
        os.utime(path, (ts, ts))
        result.files.append(path)
        rows.append(
            {
                "file": f"{label}/{name}",
                "expected_error_code": err,
                "expected_sheet": sheet,
                "expected_row": row,
                "expected_column": col,
                "description": desc,
            }
        )
        truth = dict.fromkeys(TRUTH_HEADER, "")
        truth.update(rule_id=rule, period=label, province_code=province, file=f"{label}/{name}", note=f"{err}: {desc}")
        result.ground_truth.append(truth)

    def wb(style: Style | None = None, rep: ProvinceReport | None = None) -> Callable[[Path], None]:
        return lambda p: write_workbook(p, rep or base, style)

    good = folder / f"_tmp_good_{tag}.xlsx"
    write_workbook(good, base)
    data = good.read_bytes()
    add(
        f"BC_NTP_{code}_cat_ngan_{tag}.xlsx",
        "corrupt_workbook",
        lambda p: p.write_bytes(data[: len(data) // 2]),
        "xlsx truncated to half its bytes (broken zip)",
    )
    add(
        f"BC_NTP_{code}_khong_phai_excel_{tag}.xlsx",
        "not_a_workbook",
        lambda p: p.write_bytes("Báo cáo giải ngân tháng\nxem file đính kèm\n".encode()),
        "plain text renamed .xlsx (not a zip)",
    )
    add(
        f"BC_NTP_{code}_html_{tag}.xls",
        "not_a_workbook",
        lambda p: p.write_bytes(b"<html><body><table><tr><td>STT</td></tr></table></body></html>"),
        "an HTML table saved as .xls",
    )
    add(
        f"BC_NTP_{code}_bom_nen_{tag}.xlsx",
        "too_large",
        lambda p: _zip_bomb(p, good),
        f"zip bomb: sheet XML expands to {BOMB_BYTES >> 20} MiB",
        sheet="Biểu 01a",
    )
    add(
        f"BC_NTP_{code}_o_xa_{tag}.xlsx",
        "too_large",
        lambda p: _sparse_bomb(p, good),
        "a few KB: cells in A1 and XFD1048576 (a dense grid of 17 billion cells)",
        sheet="Biểu 01a",
        row="1048576",
        col="XFD",
    )
    add(
        f"BC_NTP_{code}_khai_thieu_{tag}.xlsx",
        "too_large",
        lambda p: _under_declared(p, good, UNDER_DECLARED_BYTES),
        f"zip headers declare the sheet XML a few KB; it inflates to {UNDER_DECLARED_BYTES >> 20} MiB",
        sheet="Biểu 01a",
    )
    add(f"BC_NTP_{code}_rong_{tag}.xlsx", "empty_file", lambda p: p.write_bytes(b""), "0-byte workbook")
    add(f"KBNN_{code}_rong_{tag}.csv", "empty_file", lambda p: p.write_bytes(b""), "0-byte Treasury extract")
    add(
        f"BC_NTP_{code}_thieu_cot_{tag}.xlsx",
        "missing_columns",
        wb(Style(labels={"disb": "Số liệu khác"})),
        "column group 'Lũy kế giải ngân từ đầu năm' missing (renamed)",
        sheet="Biểu 01a",
        row="9",
        province=code,
    )
    unknown = copy.deepcopy(base)
    unknown.province = Province("99", "Tỉnh Hà Tây", "ha_tay", None, None)
    add(
        f"BC_NTP_99_ha_tay_{tag}.xlsx",
        "unknown_province",
        wb(rep=unknown),
        "title names 'UBND TỈNH HÀ TÂY', which is not a province",
        sheet="Biểu 01a",
        row="1",
        col="A",
        rule="NTP-C02",
    )
    comp = copy.deepcopy(base)
    sh = comp.sheets["SN"]
    sh.unknown_rows.append((sh.layout.row_of("GNBV.DA3.TDA2"), "3.9", "Dự án 3.9: Hỗ trợ mô hình chưa có"))
    add(
        f"BC_NTP_{code}_hang_la_{tag}.xlsx",
        "unknown_component",
        wb(rep=comp),
        "a line named 'Dự án 3.9: Hỗ trợ mô hình chưa có' on Biểu 01b",
        sheet="Biểu 01b",
        col="B",
        rule="NTP-C02",
        province=code,
    )
    add(
        f"BC_NTP_{code}_so_loi_{tag}.xlsx",
        "unparseable_number",
        wb(Style(bad_cell=(11, 4, "Biểu 01a", "1.234,5,6 tr"))),
        "amount cell '1.234,5,6 tr'",
        sheet="Biểu 01a",
        row="12",
        col="E",
        province=code,
    )

    def no_cache(p: Path) -> None:
        write_workbook(p, base, Style(bad_cell=(11, 3, "Biểu 01a", "=E12+F12")))
        _drop_cached_value(p, "D12")

    add(
        f"BC_NTP_{code}_cong_thuc_{tag}.xlsx",
        "formula_without_value",
        no_cache,
        "formula =E12+F12 with no cached value",
        sheet="Biểu 01a",
        row="12",
        col="D",
        province=code,
    )
    add(
        f"BC_NTP_{code}_khong_ky_{tag}.xlsx",
        "unknown_period",
        wb(Style(period_line=False)),
        "no period line",
        sheet="Biểu 01a",
        province=code,
    )
    future = copy.deepcopy(base)
    future.period = date(2099, 3, 1)
    add(
        f"BC_NTP_{code}_tuong_lai_{tag}.xlsx",
        "future_period",
        wb(rep=future),
        "period line says March 2099",
        sheet="Biểu 01a",
        row="5",
        col="A",
        province=code,
    )
    add(
        f"BC_NTP_{code}_don_vi_{tag}.xlsx",
        "unknown_unit",
        wb(Style(unit_line="Đơn vị tính: nghìn đồng")),
        "unit 'nghìn đồng' is not triệu / đồng / tỷ",
        sheet="Biểu 01a",
        row="6",
        col="A",
        province=code,
    )
    # Its own content (one day later in the footer): a byte copy of the good report would simply be
    # recognised as a re-delivery of it.
    traversal = copy.deepcopy(base)
    traversal.report_date = date.fromordinal(base.report_date.toordinal() + 1)
    add(
        f"..\\..\\BC_NTP_{code}_{tag}.xlsx",
        "unsafe_file_name",
        wb(rep=traversal),
        "file name with a path traversal (backslashes)",
        province=code,
    )
    # Treasury extracts
    line = [
        tag,
        f"{int(code) * 100 + 11:04d}",
        code,
        "91002",
        "NSTW",
        "DTPT",
        str(d.year),
        f"1{code}0001",
        "Ban Quản lý dự án huyện",
        "1000000000",
        "100000000",
        "100000000",
    ]

    def csv_file(header: list[str], lines: list[list[str]], sep: str = ",") -> Callable[[Path], object]:
        text = sep.join(header) + "\n" + "".join(sep.join(r) + "\n" for r in lines)
        return lambda p: p.write_bytes(text.encode("utf-8"))

    hdr = list(HEADER)
    add(
        f"KBNN_{code}_sai_cot_{tag}.csv",
        "bad_csv_header",
        csv_file(hdr[:-1], [line[:-1]]),
        "column luy_ke_thanh_toan missing",
        row="1",
        province=code,
    )
    add(
        f"KBNN_{code}_tab_{tag}.csv",
        "bad_csv_header",
        csv_file(hdr, [line], "\t"),
        "tab-separated (no recognised separator)",
        row="1",
    )
    add(
        f"KBNN_99_{tag}.csv",
        "unknown_province",
        csv_file(hdr, [[*line[:2], "99", *line[3:]]]),
        "ma_tinh 99 is not a province",
        row="2",
        col="ma_tinh",
        rule="NTP-C02",
    )
    add(
        f"KBNN_{code}_so_loi_{tag}.csv",
        "unparseable_number",
        csv_file(hdr, [[*line[:9], "1tỷ2", *line[10:]]]),
        "du_toan_giao '1tỷ2'",
        row="2",
        col="du_toan_giao",
        province=code,
    )
    add(
        f"KBNN_{code}_tuong_lai_{tag}.csv",
        "future_period",
        csv_file(hdr, [["209903", *line[1:]]]),
        "ky_bao_cao 209903",
        row="2",
        col="ky_bao_cao",
        province=code,
    )
    add(
        f"KBNN_{code}_qua_lon_{tag}.csv",
        "absurd_amount",
        csv_file(hdr, [[*line[:9], "900000000000000000", *line[10:]]]),
        "du_toan_giao 9e17 VND (more than the national budget)",
        row="2",
        col="du_toan_giao",
        province=code,
    )
    add(
        f"KBNN_{code}_am_{tag}.csv",
        "negative_amount",
        csv_file(hdr, [[*line[:9], "-1000000000", *line[10:]]]),
        "negative du_toan_giao",
        row="2",
        col="du_toan_giao",
        province=code,
    )
    add(
        f"KBNN_{code}_ky_loi_{tag}.csv",
        "unknown_period",
        csv_file(hdr, [["2024-13", *line[1:]]]),
        "ky_bao_cao '2024-13'",
        row="2",
        col="ky_bao_cao",
        province=code,
    )
    add(
        f"KHV_giao_sai_cot_{d.year}.csv",
        "bad_csv_header",
        csv_file(["nam", "tinh", "ctmt", "von"], [[str(d.year), code, "91002", "1000"]]),
        "plan-assignment file with unknown columns",
        row="1",
    )
    add(
        f"KBNN_{code}_nhi_phan_{tag}.csv",
        "not_a_csv",
        lambda p: p.write_bytes(bytes(range(256)) * 8),
        "binary content named .csv",
    )
    good.unlink()
    return rows


def _template_report(result, d: date) -> ProvinceReport:
    """A fresh canonical report for the first province of the month, to derive broken variants from."""
    provs = reference.provinces_for(d)
    written = sorted(
        p.name.split("_")[2]
        for p in result.files
        if p.name.startswith("BC_NTP_") and p.parent.name == d.strftime("%Y-%m")
    )
    prov: Province = next((p for p in provs if written and p.province_code == written[0]), provs[10])

    fig = build_year(0, d.year, tuple(members(prov.province_code, d)))
    rep = assemble(
        fig.province,
        prov.province_code,
        d,
        report_date(0, d, prov.province_code),
        decimals_for(0, d.year, prov.province_code),
        prov,
    )
    rep.file_name = "template.xlsx"
    return rep
