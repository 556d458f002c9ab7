"""The monthly alert end to end: findings from a real build, files under reports/<YYYY-MM>/, e-mails received
by a real SMTP server (aiosmtpd) — the national digest to NTP_ALERT_TO, one message per province to its
recipients with its chart (PNG by Content-ID) and its findings workbook — a Slack webhook post, nothing
more on a second run unless forced, one line per cause, Vietnamese without English words, hostile names
escaped, English on request, the pipeline-failure alert and the `ntp findings` CLI."""

from __future__ import annotations

import csv
import email
import io
import json
import os
import re
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import openpyxl
import pytest
from rule_builders import M, Workbook, add_file, load_treasury, load_workbook, treasury_lines_of

ND02 = ("DTPT", "NTM.ND02", "current", "NSTW")
TDA1 = ("DTPT", "GNBV.DA4.TDA1", "current", "NSTW")
HOSTILE = "=cmd|' \\C calc'!A0<script>alert(1)<\\script>.xlsx"  # no slash: a file name cannot hold one
RECIPIENTS = """province_code,role,email
11,Sở Tài chính,stc11@example.org
11,KBNN tỉnh,kbnn11@example.org
12,Ban chỉ đạo,bcd12@example.org
12,Nobody,skipped@example.org
"""


def load_months(conn) -> None:
    from datetime import date

    for m in (4, 5):
        period = date(2024, m, 1)
        for code in ("11", "12"):
            leaves = {
                ND02: (10_000 * M, 10_000 * M, 1_000 * M * m),
                TDA1: (2_000 * M, 2_000 * M, 150 * M * m),
            }
            wb = Workbook(code, period, dict(leaves))
            name = None
            if code == "11" and m == 5:
                wb.leaves[ND02] = (10_000 * M, 10_050 * M, 1_000 * M * m)  # NTP-A01 and NTP-I02
            if code == "12" and m == 5:  # typed in nghìn đồng under a triệu đồng header: every figure × 1,000
                wb.leaves = {key: tuple(v * 1000 for v in trio) for key, trio in leaves.items()}
                name = HOSTILE
            fid = load_workbook(conn, wb, name=name)
            conn.execute("update audit.files set unit = 'trieu_dong' where file_id = %s", (fid,))
            if code == "11":  # one expectation failed on May's workbook, one passed on April's
                conn.execute(
                    "insert into audit.validation_results (file_id, suite, expectation, success, observed) "
                    "values (%s, 'province_report_cells', 'expect_column_values_to_not_be_null(value)', %s, '3')",
                    (fid, m != 5),
                )
            load_treasury(conn, period, code, treasury_lines_of(Workbook(code, period, leaves)))
    add_file(
        conn,
        "province_workbook",
        date(2024, 5, 1),
        "14",
        status="quarantined",
        name="BC_14_052024.xlsx",
        error_code="unparseable_number",
        error_message="ô J14: 'mười tỷ' không phải là số",
        error_sheet="Biểu 01a",
        error_row=14,
        error_column="J",
    )


@pytest.fixture(scope="module")
def built(scenario, data_dir):
    conn = scenario(load_months)
    conn.execute("truncate audit.alert_sends")
    return conn


@pytest.fixture
def slack_hook(monkeypatch):
    posts: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("NTP_SLACK_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    yield posts
    server.shutdown()


def _visible_text(html: str) -> str:
    body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_alert_parts_sent_once_per_month(built, smtp_server, slack_hook, data_dir) -> None:
    from alerts.digest import build_and_send

    (data_dir / "recipients.csv").write_text(RECIPIENTS, encoding="utf-8")
    try:
        outcome = build_and_send("2024-05")
        assert outcome.sent == ["email:national", "email:11", "email:12", "slack:national"]
        month = data_dir / "reports" / "2024-05"
        assert outcome.html_path == month / "alert.html"
        html = outcome.html_path.read_text(encoding="utf-8")
        assert "<script" not in html and "<svg" not in html
        assert "Cảnh báo chất lượng số liệu CTMTQG" in html and "BC_14_052024.xlsx" in html
        assert "&lt;script&gt;alert(1)&lt;\\script&gt;" in html  # the hostile file name, escaped
        assert "Kiểm định dữ liệu không đạt trong tháng (1)" in html
        assert "expect_column_values_to_not_be_null(value)" in html
        # one cause, one line: province 12's 2 leaves × (2 vs the Treasury + 3 vs April) = 10 NTP-T02 figures
        assert "Biểu 01a có vẻ lập theo nghìn đồng, không phải triệu đồng: 10 số liệu, ≈ 1.000 lần" in html
        t02 = built.execute(
            "select count(*) from marts.fct_findings where rule_id = 'NTP-T02' and province_code = '12' "
            "and period = '2024-05-01' and status <> 'resolved'"
        ).fetchone()[0]
        assert t02 == 10  # every row stays in the mart
        # Vietnamese only: no English word of the mart, Vietnamese number formats
        text = _visible_text(html)
        for english in ("error", "warning", "current", "carryover", "persisting", "new", "disbursed", "Province"):
            assert not re.search(rf"\b{english}\b", text), english
        assert re.search(r"\b\d+,\d\d %", text) and "10.050.000.000" in text

        csv_bytes = outcome.csv_path.read_bytes()
        assert csv_bytes.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
        assert rows[0][:5] == ["Quy tắc", "Mức độ", "Kỳ báo cáo", "Mã tỉnh", "Tên tỉnh"]
        files = {r[rows[0].index("Tệp")] for r in rows[1:]}
        assert "'" + HOSTILE in files and HOSTILE not in files
        names = {(r[3], r[4]) for r in rows[1:]}
        assert ("11", "Tỉnh Điện Biên") in names and ("12", "Tỉnh Lai Châu") in names

        national, p11, p12 = (
            (rcpt, email.message_from_bytes(raw, policy=policy.default)) for rcpt, raw in smtp_server.messages
        )
        assert national[0] == ["ban-chi-dao@example.org"] and "2024-05" in national[1]["Subject"]
        assert {a.get_filename() for a in national[1].iter_attachments()} == {"findings.csv", "alert.json"}
        assert p11[0] == ["stc11@example.org", "kbnn11@example.org"] and p12[0] == ["bcd12@example.org"]
        for code, (_rcpt, msg) in (("11", p11), ("12", p12)):
            body = msg.get_body(preferencelist=("html",)).get_content()
            assert f'src="cid:chart-{code}"' in body
            related = msg.get_body(preferencelist=("related",))
            images = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
            assert [p["Content-ID"] for p in images] == [f"<chart-{code}>"]
            assert images[0].get_content().startswith(b"\x89PNG")
            attachments = {a.get_filename(): a.get_content() for a in msg.iter_attachments()}
            xlsx = attachments[f"phat-hien-{code}-2024-05.xlsx"]
            ws = openpyxl.load_workbook(io.BytesIO(xlsx))["Phát hiện"]
            header = [c.value for c in ws[4]]
            assert header[-2:] == ["Giải trình", "Hướng xử lý"] and "Mã phát hiện" in header
            ids = {r[header.index("Mã phát hiện")] for r in ws.iter_rows(min_row=5, values_only=True)}
            open_keys = {
                k
                for (k,) in built.execute(
                    "select finding_key from marts.fct_findings where period = '2024-05-01' "
                    "and province_code = %s and status <> 'resolved'",
                    (code,),
                )
            }
            assert ids == open_keys
            if code == "12":
                source = header.index("Tệp:dòng")
                cells = [row[source] for row in ws.iter_rows(min_row=5) if str(row[source].value).startswith("=")]
                assert cells and all(c.data_type == "s" for c in cells)  # text, never a formula
        assert len(slack_hook) == 1 and "2024-05" in slack_hook[0]["text"]
        assert (month / "provinces" / "11" / "chart.png").read_bytes().startswith(b"\x89PNG")

        # a second run of the month sends nothing new; a forced one sends every part again
        assert build_and_send("2024-05").sent == []
        assert len(smtp_server.messages) == 3 and len(slack_hook) == 1
        assert len(build_and_send("2024-05", force=True).sent) == 4
        assert len(smtp_server.messages) == 6 and len(slack_hook) == 2
        # the connections made from NTP_SMTP_* / NTP_SLACK_WEBHOOK_URL live for one send only: a process started
        # later from this one (the next `ntp run`) must not inherit a connection to this test's servers
        assert not [k for k in os.environ if k.startswith("AIRFLOW_CONN_NTP")]
    finally:
        (data_dir / "recipients.csv").unlink()


def test_alert_in_english(built, monkeypatch) -> None:
    from alerts.digest import build

    monkeypatch.setenv("NTP_ALERT_LANGUAGE", "en")
    outcome, digest = build("2024-05")
    html = outcome.html_path.read_text(encoding="utf-8")
    assert "NTP data quality alert — 2024-05" in html and "10,050,000,000" in html
    assert "appears to be in thousand đồng, not million đồng: 10 figures, ≈ 1,000 ×" in html
    assert any("Province detailed allocation differs" in f["message"] for f in digest["findings"])
    parts = {p.code: p for p in outcome.provinces}
    assert '<img src="chart.png"' in parts["11"].html_path.read_text(encoding="utf-8")
    assert parts["01"].chart_path is None  # only a missing report: no figure, no chart
    assert "<img" not in parts["01"].html_path.read_text(encoding="utf-8")


def test_pipeline_failure_alert(smtp_server, data_dir) -> None:
    from types import SimpleNamespace

    from alerts.pipeline import alert_pipeline_failure

    ti = SimpleNamespace(dag_id="ntp_monthly", task_id="ingest", map_index=-1)
    alert_pipeline_failure(
        {
            "ti": ti,
            "dag_run": SimpleNamespace(run_id="manual__1"),
            "params": {"period": "2024-06"},
            "exception": RuntimeError("disk full"),
        }
    )
    record = json.loads((data_dir / "reports" / "2024-06" / "pipeline-failures.jsonl").read_text().splitlines()[-1])
    assert record["task_id"] == "ingest" and "disk full" in record["error"]
    msg = email.message_from_bytes(smtp_server.messages[-1][1], policy=policy.default)
    assert "ingest" in msg["Subject"]
    assert os.environ["NTP_ALERT_TO"] in msg["To"]


def test_findings_cli_formats(built, capsys) -> None:
    from ntp.cli import main

    assert main(["findings", "--period", "2024-05", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["rule_id"] for r in rows} >= {"NTP-A01", "NTP-I02", "NTP-F01", "NTP-C01", "NTP-T02"}
    assert main(["findings", "--period", "2024-05", "--province", "11", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeffQuy tắc,Mức độ,Kỳ báo cáo,Mã tỉnh,Tên tỉnh")
    assert {r[3] for r in list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))[1:]} == {"11"}
    assert main(["findings", "--period", "2024-05", "--province", "12", "--language", "en"]) == 0
    table = capsys.readouterr().out
    assert "10 figures, ≈ 1,000 ×" in table and "finding(s) for 2024-05" in table
    from alerts.findings import print_findings

    out = io.TextIOWrapper(io.BytesIO())
    assert print_findings("2024-05", fmt="xlsx", out=out, province="12") == 0
    ws = openpyxl.load_workbook(io.BytesIO(out.buffer.getvalue()))["Phát hiện"]
    assert ws["B2"].value == "12" and ws["F2"].value == "2024-05"
