"""`ntp run` says why a month failed: the exception that ended each failed task, read from the
`airflow dags test` output, with credentials in URLs masked."""

from __future__ import annotations

from ntp.orchestrate import _FailureTracker

# The shape of Airflow 3.3's `dags test` output around a failed task (timestamps and loggers shortened).
OUTPUT = """\
2026-12-01T18:23:20.765557Z [info     ] [DAG TEST] starting task_id=dbt_build map_index=-1 [airflow.sdk]
2026-12-01T18:23:21.000000Z [info     ] [DAG TEST] end task task_id=dbt_build map_index=-1 [airflow.sdk]
2026-12-01T18:23:22.765557Z [info     ] [DAG TEST] starting task_id=build_alert map_index=-1 [airflow.sdk]
2026-12-01T18:23:23.458175Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/urllib/request.py", line 1348, in do_open
    h.request(req.get_method(), req.selector, req.data, headers,
ConnectionRefusedError: [Errno 111] Connection refused

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/x/urllib/request.py", line 1351, in do_open
    raise URLError(err)
urllib.error.URLError: <urlopen error [Errno 111] Connection refused>
2026-12-01T18:23:23.464374Z [info     ] ::group::Post Execute          [task] loc=task_runner.py:1677
2026-12-01T18:23:24.000000Z [info     ] [DAG TEST] starting task_id=prepare_warehouse map_index=-1 [airflow.sdk]
2026-12-01T18:23:24.100000Z [error    ] Task failed with exception     [task] loc=task_runner.py:1676
Traceback (most recent call last):
  File "/x/psycopg/connection.py", line 1, in connect
psycopg.OperationalError: connection to postgresql://ntp:test-only%2Fpw@127.0.0.1:5432/ntp failed
2026-12-01T18:23:24.200000Z [info     ] ::group::Post Execute          [task] loc=task_runner.py:1677
"""


def _errors(text: str) -> dict[str, str]:
    tracker = _FailureTracker()
    for line in text.splitlines(keepends=True):
        tracker.feed(line)
    return tracker.errors


def test_each_failed_task_is_named_with_its_final_exception() -> None:
    assert _errors(OUTPUT) == {
        "build_alert": "urllib.error.URLError: <urlopen error [Errno 111] Connection refused>",
        "prepare_warehouse": "psycopg.OperationalError: connection to postgresql://ntp:***@127.0.0.1:5432/ntp failed",
    }


def test_a_run_without_failures_reports_none() -> None:
    ok = "\n".join(line for line in OUTPUT.splitlines()[:3]) + "\n"
    assert _errors(ok) == {}
