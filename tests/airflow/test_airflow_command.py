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
