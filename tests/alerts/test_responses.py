"""A province returns its findings workbook through the inbox: recognised by content, archived, checked row by
row against the open findings, stored with lineage, and exactly the answered findings become `explained`;
malformed returns are quarantined with a precise message; the next alert shows the answers."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from test_alert import load_months

ANSWER = "KBNN chưa nhập điều chỉnh <script>x</script>"


@pytest.fixture(scope="module")
def built(scenario):
    return scenario(load_months)


def _workbook(code: str):
    from alerts.findings import fetch_findings
    from alerts.workbook import findings_xlsx

    rows = [f for f in fetch_findings("2024-05", province=code) if f["status"] != "resolved"]
    wb = openpyxl.load_workbook(io.BytesIO(findings_xlsx(rows, period="2024-05", province=code)))
    ws = wb["Phát hiện"]
    header = [c.value for c in ws[4]]
    return wb, ws, header, rows


def _ingest(path: Path, warehouse_url: str):
    from ingestion.load import ingest_file

    return ingest_file(path, warehouse_url=warehouse_url, run_period=date(2024, 6, 1))


def _statuses(conn) -> dict[str, tuple]:
    rows = conn.execute(
        "select finding_key, status, explanation, planned_action, response_file, response_row "
        "from marts.fct_findings where period = '2024-05-01'"
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_returned_workbook_explains_exactly_its_answers(built, warehouse_url, dbt, data_dir, tmp_path) -> None:
    before = _statuses(built)
    wb, ws, header, rows = _workbook("11")
    assert [r["rule_id"] for r in rows] == ["NTP-A01", "NTP-I02"]  # province 11 in May: the ND02 allocation
    col = {name: header.index(name) + 1 for name in header}
    ws.cell(5, col["Giải trình"], ANSWER)
    ws.cell(5, col["Hướng xử lý"], "Số liệu đúng")
    ws.cell(6, col["Hướng xử lý"], "Sẽ sửa số liệu")
    typed_over = ws.cell(6, col["Số của tỉnh (đồng)"]).value
    assert typed_over is not None
    ws.cell(6, col["Số của tỉnh (đồng)"], 1)  # a figure typed over: ignored, reported, the answer still taken
    last = 5 + len(rows)
    ws.cell(last, col["Mã phát hiện"], "deadbeef")
    ws.cell(last, col["Giải trình"], "an answer to nothing")
    ws.cell(7, col["Mã tỉnh"], "99")  # any other column is ignored
    path = tmp_path / "bao cao gui lai.xlsx"  # any name: recognised by content
    wb.save(path)

    result = _ingest(path, warehouse_url)
    assert (result.kind, result.status, result.row_count) == ("finding_response", "loaded", 2)
    first, second = rows[0]["finding_key"], rows[1]["finding_key"]
    shown = f"{int(typed_over):,}".replace(",", ".")
    assert f"row {last}: unknown finding id 'deadbeef'; the answer was not taken" in result.error_message
    assert (
        f"row 6: finding {second}: figures typed over, ignored: Số của tỉnh (đồng) {shown} → 1; the answer was taken"
        in result.error_message
    )
    archived = built.execute("select archive_path from audit.files where file_id = %s", (result.file_id,)).fetchone()[0]
    assert (data_dir / archived).read_bytes() == path.read_bytes()

    dbt("run", "--select", "stg_audit__finding_responses", "fct_findings", "fct_published_figures", "--full-refresh")
    after = _statuses(built)
    explained = {k for k, v in after.items() if v[0] == "explained"}
    assert explained == {first, second}
    assert after[first][1:] == (ANSWER, "Số liệu đúng", path.name, 5)
    assert after[second][1:] == (None, "Sẽ sửa số liệu", path.name, 6)
    assert {k: v[0] for k, v in after.items() if k not in explained} == {
        k: v[0] for k, v in before.items() if k not in explained
    }
    # the published figures say so on exactly the keys of the two answered findings (their numbers unchanged)
    key = "province_code, component_key, fund_source, capital_type, plan_block"
    answered = set(
        built.execute(
            f"select {key} from marts.fct_findings where period = '2024-05-01' and finding_key = any(%s)",
            ([first, second],),
        ).fetchall()
    )
    flagged = set(
        built.execute(
            f"select {key} from marts.fct_published_figures where period = '2024-05-01' and is_explained"
        ).fetchall()
    )
    assert answered and flagged == answered

    # the next alert lists them under "explained by the province", with the text (escaped)
    from alerts.digest import build

    outcome, _digest = build("2024-05", language="vi")
    html = outcome.html_path.read_text(encoding="utf-8")
    assert "Đã được tỉnh giải trình (2)" in html and "<script>x" not in html
    assert "KBNN chưa nhập điều chỉnh &lt;script&gt;x&lt;/script&gt;" in html
    province = next(p for p in outcome.provinces if p.code == "11").html_path.read_text(encoding="utf-8")
    assert "Đã được tỉnh giải trình (2)" in province
    assert (
        f"{path.name}, dòng {last}: không có phát hiện mã &#39;deadbeef&#39;; giải trình chưa được ghi nhận."
        in province
    )
    assert (
        f"{path.name}, dòng 6: số liệu sửa trong tệp không được ghi nhận (Số của tỉnh (đồng) {shown} → 1)" in province
    )


def test_malformed_returns_are_quarantined(built, warehouse_url, tmp_path) -> None:
    wb, ws, header, _rows = _workbook("11")
    ws.cell(4, header.index("Giải trình") + 1, "Ghi chú")
    wb.save(tmp_path / "a.xlsx")
    result = _ingest(tmp_path / "a.xlsx", warehouse_url)
    assert (result.status, result.error_code) == ("quarantined", "response_missing_column")
    assert "sheet 'Phát hiện', row 4: the answer column 'Giải trình' is missing" in result.error_message

    wb, ws, header, rows = _workbook("12")
    ws["B2"] = "11"  # province 12's findings returned as province 11's
    ws.cell(5, header.index("Giải trình") + 1, "xem lại")
    wb.save(tmp_path / "b.xlsx")
    result = _ingest(tmp_path / "b.xlsx", warehouse_url)
    assert (result.status, result.error_code) == ("quarantined", "response_other_province")
    assert (
        f"sheet 'Phát hiện', row 5, column B: finding {rows[0]['finding_key']} belongs to province 12, "
        "not to 11 named by this workbook" in result.error_message
    )

    (tmp_path / "c.xlsx").write_text("Giải trình: số liệu đúng\n", encoding="utf-8")
    result = _ingest(tmp_path / "c.xlsx", warehouse_url)
    assert (result.status, result.error_code) == ("quarantined", "not_a_workbook")
    # nothing of a quarantined workbook is stored: only the first test's two answers and its unknown id
    outcomes = built.execute("select outcome, count(*) from audit.finding_responses group by 1 order by 1").fetchall()
    assert outcomes == [("accepted", 2), ("unknown_finding", 1)]
