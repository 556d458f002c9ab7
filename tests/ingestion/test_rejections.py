"""Files that must be rejected are quarantined with a precise code and location; nothing is loaded."""

from __future__ import annotations

import json
import zipfile
from datetime import date

import pytest
from ingest_samples import (
    TREASURY_HEADER,
    Variant,
    default_lines,
    drop_cached_value,
    first_data_row,
    treasury_rows,
    write_csv,
    write_workbook,
)

ROW = first_data_row()  # TỔNG SỐ line; programme NTM is ROW + 1, NTM.ND02 ROW + 2


def _encrypted(path):
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 2048
    )


def _xls(path):
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)


def _truncated(path):
    write_workbook(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip_bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\x00" * (1 << 24)
            for _ in range(13):  # 208 MiB of zeros
                f.write(chunk)


def _other_workbook(path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Sheet1").write("A1", "Danh sách cán bộ")
    wb.close()


def _zip_not_xlsx(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")


CASES = {
    # name: (builder, code, sheet, row, column)
    "empty_file": (lambda p: p.write_bytes(b""), "empty_file", None, None, None),
    "not_a_workbook": (
        lambda p: p.write_bytes(b"%PDF-1.4 binary \x00\x01"),
        "not_a_workbook",
        None,
        None,
        None,
    ),
    "truncated_xlsx": (_truncated, "corrupt_workbook", None, None, None),
    "zip_not_xlsx": (_zip_not_xlsx, "not_a_workbook", None, None, None),
    "old_xls": (_xls, "not_a_workbook", None, None, None),
    "encrypted": (_encrypted, "encrypted", None, None, None),
    "zip_bomb": (_zip_bomb, "too_large", None, None, None),
    "unknown_province": (
        lambda p: write_workbook(p, Variant(province_title="UBND TỈNH ATLANTIS")),
        "unknown_province",
        "Biểu 01a",
        1,
        None,
    ),
    "old_province_after_merger": (
        lambda p: write_workbook(p, Variant(province_title="UBND TỈNH HÀ GIANG", period_line="Tháng 8 năm 2025")),
        "unknown_province",
        "Biểu 01a",
        None,
        None,
    ),
    "no_period": (
        lambda p: write_workbook(p, Variant(period_line="Báo cáo định kỳ")),
        "unknown_period",
        "Biểu 01a",
        None,
        None,
    ),
    "month_13": (
        lambda p: write_workbook(p, Variant(period_line="Tháng 13 năm 2024")),
        "unknown_period",
        "Biểu 01a",
        5,
        "A",
    ),
    "future_period": (
        lambda p: write_workbook(p, Variant(period_line="Tháng 3 năm 2031")),
        "future_period",
        "Biểu 01a",
        None,
        None,
    ),
    "unknown_unit": (
        lambda p: write_workbook(p, Variant(unit_line="Đơn vị tính: nghìn USD")),
        "unknown_unit",
        "Biểu 01a",
        6,
        "A",
    ),
    "missing_columns": (
        lambda p: write_workbook(p, Variant(header_labels={"NSĐP": "Khác"})),
        "missing_columns",
        "Biểu 01a",
        8,
        None,
    ),
    "no_data_sheet": (_other_workbook, "missing_sheets", None, None, None),
    "unparseable_number": (
        lambda p: write_workbook(p, Variant(cell_override={(2, 4): "12,3,4"})),
        "unparseable_number",
        "Biểu 01a",
        ROW + 2,
        "H",
    ),
    "text_in_amount": (
        lambda p: write_workbook(p, Variant(cell_override={(3, 1): "chưa có số liệu"})),
        "unparseable_number",
        "Biểu 01a",
        ROW + 3,
        "E",
    ),
    "unknown_component": (
        lambda p: write_workbook(p, Variant(label_override={4: "Dự án 99: Không có trong danh mục"}, with_code=False)),
        "unknown_component",
        "Biểu 01a",
        ROW + 4,
        "B",
    ),
    "unknown_component_code": (
        lambda p: write_workbook(p, Variant(label_override={2: "Nội dung lạ"}), lines=_with_code("NTM.ND99")),
        "unknown_component",
        "Biểu 01a",
        ROW + 2,
        "C",
    ),
    "formula_without_value": (
        lambda p: write_workbook(p, post=drop_cached_value(1, f"K{ROW + 3}")),
        "formula_without_value",
        "Biểu 01b",
        ROW + 3,
        "K",
    ),
}


def _with_code(code: str):
    lines = default_lines()
    lines[2].key = code
    return lines


@pytest.mark.parametrize("name", sorted(CASES))
def test_rejected_workbook_is_quarantined_precisely(name, ingest, db, tmp_path, settings):
    build, code, sheet, row, column = CASES[name]
    path = tmp_path / f"{name}.xlsx"
    build(path)
    res = ingest(path)
    assert (res.status, res.error_code) == ("quarantined", code), res.error_message
    got = db("select status, error_code, error_sheet, error_row, error_column from audit.files")
    assert got[0][0:2] == ("quarantined", code)
    if sheet:
        assert got[0][2] == sheet
    if row:
        assert got[0][3] == row
    if column:
        assert got[0][4] == column
    assert path.name in res.error_message
    assert db("select count(*) from raw.province_report_cells") == [(0,)]
    reports = list(settings.quarantine_dir.rglob("*.error.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert (report["code"], report["file"], report["sheet"], report["row"], report["column"]) == (
        code,
        path.name,
        got[0][2],
        got[0][3],
        got[0][4],
    )


def test_quarantine_folder_is_the_month_when_it_could_be_read(ingest, db, tmp_path, settings):
    path = write_workbook(tmp_path / "x.xlsx", Variant(cell_override={(2, 4): "abc"}))
    res = ingest(path)
    assert (res.period, res.province_code) == ("2024-03", "11")
    assert (settings.quarantine_dir / "2024-03" / "x.xlsx.error.json").exists()
    assert db("select period, province_code from audit.files") == [(date(2024, 3, 1), "11")]


def test_path_like_name_stays_inside_the_quarantine(ingest, tmp_path, settings):
    weird = tmp_path / "..%2F..%2Fetc passwd;.xlsx"
    weird.write_bytes(b"garbage")
    res = ingest(weird)
    assert res.status == "quarantined"
    files = [p for p in settings.quarantine_dir.rglob("*") if p.is_file()]
    assert files and all(settings.quarantine_dir in p.parents for p in files)


def test_other_files_of_the_month_still_load(clean_warehouse, db, tmp_path, settings):
    from ingestion.load import ingest_files

    good = write_workbook(tmp_path / "a.xlsx")
    bad = write_workbook(tmp_path / "b.xlsx", Variant(province_title="UBND TỈNH LAI CHÂU", cell_override={(1, 0): "x"}))
    kbnn = write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows())
    res = ingest_files(
        [good, bad, kbnn],
        warehouse_url=clean_warehouse,
        run_period=date(2024, 3, 1),
        settings=settings,
        workers=2,
    )
    assert [r.status for r in res] == ["loaded", "quarantined", "loaded"]
    assert db("select count(distinct file_id) from raw.province_report_cells") == [(1,)]
    assert db("select count(*) from raw.treasury_lines") == [(len(treasury_rows()),)]


def test_one_worker_reads_ahead_and_each_file_keeps_its_own_outcome(clean_warehouse, db, tmp_path, settings):
    """With one worker the next file is archived and parsed while the current one loads. Each outcome is
    still the file's own, in order: the same bytes again under another name are a duplicate, a bad
    workbook between good files is quarantined and its bytes again are its duplicate. A workbook the
    archive already holds but the warehouse does not know (a load lost after archiving) still loads."""
    from ingestion.load import ingest_files

    good = write_workbook(tmp_path / "a.xlsx")
    again = tmp_path / "a_resent.xlsx"
    again.write_bytes(good.read_bytes())
    bad = write_workbook(tmp_path / "b.xlsx", Variant(province_title="UBND TỈNH LAI CHÂU", cell_override={(1, 0): "x"}))
    bad_again = tmp_path / "b_resent.xlsx"
    bad_again.write_bytes(bad.read_bytes())
    kbnn = write_csv(tmp_path / "k.csv", TREASURY_HEADER, treasury_rows())
    paths = [good, bad, again, kbnn, bad_again]

    def run(files):
        return ingest_files(
            files, warehouse_url=clean_warehouse, run_period=date(2024, 3, 1), settings=settings, workers=1
        )

    res = run(paths)
    assert [(r.path, r.status) for r in res] == [
        (str(good), "loaded"),
        (str(bad), "quarantined"),
        (str(again), "duplicate"),
        (str(kbnn), "loaded"),
        (str(bad_again), "duplicate"),
    ]
    assert (res[2].file_id, res[4].file_id) == (res[0].file_id, res[1].file_id)
    assert db("select count(*) from audit.files") == [(3,)]
    assert db("select count(*) from raw.treasury_lines") == [(len(treasury_rows()),)]
    cells = db("select count(*) from raw.province_report_cells where file_id = %s", (res[0].file_id,))[0][0]
    assert cells == res[0].row_count > 0

    db("truncate raw.province_report_cells, raw.treasury_lines, audit.files restart identity cascade")
    assert [r.status for r in run([again])] == ["loaded"]
    assert db("select count(*) from raw.province_report_cells") == [(cells,)]


def test_binary_csv_and_unsafe_names(ingest, tmp_path):
    binary = tmp_path / "kbnn.csv"
    binary.write_bytes(b"\x00\x01\x02 not text")
    assert ingest(binary).error_code == "not_a_csv"
    unsafe = tmp_path / "..\\..\\windows\\report.xlsx"
    write_workbook(unsafe)
    assert ingest(unsafe).error_code == "unsafe_file_name"
