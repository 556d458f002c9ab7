"""The pipeline alert: a failed task of the monthly DAG is reported, to file always and by e-mail
when SMTP is configured, so a broken month never goes silent."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

from alerts.delivery import send_email, smtp_settings
from ntp_core.settings import load

_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def safe_period(value: object) -> str | None:
    """`YYYY-MM` when `value` is one, else None: a run's params never name a folder by themselves."""
    return value if isinstance(value, str) and _PERIOD.fullmatch(value) else None


def alert_pipeline_failure(context) -> None:
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    params = context.get("params") or {}
    given = params.get("period")
    period = safe_period(given)  # an invalid conf period is filed under unknown/ and shown as given, escaped
    if not given and context.get("data_interval_start") is not None:
        period = context["data_interval_start"].strftime("%Y-%m")
    record = {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "run_id": getattr(dag_run, "run_id", None),
        "period": period or given,
        "error": str(context.get("exception")),
        "at": datetime.now(UTC).isoformat(),
    }
    out_dir = load().reports_dir / (period or "unknown")
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "pipeline-failures.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    cfg = smtp_settings()
    if cfg:
        body = "<br>".join(f"<b>{html.escape(k)}</b>: {html.escape(str(v))}" for k, v in record.items())
        subject = f"[CTMTQG] Pipeline thất bại: {record['task_id']} ({period or 'unknown'})"
        try:
            send_email(" ".join(subject.split()), body, [], cfg)
        except OSError as err:  # the alert of a failure must not raise a second failure
            print(f"pipeline alert e-mail not sent: {err}")
