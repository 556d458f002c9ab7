"""The monthly alert end to end: findings from a real build, files under reports/<YYYY-MM>/, an e-mail
received by a real SMTP server (aiosmtpd) with the HTML and CSV intact, a Slack webhook post, no second
copy unless forced, English on request, and the pipeline-failure alert."""

from __future__ import annotations

import email
import json
import os
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rule_builders import M, Workbook, add_file, load_treasury, load_workbook, treasury_lines_of

from ntp import warehouse

ND02 = ("DTPT", "NTM.ND02", "current", "NSTW")
TDA1 = ("DTPT", "GNBV.DA4.TDA1", "current", "NSTW")


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
            if code == "11" and m == 5:
                wb.leaves[ND02] = (10_000 * M, 10_050 * M, 1_000 * M * m)  # NTP-A01 and NTP-I02
            load_workbook(conn, wb)
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
def built(scenario) -> object:
    return scenario(load_months)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.messages.append(envelope.content)
            return "250 OK"

    handler = Collect()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("NTP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NTP_SMTP_PORT", str(port))
    monkeypatch.setenv("NTP_ALERT_TO", "ban-chi-dao@example.vn")
    yield handler
    controller.stop()


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


def test_alert_files_email_slack_once(built, smtp_server, slack_hook, data_dir) -> None:
    from alerts.digest import build_and_send

    outcome = build_and_send("2024-05")
    assert outcome.sent == ["email", "slack"]
    assert outcome.html_path == data_dir / "reports" / "2024-05" / "alert.html"
    html = outcome.html_path.read_text(encoding="utf-8")
    assert (
        "<svg" in html
        and "<script" not in html
        and "http" not in html.split("<body>")[1].replace("http://www.w3.org/2000/svg", "")
    )
    assert "Cảnh báo chất lượng số liệu CTMTQG" in html and "BC_14_052024.xlsx" in html
    csv_text = outcome.csv_path.read_text(encoding="utf-8")
    assert "NTP-A01" in csv_text and "NTP-I02" in csv_text and "NTP-F01" in csv_text
    digest = json.loads(outcome.json_path.read_text(encoding="utf-8"))
    assert digest["headline"]["province_reports"] == 2 and digest["headline"]["provinces_expected"] == 63

    assert len(smtp_server.messages) == 1
    msg = email.message_from_bytes(smtp_server.messages[0], policy=policy.default)
    assert "2024-05" in msg["Subject"] and msg["To"] == "ban-chi-dao@example.vn"
    # SMTP carries CRLF line endings; the content is otherwise byte for byte the files on disk
    body = msg.get_body(preferencelist=("html",)).get_content()
    assert body.replace("\r\n", "\n").rstrip("\n") == html.rstrip("\n")
    attachments = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert attachments["findings.csv"].replace("\r\n", "\n") == csv_text
    assert json.loads(attachments["alert.json"])["period"] == "2024-05"
    assert len(slack_hook) == 1 and "2024-05" in slack_hook[0]["text"]

    # a re-run of the month sends nothing more; a forced one sends again
    assert build_and_send("2024-05").sent == []
    assert len(smtp_server.messages) == 1 and len(slack_hook) == 1
    assert build_and_send("2024-05", force=True).sent == ["email", "slack"]
    assert len(smtp_server.messages) == 2 and len(slack_hook) == 2


def test_alert_in_english(built, monkeypatch) -> None:
    from alerts.digest import build

    monkeypatch.setenv("NTP_ALERT_LANGUAGE", "en")
    outcome, digest = build("2024-05")
    html = outcome.html_path.read_text(encoding="utf-8")
    assert "NTP data quality alert — 2024-05" in html and "Disbursement progress" in html
    assert any("Province detailed allocation differs" in f["message"] for f in digest["findings"])


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
    msg = email.message_from_bytes(smtp_server.messages[-1], policy=policy.default)
    assert "ingest" in msg["Subject"]
    assert os.environ["NTP_ALERT_TO"] in msg["To"]


def test_findings_cli_formats(built, capsys) -> None:
    from ntp.cli import main

    assert main(["findings", "--period", "2024-05", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["rule_id"] for r in rows} >= {"NTP-A01", "NTP-I02", "NTP-F01", "NTP-C01"}
    assert main(["findings", "--period", "2024-05", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("rule_id,severity,period")
    assert main(["findings", "--period", "2024-05"]) == 0
    assert "finding(s) for 2024-05" in capsys.readouterr().out
    assert warehouse  # the CLI reads the same warehouse as the fixtures
