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

Under `dags test` the Task Execution API runs inside this process, and its only client is this process's task
runner, which speaks one version of it: the Task SDK's. Airflow's app builds the routes of every version it
supports on its first request (Cadwyn: ≈ 3 s of each month's run, nine versions); here it builds the SDK's
version and the few older ones Cadwyn needs to place the endpoints the newest version moved (≈ 1.1 s). The
routes and schemas of the SDK's version are Airflow's own: nothing is served differently to this client.

The process runs one month and ends, so what survives each full garbage collection is frozen
(ntp_core/heap.py): the collections walk only what was made since instead of the whole heap again.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import TYPE_CHECKING

from ntp_core.heap import freeze_survivors

if TYPE_CHECKING:
    from cadwyn import Version, VersionBundle


def exit_code(exc: SystemExit) -> int:
    """The process exit status Python gives a `SystemExit` (None: 0; an int; anything else: 1, printed)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def task_sdk_versions(bundle: VersionBundle, sdk_version: str) -> tuple[list[Version], str] | None:
    """The versions of the execution API `bundle` (Cadwyn's `VersionBundle`, newest first) that the in-process
    app needs for a client speaking `sdk_version`: from the newest, which must be `sdk_version`, down to the
    oldest one that brings back an endpoint the newest versions moved or removed (Cadwyn refuses to build the
    routes without it), and the value of the version below that one, to stand as the first version. None
    when that cannot be made out: the bundle is then used whole."""
    from cadwyn.structure.endpoints import EndpointExistedInstruction  # noqa: PLC0415 - with Airflow's app

    dated = list(bundle.versions)
    if not dated or dated[0].value != sdk_version or bundle.head_version.changes:
        return None
    restoring = [
        i
        for i, version in enumerate(dated)
        for change in version.changes
        if any(isinstance(step, EndpointExistedInstruction) for step in change.alter_endpoint_instructions)
    ]
    last = max(restoring, default=0)
    if last + 1 >= len(dated):
        return None
    return dated[: last + 1], dated[last + 1].value


def serve_the_task_sdk_version() -> None:
    """Have the in-process Task Execution API of `dags test` build the Task SDK's version of its routes and
    what Cadwyn needs with it, not every version (module docstring). Left whole when anything does not look
    as expected."""
    try:
        from airflow.api_fastapi.execution_api import versions  # noqa: PLC0415
        from airflow.sdk.api.datamodels._generated import API_VERSION  # noqa: PLC0415
        from cadwyn import HeadVersion, Version, VersionBundle  # noqa: PLC0415
        from cadwyn.exceptions import CadwynError  # noqa: PLC0415

        picked = task_sdk_versions(versions.bundle, API_VERSION)
    except (ImportError, AttributeError, TypeError):
        return
    if picked is None:
        return
    kept, first = picked
    changes = [change for version in kept for change in version.changes]
    bound = [change._bound_version_bundle for change in changes]
    for change in changes:  # a version change belongs to one bundle: released from the whole one
        change._bound_version_bundle = None
    try:
        versions.bundle = VersionBundle(HeadVersion(), *kept, Version(first))
    except CadwynError:
        for change, was in zip(changes, bound, strict=True):
            change._bound_version_bundle = was


def main() -> None:
    freeze_survivors()  # before Airflow's imports: their full collections are the first it saves
    from airflow.__main__ import main as airflow_main  # noqa: PLC0415 - Airflow only when the command runs

    if sys.argv[1:3] == ["dags", "test"]:
        serve_the_task_sdk_version()
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
