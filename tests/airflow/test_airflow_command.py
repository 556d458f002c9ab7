"""`ntp run`'s `airflow` entry point (ntp/airflow_command.py) ends the process with `os._exit` after the
command: the real Airflow command line's output must still arrive whole, and its exit status be Airflow's own."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from ntp_core.settings import PROJECT_ROOT


def _airflow(args: list[str], home) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "ntp.airflow_command", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_output_flushed_and_status_kept(tmp_path):
    ok = _airflow(["version"], tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    # printed by Airflow just before `os._exit`: lost if the streams were not flushed first
    assert ok.stdout.strip().splitlines()[-1] == version("apache-airflow")

    bad = _airflow(["no-such-command"], tmp_path)
    assert bad.returncode == 2  # argparse's usage error, as `airflow no-such-command` gives
    assert "invalid choice" in bad.stderr


FROZEN_AT_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("frozen", gc.get_freeze_count()))
sys.argv = ["airflow", "version"]
from ntp import airflow_command
airflow_command.main()
"""


def test_survivors_of_full_collections_are_frozen(tmp_path):
    """The month's process freezes what survives each full collection (ntp_core/heap.py): Airflow's imports
    alone run several, and `airflow version` freezes nothing by itself."""
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path), "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    frozen = int(proc.stdout.strip().splitlines()[-1].split()[1])
    assert frozen > 100_000, frozen
