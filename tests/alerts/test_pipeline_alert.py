"""The pipeline-failure alert with hostile run params: an invalid `params.period` never names a folder
(nothing is written outside NTP_DATA_DIR) and the HTML mail shows params and errors as text, not markup."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.mark.parametrize("period", ["../../escaped", "/tmp/abs", "2024-13", "2024-06/../../x", "2024-6"])
def test_invalid_period_never_names_a_folder(period, smtp_server, tmp_path, monkeypatch):
    from alerts.pipeline import alert_pipeline_failure

    data = tmp_path / "data"
    monkeypatch.setenv("NTP_DATA_DIR", str(data))
    alert_pipeline_failure(
        {
            "ti": SimpleNamespace(dag_id="ntp_monthly", task_id="ingest", map_index=-1),
            "dag_run": SimpleNamespace(run_id="manual__1"),
            "params": {"period": period},
            "exception": RuntimeError("<img src=x onerror=alert(1)> & <b>bold</b>"),
        }
    )
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written == [data / "reports" / "unknown" / "pipeline-failures.jsonl"]
    record = json.loads(written[0].read_text(encoding="utf-8"))
    assert record["period"] == period  # shown as given, in the record only
    msg = email.message_from_bytes(smtp_server.messages[-1][1], policy=policy.default)
    body = msg.get_body(("html",)).get_content()
    assert "<img" not in body and "<b>bold" not in body
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    assert "(unknown)" in msg["Subject"]


def test_valid_period_files_under_its_month(smtp_server, tmp_path, monkeypatch):
    from alerts.pipeline import alert_pipeline_failure

    monkeypatch.setenv("NTP_DATA_DIR", str(tmp_path / "data"))
    alert_pipeline_failure({"ti": SimpleNamespace(task_id="ingest"), "params": {"period": "2024-06"}})
    assert Path(tmp_path / "data" / "reports" / "2024-06" / "pipeline-failures.jsonl").is_file()
