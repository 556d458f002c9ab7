"""The `airflow` command for `ntp run`, without the interpreter's teardown at exit.

    python -m ntp.airflow_command dags test ntp_monthly 2024-01-01 --conf '{...}'

A month run by `airflow dags test` ends with Airflow, dbt, GX and pandas loaded in one process. When the
command is done, Python then spends seconds freeing every module and object one by one, none of it in Python
code, although the operating system reclaims the memory at once: on a 4-province month (load ≈ 2) the process
ended 7.6 s after `DagRun Finished`, and 0.4 s after it through this entry point. It runs Airflow's own
command line, waits for the threads that are not daemons, runs the exit handlers (logging's flush and close
among them) and flushes the standard streams, as Python's exit does, and then ends the process with
`os._exit`, skipping the teardown. Everything the run writes (the warehouse, Airflow's metadata, logs) is
committed or closed before.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def exit_code(exc: SystemExit) -> int:
    """The process exit status Python gives a `SystemExit` (None: 0; an int; anything else: 1, printed)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def main() -> None:
    from airflow.__main__ import main as airflow_main  # noqa: PLC0415 - Airflow only when the command runs

    code = 0
    try:
        airflow_main()
    except SystemExit as exc:
        code = exit_code(exc)
    # what Python's own exit does before the teardown: wait for the threads that are not daemons, run the
    # exit handlers
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
