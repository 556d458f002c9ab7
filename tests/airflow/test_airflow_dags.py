"""The DAG files: a clean DagBag, stable task ids, docs and ownership, the report-month timetable, and no
database or dbt call while parsing (the P4 benchmark's child process counts them)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugins"))

STABLE_TASKS = {
    "resolve_period",
    "prepare_warehouse",
    "discover_files",
    "ingest_files",
    "validate_batches",
    "build_alert",
}

DAGBAG_REPORT = r"""
import gc, json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder="dags")

def freezes_survivors(task):
    # whether the task's execute callbacks leave its process freezing what a full collection keeps
    callbacks, frozen = list(gc.callbacks), gc.get_freeze_count()
    run = task.on_execute_callback or []
    for callback in run if isinstance(run, list) else [run]:
        callback({})
    gc.collect()
    froze = gc.get_freeze_count() > frozen
    gc.callbacks[:] = callbacks
    gc.unfreeze()
    return froze

out = {"errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "doc_md": bool(dag.doc_md), "tags": sorted(dag.tags), "timetable": type(dag.timetable).__name__,
        "max_active_runs": dag.max_active_runs,
        "tasks": {t.task_id: {"doc": bool(t.doc_md or t.doc), "owner": t.owner,
                              "on_failure": bool(t.on_failure_callback), "retries": t.retries,
                              "freezes_survivors": freezes_survivors(t),
                              "group": t.task_group.group_id if t.task_group else None,
                              "mapped": "MappedOperator" in type(t).__name__,
                              "upstream": sorted(t.upstream_task_ids), "downstream": sorted(t.downstream_task_ids)}
                  for t in dag.tasks},
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The DagBag of dags/, parsed in a fresh process with the deployment's settings."""
    import os

    home = tmp_path_factory.mktemp("airflow-home")
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        NTP_DATA_DIR=str(home / "data"),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
    )
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", DAGBAG_REPORT], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_dagbag_is_clean(dagbag: dict) -> None:
    assert dagbag["errors"] == {}
    assert set(dagbag["dags"]) == {"ntp_monthly", "ntp_inbox_watch"}


def test_monthly_dag_shape_docs_and_callbacks(dagbag: dict) -> None:
    dag = dagbag["dags"]["ntp_monthly"]
    tasks = dag["tasks"]
    assert set(tasks) >= STABLE_TASKS
    # A month is a fixed number of tasks, whatever its number of files: ingestion and GX are one task each.
    assert not any(t["mapped"] for t in tasks.values()), [k for k, t in tasks.items() if t["mapped"]]
    assert tasks["ingest_files"]["upstream"] == ["discover_files", "resolve_period"]
    assert tasks["validate_batches"]["upstream"] == ["ingest_files"]
    # The whole dbt project is one `dbt build` task, after the GX validation and before the alert.
    assert tasks["dbt_build"]["upstream"] == ["validate_batches"]
    assert tasks["dbt_build"]["downstream"] == ["build_alert"]
    assert tasks["dbt_build"]["retries"] == 0
    assert dag["doc_md"] and {"ntp", "monthly"} <= set(dag["tags"])
    assert dag["timetable"] == "MonthlyReportTimetable" and dag["max_active_runs"] == 1
    for task_id, t in tasks.items():
        assert t["owner"] == "ntp-data-engineering", task_id
        assert t["on_failure"], f"{task_id} has no failure callback (pipeline alert)"
        assert t["freezes_survivors"], f"{task_id}'s process walks its whole heap at every full collection"
        assert t["doc"], f"{task_id} has no doc"


def test_inbox_watch_dag(dagbag: dict) -> None:
    dag = dagbag["dags"]["ntp_inbox_watch"]
    assert set(dag["tasks"]) == {"pending_months", "trigger_month"}
    assert dag["tasks"]["trigger_month"]["mapped"]
    assert dag["doc_md"] and dag["max_active_runs"] == 1


def _utc(*args: int) -> datetime:
    import pendulum

    return pendulum.datetime(*args, tz="UTC")


def test_timetable_one_run_per_month_on_the_schedule_day() -> None:
    from airflow.timetables.base import DataInterval, TimeRestriction
    from ntp_timetables import MonthlyReportTimetable

    tt = MonthlyReportTimetable(schedule_day=5)
    tt.validate()
    first = tt.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(_utc(2024, 1, 1), None, catchup=True)
    )
    assert first.data_interval == DataInterval(_utc(2024, 1, 1), _utc(2024, 2, 1))
    assert first.run_after == _utc(2024, 2, 5, 1)
    assert first.logical_date == _utc(2024, 1, 1)
    nxt = tt.next_dagrun_info(
        last_automated_data_interval=first.data_interval,
        restriction=TimeRestriction(_utc(2024, 1, 1), None, catchup=True),
    )
    assert nxt.data_interval == DataInterval(_utc(2024, 2, 1), _utc(2024, 3, 1))
    assert nxt.run_after == _utc(2024, 3, 5, 1)
    # December rolls into the next year.
    dec = tt.next_dagrun_info(
        last_automated_data_interval=DataInterval(_utc(2024, 11, 1), _utc(2024, 12, 1)),
        restriction=TimeRestriction(_utc(2024, 1, 1), None, catchup=True),
    )
    assert dec.data_interval == DataInterval(_utc(2024, 12, 1), _utc(2025, 1, 1))
    assert dec.run_after == _utc(2025, 1, 5, 1)
    # A start date mid-month begins with the next whole month; `latest` bounds a backfill.
    mid = tt.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(_utc(2024, 1, 15), _utc(2024, 1, 31), catchup=True),
    )
    assert mid is None


@pytest.mark.parametrize(
    ("now", "due_month"),
    [
        # Hand-computed: with schedule_day=5 at 01:00 UTC, month M is due on the 5th of M+1 at 01:00.
        ((2026, 12, 10), (2026, 11)),  # November's run (due 5 Dec) is due; a 30-day month
        ((2026, 12, 3), (2026, 10)),  # November's run is not due yet: October's
        ((2027, 3, 5, 1), (2027, 2)),  # exactly at the due instant: February, a 28-day month
        ((2028, 3, 6), (2028, 2)),  # leap February, 29 days
        ((2027, 1, 20), (2026, 12)),  # across the year end
    ],
)
def test_timetable_catchup_off_starts_at_the_month_due(
    monkeypatch: pytest.MonkeyPatch, now: tuple, due_month: tuple
) -> None:
    import ntp_timetables
    from airflow.timetables.base import DataInterval, TimeRestriction

    monkeypatch.setattr(ntp_timetables, "_utcnow", lambda: _utc(*now))
    info = ntp_timetables.MonthlyReportTimetable(schedule_day=5).next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(_utc(2024, 1, 1), None, catchup=False)
    )
    start = _utc(*due_month, 1)
    assert info.data_interval == DataInterval(start, start.add(months=1))
    assert info.run_after == start.add(months=1).add(days=4, hours=1)


def test_timetable_manual_runs_and_serialization() -> None:
    from airflow.timetables.base import DataInterval
    from ntp_timetables import MonthlyReportTimetable

    tt = MonthlyReportTimetable(schedule_day=7, hour=3)
    # `airflow dags test ntp_monthly 2024-03-01`: the month starting at the logical date.
    assert tt.infer_manual_data_interval(run_after=_utc(2024, 3, 1)) == DataInterval(_utc(2024, 3, 1), _utc(2024, 4, 1))
    # A trigger at any other instant: the report month due then (the previous calendar month).
    assert tt.infer_manual_data_interval(run_after=_utc(2024, 4, 10, 9)) == DataInterval(
        _utc(2024, 3, 1), _utc(2024, 4, 1)
    )
    again = MonthlyReportTimetable.deserialize(tt.serialize())
    assert (again.schedule_day, again.hour) == (7, 3)
    from airflow.exceptions import AirflowTimetableInvalid

    with pytest.raises(AirflowTimetableInvalid):
        MonthlyReportTimetable(schedule_day=31).validate()


def test_parse_makes_no_database_or_dbt_call() -> None:
    """One run of the P4 benchmark (figures are reported by `make bench`, not asserted here)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_dag_parse.py"), "--runs", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["db_calls"] == 0 and result["dbt_calls"] == 0
    assert result["import_errors"] == {}
    # The whole DAG was built while parsing: the stable tasks and the one dbt task.
    assert result["tasks"]["dags/ntp_monthly.py"] == len(STABLE_TASKS) + 1
