"""The `airflow` command for `ntp run`, without the interpreter's teardown at exit.

    python -m ntp.airflow_command dags test ntp_monthly 2024-01-01 --conf '{...}'

A month run by `airflow dags test` ends with Airflow, dbt, GX and pandas loaded in one process. When the
command is done, Python then spends seconds freeing every module and object one by one (5–7 s measured after
`DagRun Finished`, none of it in Python code), although the operating system reclaims the memory at once.
This entry point runs Airflow's own command line, then the exit handlers (logging's flush and close among
them) and flushes the standard streams, and only then ends the process with `os._exit`, skipping that
teardown. Everything the run writes (the warehouse, Airflow's metadata, logs) is committed or closed before.
"""

from __future__ import annotations

import atexit
import os
import sys


def exit_code(exc: SystemExit) -> int:
    """The process exit status Python gives a `SystemExit` (None: 0; an int; anything else: 1, printed)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def main() -> None:
    from airflow.__main__ import main as airflow_main

    code = 0
    try:
        airflow_main()
    except SystemExit as exc:
        code = exit_code(exc)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
