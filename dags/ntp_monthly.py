"""`ntp_monthly`: one run per report month, from the delivered files to the monthly quality alert.

Nothing heavy happens at parse time: the dbt task is a Cosmos operator that runs `dbt build` in the
worker (dbtRunner, in-process), and the ingestion, GX and alert code is imported inside the tasks.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, task
from cosmos import ProfileConfig
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator
from ntp_timetables import MonthlyReportTimetable  # plugins/: a custom timetable must be a registered plugin

# The pool bounding warehouse-heavy tasks (loads, dbt): a constant of the base layer, which is light to import.
from ntp_core.settings import WAREHOUSE_POOL  # noqa: TID253

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = PROJECT_ROOT / "dbt_project"
SCHEDULE_DAY = int(os.environ.get("NTP_SCHEDULE_DAY", "5"))

DOC = f"""
### ntp_monthly — one report month through the warehouse

**Schedule.** One run per report month: the data interval is the calendar month, the logical date its
first day, and the run starts on day {SCHEDULE_DAY} of the following month at 01:00 UTC (env
`NTP_SCHEDULE_DAY`, 1–28; timetable `MonthlyReportTimetable` in `plugins/`). `ntp_inbox_watch` triggers a
month again when new or corrected files for it land; `airflow backfill create --dag-id ntp_monthly
--from-date 2024-01-01 --to-date 2024-03-01` (or `ntp backfill`) runs past months, oldest first.
Every task is idempotent for its month: re-running a month or retrying a task never duplicates anything.

1. **resolve_period** — the report month: `params.period` (YYYY-MM) or the run's data interval.
2. **prepare_warehouse** — schemas and raw/audit tables (idempotent).
3. **discover_files** — the inbox files whose *content* says they belong to the month.
4. **ingest_file** (mapped, one task per file) — archive, parse, validate, load atomically, or quarantine
   with an error naming file, sheet, row, column and reason. A bad file never fails the run.
5. **validate_batches** — Great Expectations suites on each loaded batch.
6. **dbt_build** — staging → intermediate → marts → rules → findings in one `dbt build` (each model then
   its tests); the task log, XCom `dbt_results` and `$NTP_DATA_DIR/logs/dbt/<YYYY-MM>.json` list every
   model and test with its status and time.
7. **build_alert** — the monthly digest under `$NTP_DATA_DIR/reports/<YYYY-MM>/`, sent when configured.

A failed task writes the pipeline alert (`pipeline-failures.jsonl` next to the digest, and e-mail when
SMTP is configured). Operations: `docs/operations.md`.
"""


def _on_failure(context) -> None:
    """A failed task of the monthly pipeline raises the pipeline alert."""
    from alerts.pipeline import alert_pipeline_failure

    alert_pipeline_failure(context)


@dag(
    dag_id="ntp_monthly",
    description="Monthly NTP reports: ingest, reconcile, check, alert",
    schedule=MonthlyReportTimetable(schedule_day=SCHEDULE_DAY),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["ntp", "monthly", "dbt"],
    doc_md=DOC,
    params={
        "period": Param(None, type=["null", "string"], description="Report month YYYY-MM (default: the data interval)"),
        "inbox": Param(None, type=["null", "string"], description="Inbox folder (default $NTP_DATA_DIR/inbox)"),
        "force_alert": Param(False, type="boolean", description="Send the alert again even if already sent"),
    },
    default_args={
        "owner": "ntp-data-engineering",
        "retries": 1,
        "retry_delay": timedelta(seconds=20),
        "on_failure_callback": _on_failure,
    },
)
def ntp_monthly():
    @task
    def resolve_period() -> str:
        """The report month of this run, YYYY-MM."""
        from ntp_core.periods import label, parse_period

        context = get_current_context()
        explicit = context["params"].get("period")
        if explicit:
            return label(parse_period(explicit))
        start = context["data_interval_start"]
        return f"{start.year:04d}-{start.month:02d}"

    @task
    def prepare_warehouse() -> None:
        """Create schemas and raw/audit tables if missing; export PG* for dbt when embedded."""
        import os

        from ntp_core import warehouse

        url = warehouse.url()
        warehouse.bootstrap(url)
        for key, value in warehouse.libpq_env(url).items():
            os.environ.setdefault(key, value)

    @task
    def discover_files(period: str) -> list[str]:
        """The files of the inbox that belong to this month, by content."""
        from ingestion.inbox import confined_inbox, files_for_period
        from ntp_core import warehouse
        from ntp_core.periods import parse_period
        from ntp_core.settings import load

        inbox = confined_inbox(get_current_context()["params"].get("inbox"), load().inbox_dir)
        files = files_for_period(inbox, parse_period(period), warehouse.url())
        print(f"{len(files)} file(s) for {period} in {inbox}")
        return [str(f) for f in files]

    @task(
        pool=WAREHOUSE_POOL,
        map_index_template="{{ task.op_kwargs['path'] }}",
        doc_md="One delivered file (mapped: one task per file of the month): archived by SHA-256, parsed, "
        "validated and loaded in one transaction, or quarantined with an error naming file, sheet, "
        "row, column and reason. Re-delivering the same file is a no-op, so a retry is safe.",
    )
    def ingest_file(path: str, period: str) -> dict:
        """Load one delivered file atomically, or quarantine it with a precise error."""
        from dataclasses import asdict

        from ingestion.load import ingest_file as ingest
        from ntp_core import warehouse
        from ntp_core.periods import parse_period

        result = ingest(Path(path), warehouse_url=warehouse.url(), run_period=parse_period(period))
        print(
            f"{result.status}: {path} ({result.row_count} rows)"
            + (f" — {result.error_message}" if result.error_message else "")
        )
        return asdict(result)

    @task(trigger_rule="all_done")
    def validate_batches(results: list[dict]) -> dict:
        """Great Expectations on every batch loaded in this run."""
        from expectations.validate import validate_file_batch
        from ntp_core import warehouse

        url = warehouse.url()
        summary = {"validated": 0, "failed": []}
        for result in results or []:
            if result and result.get("status") == "loaded" and result.get("file_id"):
                outcome = validate_file_batch(result["file_id"], url)
                summary["validated"] += 1
                if not outcome.success:
                    summary["failed"].append({"file": result["path"], "failures": outcome.failures})
        print(f"validated {summary['validated']} batch(es), {len(summary['failed'])} with failures")
        return summary

    @task(trigger_rule="all_done")
    def build_alert(period: str) -> str:
        """Write the monthly digest and send it where configured."""
        from alerts.digest import build_and_send

        force = bool(get_current_context()["params"].get("force_alert"))
        outcome = build_and_send(period, force=force)
        sent = f"; sent: {', '.join(outcome.sent)}" if outcome.sent else ""
        print(f"alert written to {outcome.html_path}{sent}")
        return str(outcome.html_path)

    dbt = DbtBuildLocalOperator(
        task_id="dbt_build",
        doc_md="The whole dbt project for the month in one `dbt build` (seeds, staging, intermediate, marts, "
        "rules, findings; every model followed by its tests, a relationship test after both its models). "
        "A failing model or test skips only what depends on it, as dbt does; the task then fails. The log "
        "ends with one line per model and test, slowest first, also kept as XCom `dbt_results` and in "
        "`$NTP_DATA_DIR/logs/dbt/<YYYY-MM>.json`.",
        project_dir=str(DBT_DIR),
        profile_config=ProfileConfig(
            profile_name="ntp", target_name="warehouse", profiles_yml_filepath=DBT_DIR / "profiles.yml"
        ),
        manifest_filepath=str(DBT_DIR / "target" / "manifest.json"),
        invocation_mode=InvocationMode.DBT_RUNNER,
        emit_datasets=False,
        # Incremental models rebuild only this month (and the months whose files this run loaded).
        vars={"period": "{{ ti.xcom_pull(task_ids='resolve_period') }}"},
        # One dbt invocation per month, not one per model: dbt's start-up (project load, adapter, hooks)
        # was most of the month's cost. Per-model results: see doc_md above.
        callback="ntp.dbt_results.record",
        pool=WAREHOUSE_POOL,
        retries=0,
    )

    period = resolve_period()
    ready = prepare_warehouse()
    files = discover_files(period)
    ready >> files
    loaded = ingest_file.partial(period=period).expand(path=files)
    checked = validate_batches(loaded)
    alert = build_alert(period)
    checked >> dbt >> alert


ntp_monthly()
