"""`ntp_inbox_watch`: data-aware start of `ntp_monthly` when reports land in the inbox.

Every few minutes it lists the inbox files whose SHA-256 is not yet in `audit.files`, reads their report
month from their *content* (the ingestion layer's cheap sniff, not the file name) and triggers
`ntp_monthly` once per affected month with conf {"period": "YYYY-MM"}. A late or corrected report for a
past month therefore re-runs that month; the monthly run is idempotent for its month.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

WATCH_MINUTES = int(os.environ.get("NTP_INBOX_WATCH_MINUTES", "10"))

DOC = f"""
### ntp_inbox_watch — (re)process a month when its reports land

Runs every {WATCH_MINUTES} minutes (env `NTP_INBOX_WATCH_MINUTES`).

1. **pending_months** — inbox files not yet in `audit.files` (by SHA-256; hashes cached by path, size
   and mtime), their report month read from the content: `ingestion.inbox.pending_months`, the same listing
   as the monthly run (no symbolic links followed); the run conf `inbox` must lie under `NTP_INBOX_DIR`.
   A file whose month cannot be read goes to the report month currently due, whose run quarantines it.
2. **trigger_month** (mapped, one per month) — `TriggerDagRunOperator` → `ntp_monthly` with
   conf `{{"period": "YYYY-MM"}}`. The run id is derived from the month and the new files' hashes, so the
   same pending files never trigger the same month twice (`skip_when_already_exists`), while a further
   corrected file for that month triggers it again.

Why a watch DAG and not an Asset watcher: the month is known only after reading the file, Asset watchers
need a message-queue trigger, and a conf-carrying trigger runs the same `ntp_monthly` as the schedule and
backfills do (one run per month, its period explicit).
"""


@dag(
    dag_id="ntp_inbox_watch",
    description="Trigger ntp_monthly for each month with new or corrected files in the inbox",
    schedule=f"*/{WATCH_MINUTES} * * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["ntp", "inbox"],
    doc_md=DOC,
    params={"inbox": Param(None, type=["null", "string"], description="Inbox folder (default $NTP_INBOX_DIR)")},
    default_args={"owner": "ntp-data-engineering", "retries": 1, "retry_delay": timedelta(seconds=30)},
)
def ntp_inbox_watch():
    @task
    def pending_months() -> list[dict]:
        """One trigger request per report month with files not yet in audit.files (ingestion.inbox)."""
        from datetime import date

        from ingestion.inbox import confined_inbox, pending_months, trigger_requests
        from ntp_core import warehouse
        from ntp_core.settings import load

        settings = load()
        inbox = confined_inbox(get_current_context()["params"].get("inbox"), settings.inbox_dir)
        cache = settings.data_dir / "inbox-watch-hashes.json"
        months = pending_months(inbox, warehouse.url(), cache_path=cache, today=date.today())
        print(f"months to (re)process from {inbox}: {', '.join(months) or 'none'}")
        return trigger_requests(months, inbox)

    TriggerDagRunOperator.partial(
        task_id="trigger_month",
        trigger_dag_id="ntp_monthly",
        skip_when_already_exists=True,
        wait_for_completion=False,
        map_index_template="{{ task.conf['period'] }}",
    ).expand_kwargs(pending_months())


ntp_inbox_watch()
