"""Test support for the reliability suite: private warehouses, checksums of the marts, bad inputs."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import psycopg

TREASURY_HEADER = (
    "ky_bao_cao,ma_kbnn,ma_tinh,ma_ctmt,nguon_von,loai_von,nam_kh,ma_dvqhns,ten_dvqhns,"
    "du_toan_giao,luy_ke_thanh_toan,thanh_toan_trong_ky"
)
RAW_TABLES = (
    "raw.province_report_cells",
    "raw.treasury_lines",
    "raw.plan_assignments",
    "audit.files",
    "audit.rejected_lines",
)


def private_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a child process bound to its own NTP_DATA_DIR (and so its own embedded server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "WAREHOUSE_URL", "NTP_", "AIRFLOW"))}
    env.update(NTP_DATA_DIR=str(data_dir), DBT_SEND_ANONYMOUS_USAGE_STATS="False", **extra)
    return env


def start_private_server(data_dir: Path):
    """A second embedded PostgreSQL under `data_dir/warehouse`, schema created; the caller stops it."""
    from ntp_core import warehouse

    server = warehouse.EmbeddedServer(data_dir / "warehouse")
    server.start()
    warehouse.bootstrap(server.url())
    return server


def query(url: str, sql: str, params: tuple | None = None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def marts_checksums(url: str, *, by_content: bool = False, views: bool = False) -> dict[str, tuple[int, str]]:
    """{relation: (row count, md5 of all rows in a total order)} for every table of the `marts` schema (and
    every view with `views`). With `by_content` every `*file_id` column is replaced by that file's SHA-256:
    file ids are surrogate keys given in ingestion order (a rolled-back insert uses one up, mapped tasks run
    in any order), so two warehouses of the same files compare equal."""
    kinds = ("BASE TABLE", "VIEW") if views else ("BASE TABLE",)
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = any(%s) order by 1",
                (list(kinds),),
            )
        ]
        for table in tables:
            cols = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'marts' "
                    "and table_name = %s order by ordinal_position",
                    (table,),
                )
            ]
            exprs = [
                f'(select f.sha256 from audit.files f where f.file_id = t."{c}") as "{c}"'
                if by_content and c.endswith("file_id")
                else f't."{c}"'
                for c in cols
            ]
            count, digest = conn.execute(
                f"select count(*), md5(coalesce(string_agg(r::text, E'\\n' order by r::text), '')) "
                f'from (select {", ".join(exprs)} from marts."{table}" t) r'
            ).fetchone()
            out[table] = (count, digest)
    return out


def big_extract(path: Path, lines: int, province: str = "14", period: str = "202402") -> None:
    """A valid Treasury extract of one province (default Sơn La, 14) with `lines` distinct lines."""
    from ntp_core.reference import components

    codes = sorted({c.treasury_code for c in components() if c.treasury_code})
    year = int(period[:4])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(TREASURY_HEADER + "\n")
        for i in range(lines):
            f.write(
                f"{period},{province}11,{province},{codes[i % len(codes)]},{'NSTW' if i % 2 else 'NSDP'},"
                f"{'DTPT' if i % 3 else 'SN'},{year - i % 3},{1_000_000 + i},"
                f"Ban Quản lý dự án số {i % 97},"
                f"{1_000_000 + i * 7},{500_000 + i * 3},{i % 1000}\n"
            )


def raw_fingerprint(url: str, *, with_ids: bool = True) -> dict[str, tuple[int, str]]:
    """Counts and checksums of the raw and audit tables; `with_ids=False` leaves out surrogate ids and
    load timestamps, so two warehouses that loaded the same files can be compared."""
    cols = {
        "raw.province_report_cells": "sheet, source_row, source_column, period, province_code, capital_type, "
        "stt, component_key, component_label, plan_block, measure, fund_source, "
        "value, value_as_reported",
        "raw.treasury_lines": "source_line, period, ky_bao_cao, ma_kbnn, ma_tinh, ma_ctmt, nguon_von, "
        "loai_von, nam_kh, ma_dvqhns, ten_dvqhns, du_toan_giao, luy_ke_thanh_toan, "
        "thanh_toan_trong_ky",
        "raw.plan_assignments": "source_line, nam_kh, ma_tinh, ma_ctmt, nguon_von, loai_von, ke_hoach_giao",
        "audit.files": "sha256, original_name, archive_path, size_bytes, kind, period, province_code, "
        "status, version, row_count, error_code, error_message, error_sheet, error_row, "
        "error_column",
        "audit.rejected_lines": "source_line, column_name, raw_value, error_code, message, period, province_code, line",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        out = {}
        for table in RAW_TABLES:
            select = "r" if with_ids else f"({cols[table]})"
            agg = f"md5(string_agg({select}::text, E'\\n' order by {select}::text))"
            out[table] = conn.execute(f"select count(*), coalesce({agg}, '') from (select * from {table}) r").fetchone()
    return out


# -- bad inputs written by the test suite, beyond the generator's corpus ---------------------------


def _line(period: str = "202402", province: str = "11", **over: str) -> list[str]:
    row = {
        "ky_bao_cao": period,
        "ma_kbnn": f"{int(province) * 100 + 11:04d}",
        "ma_tinh": province,
        "ma_ctmt": "91002",
        "nguon_von": "NSTW",
        "loai_von": "DTPT",
        "nam_kh": period[:4],
        "ma_dvqhns": f"1{province}0001",
        "ten_dvqhns": "Ban Quản lý dự án huyện",
        "du_toan_giao": "1000000000",
        "luy_ke_thanh_toan": "100000000",
        "thanh_toan_trong_ky": "100000000",
    }
    row.update(over)
    return list(row.values())


def _csv(*lines: list[str], sep: str = ",") -> bytes:
    return (TREASURY_HEADER.replace(",", sep) + "\n" + "".join(sep.join(r) + "\n" for r in lines)).encode()


def _encrypted_workbook() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE file with an EncryptionInfo stream."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    tail = b"\x00" * 2048 + "EncryptedPackage".encode("utf-16-le")
    return head + "EncryptionInfo".encode("utf-16-le") + tail


def _workbook_without_report_sheets() -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Sheet1")
    ws.write(0, 0, "Báo cáo tình hình giải ngân")
    ws.write(1, 0, "xem các biểu gửi kèm")
    wb.close()
    return buf.getvalue()


def _zip_without_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("bao_cao.docx.txt", "not a spreadsheet")
    return buf.getvalue()


#: (file name, content, expected error_code, expected row, expected column) — each a distinct bad input.
EXTRA_CASES: list[tuple[str, bytes, str, int | None, str | None]] = [
    (
        "KBNN_11_hang_loi_202402.csv",
        _csv(_line(ma_dvqhns="1110002"), _line(ma_dvqhns="1110003")[:-1]),
        "bad_csv_row",
        3,
        None,
    ),
    (
        "KBNN_11_nhieu_ky_202402.csv",
        _csv(_line(ma_dvqhns="1110004"), _line("202401", ma_dvqhns="1110005")),
        "mixed_periods",
        2,
        "ky_bao_cao",
    ),
    ("KBNN_11_nguon_loi_202402.csv", _csv(_line(nguon_von="XYZ", ma_dvqhns="1110006")), "invalid_code", 2, "nguon_von"),
    ("KBNN_11_loai_loi_202402.csv", _csv(_line(loai_von="DTXD", ma_dvqhns="1110007")), "invalid_code", 2, "loai_von"),
    (
        "KBNN_11_tong_sai_202402.csv",
        _csv(
            _line(ma_dvqhns="1110008"),
            _line(ma_dvqhns="1110009"),
            ["Tổng cộng", "", "", "", "", "", "", "", "", "3000000000", "200000000", "200000000"],
        ),
        "total_mismatch",
        4,
        "du_toan_giao",
    ),
    (
        "KBNN_11_ma_loi_202402.csv",
        _csv(_line(ma_dvqhns="1110010")).replace("Ban Quản lý".encode(), b"Ban Qu\x81\x8d\x9dn"),
        "bad_encoding",
        2,
        None,
    ),
    (
        "KBNN_11_tu_dong_loi_202402.csv",
        _csv(_line(du_toan_giao='"12,5"', ma_dvqhns="1110011")),
        "unparseable_number",
        2,
        "du_toan_giao",
    ),
    ("BC_NTP_11_mat_khau_202402.xlsx", _encrypted_workbook(), "encrypted", None, None),
    ("BC_NTP_11_khong_bieu_202402.xlsx", _workbook_without_report_sheets(), "missing_sheets", None, None),
    ("BC_NTP_11_zip_khac_202402.xlsx", _zip_without_workbook(), "not_a_workbook", None, None),
    ("-KBNN_11_202402.csv", _csv(_line(ma_dvqhns="1110012")), "unsafe_file_name", None, None),
    ("KBNN_11_%2e%2e%2f202402.csv", _csv(_line(ma_dvqhns="1110013")), "unsafe_file_name", None, None),
    ("C:\\Users\\ke_toan\\KBNN_11_202402.csv", _csv(_line(ma_dvqhns="1110014")), "unsafe_file_name", None, None),
    ("KBNN_11\nfake_202402.csv", _csv(_line(ma_dvqhns="1110015")), "unsafe_file_name", None, None),
]


def write_extra_cases(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data, *_ in EXTRA_CASES:
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths
