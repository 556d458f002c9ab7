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
from cosmos import settings as cosmos_settings
from cosmos.constants import InvocationMode
from cosmos.operators.local import DbtBuildLocalOperator
from ntp_timetables import MonthlyReportTimetable  # plugins/: a custom timetable must be a registered plugin

# The pool bounding warehouse-heavy tasks (loads, dbt): a constant of the base layer, which is light to import.
from ntp_core.settings import WAREHOUSE_POOL  # noqa: TID253

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = PROJECT_ROOT / "dbt_project"
# dbt's partial parse, kept between runs under Cosmos' cache folder ([cosmos] cache_dir: the embedded path and
# docker-compose set it to $NTP_DATA_DIR/cosmos-cache). A path only: nothing is created at parse time.
DBT_CACHE_DIR = cosmos_settings.cache_dir / "ntp_monthly"
DBT_MANIFEST = DBT_DIR / "target" / "manifest.json"
SCHEDULE_DAY = int(os.environ.get("NTP_SCHEDULE_DAY", "5"))
# One process, which reads the next file ahead in a thread while it loads one. A second worker saves ≈ 1 s of a
# national month (P2, docs/performance.md) but would fork the task process, which runs Airflow's API threads.
INGEST_WORKERS = 1

DOC = f"""
### ntp_monthly — one report month through the warehouse

**Schedule.** One run per report month: the data interval is the calendar month, the logical date its
first day, and the run starts on day {SCHEDULE_DAY} of the following month at 01:00 UTC (env
`NTP_SCHEDULE_DAY`, 1–28; timetable `MonthlyReportTimetable` in `plugins/`). `ntp_inbox_watch` triggers a
month again when new or corrected files for it land; `airflow backfill create --dag-id ntp_monthly
--from-date 2024-01-01 --to-date 2024-03-01` (or `ntp backfill`) runs past months, oldest first.
Every task is idempotent for its month: re-running a month or retrying a task never duplicates anything.
A month is seven tasks whatever its number of files: each task start-up costs seconds, so ingestion and GX
are one task each (per-file outcomes are in their logs and XCom, not in the task grid), and dbt is one
`dbt build` (per-model outcomes in its log and XCom).

1. **resolve_period** — the report month: `params.period` (YYYY-MM) or the run's data interval.
2. **prepare_warehouse** — schemas and raw/audit tables (idempotent), and whether the reference data
   (seeds and the models that read only them) is already built as the project would build it.
3. **discover_files** — the inbox files whose *content* says they belong to the month.
4. **ingest_files** — every file of the month in one task (the ingestion library called once): each file
   archived, parsed, validated and loaded in its own transaction, or quarantined with an error naming file,
   sheet, row, column and reason. A bad file never fails the run. Per file: one log line (status, rows,
   error) and one record in the task's XCom; `audit.files` and the alert keep them too.
5. **validate_batches** — Great Expectations: one run per suite over all the month's loaded batches, each
   file judged on its own rows and stored per file in `audit.validation_results`; the log names every file
   with a failing or warning expectation.
6. **dbt_build** — staging → intermediate → marts → rules → findings in one `dbt build` (each model then
   its data tests; the unit tests run in CI, not on every month; the reference data only when it changed or
   is missing); the task log, XCom `dbt_results` and `$NTP_DATA_DIR/logs/dbt/<YYYY-MM>.json` list every
   model and test with its status and time.
7. **build_alert** — the monthly digest under `$NTP_DATA_DIR/reports/<YYYY-MM>/`, sent when configured.

A failed task writes the pipeline alert (`pipeline-failures.jsonl` next to the digest, and e-mail when
SMTP is configured). Operations: `docs/operations.md`.
"""


def _on_execute(context) -> None:
    """A task's process runs that task and ends: what survives a full garbage collection in it is frozen, so
    that the next one does not walk it again (ntp_core/heap.py)."""
    from ntp_core.heap import freeze_survivors

    freeze_survivors()


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
        "on_execute_callback": _on_execute,
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
    def prepare_warehouse() -> dict:
        """Create schemas and raw/audit tables if missing, and dbt's parse cache folder; export PG* for dbt when
        embedded. Returns what the month's `dbt build` leaves out: the reference data when it is already built."""
        import os

        from ntp import reference_build
        from ntp_core import warehouse
        from ntp_core.settings import private_dir

        private_dir(DBT_CACHE_DIR)
        url = warehouse.url()
        warehouse.bootstrap(url)
        for key, value in warehouse.libpq_env(url).items():
            os.environ.setdefault(key, value)
        plan = reference_build.plan(DBT_MANIFEST, DBT_DIR, url)
        print(plan.reason)
        return reference_build.as_xcom(plan)

    @task
    def discover_files(period: str) -> list[str]:
        """The files of the inbox that belong to this month, by content."""
        from ingestion.inbox import confined_inbox, files_for_period
        from ntp_core import warehouse
        from ntp_core.periods import parse_period
        from ntp_core.settings import load

        settings = load()
        inbox = confined_inbox(get_current_context()["params"].get("inbox"), settings.inbox_dir)
        # each file's month is read once, then kept with its size and modification time
        cache = settings.data_dir / "inbox-periods.json"
        files = files_for_period(inbox, parse_period(period), warehouse.url(), cache_path=cache)
        print(f"{len(files)} file(s) for {period} in {inbox}")
        return [str(f) for f in files]

    @task(
        pool=WAREHOUSE_POOL,
        doc_md="Every delivered file of the month, in one task calling the ingestion library once: each file "
        "archived by SHA-256, parsed, validated and loaded in its own transaction, or quarantined with an "
        "error naming file, sheet, row, column and reason. A bad file never fails the task; re-delivering the "
        "same file is a no-op, so a retry is safe. The log has one line per file (status, rows, error) and the "
        "XCom `return_value` one record per file.",
    )
    def ingest_files(files: list[str], period: str) -> list[dict]:
        """Load the month's files (one transaction each), quarantining bad ones with a precise error."""
        from collections import Counter

        from ingestion.load import ingest_files as ingest
        from ntp_core import warehouse
        from ntp_core.periods import parse_period

        results = ingest(
            [Path(f) for f in files],
            warehouse_url=warehouse.url(),
            run_period=parse_period(period),
            workers=INGEST_WORKERS,
        )
        for r in results:
            error = f" — {r.error_message}" if r.error_message else ""
            print(f"{r.status}: {r.path} ({r.row_count} rows){error}")
        counts = Counter(r.status for r in results)
        print(f"{len(results)} file(s): " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        return [r.to_dict() for r in results]

    @task(trigger_rule="all_done")
    def validate_batches(results: list[dict] | None) -> dict:
        """Great Expectations on every batch loaded in this run: one GX run per suite, judged per file."""
        from expectations.validate import validate_batches as validate
        from ntp_core import warehouse

        loaded = {r["file_id"]: r["path"] for r in results or [] if r.get("status") == "loaded" and r.get("file_id")}
        outcomes = validate(list(loaded), warehouse.url()) if loaded else {}
        summary: dict = {"validated": len(outcomes), "failed": []}
        for file_id, outcome in outcomes.items():
            if outcome.failures:
                names = ", ".join(f"{f['expectation']} ({f['severity']})" for f in outcome.failures)
                print(f"{'failed' if not outcome.success else 'warning'}: {loaded[file_id]} — {names}")
            if not outcome.success:
                summary["failed"].append({"file": loaded[file_id], "failures": outcome.failures})
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
        "rules, findings; every model followed by its data tests, a relationship test after both its models; "
        "the unit tests run in CI, not on every month; the seeds and the models that read only them, with "
        "their own tests, only when they changed or are missing: see prepare_warehouse's log). "
        "A failing model or test skips only what depends on it, as dbt does; the task then fails. The log "
        "ends with one line per model and test, slowest first, also kept as XCom `dbt_results` and in "
        "`$NTP_DATA_DIR/logs/dbt/<YYYY-MM>.json`.",
        project_dir=str(DBT_DIR),
        profile_config=ProfileConfig(
            profile_name="ntp", target_name="warehouse", profiles_yml_filepath=DBT_DIR / "profiles.yml"
        ),
        manifest_filepath=str(DBT_MANIFEST),
        invocation_mode=InvocationMode.DBT_RUNNER,
        # Unit tests check the models' logic on fixed inputs: they run in CI (tests/dbt), not on every
        # month's data, as dbt recommends for production builds. The reference data (seeds and the models that
        # read only them) is left out too when the warehouse already holds the project's current build of it
        # (ntp/reference_build.py); "cautious" keeps the tests that also read a monthly model (a fact's
        # relationship to a dimension).
        # (no plan in XCom, as when only this task is run again after its XCom was cleared: build everything)
        exclude="{{ (ti.xcom_pull(task_ids='prepare_warehouse') or {}).get('exclude', 'resource_type:unit_test') }}",
        dbt_cmd_flags=["--indirect-selection", "cautious"],
        emit_datasets=False,
        # Incremental models rebuild only this month (and the months whose files this run loaded). The month
        # goes in the environment, not `--vars`: dbt fingerprints its parse with the command-line vars, and
        # a new month each run would throw away the partial parse Cosmos keeps in cache_dir (≈ 9 s a run).
        env={"NTP_DBT_PERIOD": "{{ ti.xcom_pull(task_ids='resolve_period') }}"},
        cache_dir=DBT_CACHE_DIR,
        # dbt's debug log file would be written into Cosmos' temporary copy of the project and deleted with it:
        # not written at all (≈ 0.5 s of a month's build). The task log keeps dbt's own output.
        dbt_cmd_global_flags=["--log-level-file", "none"],
        # One dbt invocation per month, not one per model: dbt's start-up (project load, adapter, hooks)
        # was most of the month's cost. Per-model results: see doc_md above.
        callback=["ntp.dbt_results.record", "ntp.reference_build.after_build"],
        pool=WAREHOUSE_POOL,
        retries=0,
    )

    period = resolve_period()
    ready = prepare_warehouse()
    files = discover_files(period)
    ready >> files
    loaded = ingest_files(files, period)
    checked = validate_batches(loaded)
    alert = build_alert(period)
    checked >> dbt >> alert


ntp_monthly()
