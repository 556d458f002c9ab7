"""R3 under the real DAG: the Airflow process running the `ingest_files` task is SIGKILLed while that task's
COPY streams into PostgreSQL; the month's next run leaves the warehouse equal to a clean run's.

`ntp run` executes `ntp_monthly` with `airflow dags test`, whose task runner executes each task in the
Airflow process: the process holding the COPY's connection is found from the server side (the COPY's client
port), checked to be that Airflow process, and killed — the task process itself, not a wrapper around the
loader. Then `ntp run` again
(the same DAG run id, replaced) must give exactly the marts and raw tables of a clean run of the same
inbox on another instance. Small month: two provinces' reports, plus one large Treasury extract of a third
province so that the COPY lasts long enough to be caught.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psutil
import pytest

from ntp_core.settings import PROJECT_ROOT

from . import support

pytestmark = pytest.mark.slow

NTP = str(Path(sys.executable).parent / "ntp")
MONTH = "2024-02"
BIG = "KBNN_14_202402.csv"
BIG_LINES = 600_000


def _ntp_run(data: Path, inbox: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [NTP, "run", "--period", MONTH, "--inbox", str(inbox)],
        env=support.private_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT_ROOT,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=1800)
    return proc.returncode, out


def _copy_client_pid(url: str, run: subprocess.Popen) -> int | None:
    """The process of `run` whose connection is running a COPY, if one is (matched by the client port)."""
    rows = support.query(
        url,
        "select client_port from pg_stat_activity where datname = current_database() and query ilike 'copy %%' "
        "and state = 'active' and client_port > 0",
    )
    ports = {r[0] for r in rows}
    if not ports:
        return None
    for proc in psutil.Process(run.pid).children(recursive=True):
        try:
            if any(c.laddr and c.laddr.port in ports for c in proc.net_connections(kind="tcp")):
                return proc.pid
        except psutil.NoSuchProcess:
            continue
    return None


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from generator import generate

    base = tmp_path_factory.mktemp("rel-kill")
    generate(base / "gen", [date(2024, 2, 1)], provinces=["11", "12"], scale="small", seed=11, messy=0)
    inbox = base / "inbox"
    shutil.copytree(base / "gen" / MONTH, inbox)
    support.big_extract(inbox / BIG, BIG_LINES)
    return inbox


def test_task_process_killed_mid_copy_then_rerun_equals_a_clean_run(inbox: Path, tmp_path: Path):
    clean_data, killed_data = tmp_path / "clean", tmp_path / "killed"
    server = support.start_private_server(clean_data)
    try:
        code, out = _finish(_ntp_run(clean_data, inbox))
        assert code == 0 and "success" in out, out[-4000:]
        want_marts = support.marts_checksums(server.url(), by_content=True)
        want_raw = support.raw_fingerprint(server.url(), with_ids=False)
    finally:
        server.stop()
    assert want_raw["raw.treasury_lines"][0] > BIG_LINES

    server = support.start_private_server(killed_data)
    try:
        url = server.url()
        run = _ntp_run(killed_data, inbox)
        victim = None
        deadline = time.monotonic() + 1200
        while victim is None:
            assert run.poll() is None, "the run ended before its COPY was caught:\n" + run.stdout.read()[-4000:]
            assert time.monotonic() < deadline, "no COPY seen"
            victim = _copy_client_pid(url, run)
            time.sleep(0.02)
        name = " ".join(psutil.Process(victim).cmdline())
        os.kill(victim, signal.SIGKILL)
        code, out = _finish(run)
        assert code != 0, out[-3000:]  # the month did not pretend to succeed
        assert "airflow" in name, name  # the killed process was Airflow's task process, not a loader script
        # the server rolls the dead task's transaction back: nothing of the big extract, no partial rows
        deadline = time.monotonic() + 60
        while support.query(url, "select count(*) from pg_stat_activity where query ilike 'copy %%'") != [(0,)]:
            assert time.monotonic() < deadline, "the killed task's backend never went away"
            time.sleep(0.2)
        assert support.query(url, "select count(*) from raw.treasury_lines where ma_tinh = '14'") == [(0,)]
        assert support.query(url, "select count(*) from audit.files where original_name = %s", (BIG,)) == [(0,)]

        code, out = _finish(_ntp_run(killed_data, inbox))  # the retry: the month run again
        assert code == 0 and "success" in out, out[-4000:]
        assert support.raw_fingerprint(url, with_ids=False) == want_raw
        assert support.marts_checksums(url, by_content=True) == want_marts
    finally:
        server.stop()
