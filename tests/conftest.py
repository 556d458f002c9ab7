"""Shared fixtures: one real embedded PostgreSQL per test session, in a temporary NTP_DATA_DIR."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An isolated NTP_DATA_DIR for the whole session; the default `.data/` is never touched."""
    path = tmp_path_factory.mktemp("ntp-data")
    os.environ["NTP_DATA_DIR"] = str(path)
    os.environ.pop("WAREHOUSE_URL", None)
    os.environ.pop("NTP_INBOX_DIR", None)
    return path


@pytest.fixture(scope="session")
def warehouse_url(data_dir: Path) -> Iterator[str]:
    """A real PostgreSQL (embedded, from the pgserver wheel) with the raw/audit schema created."""
    from ntp_core import warehouse

    server = warehouse.embedded()
    server.start()
    url = server.url()
    warehouse.bootstrap(url)
    yield url
    server.stop()


@pytest.fixture
def clean_warehouse(warehouse_url: str) -> str:
    """The session warehouse emptied of raw, audit and dbt-built rows, for tests that need a blank slate."""
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    return warehouse_url


DBT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


@pytest.fixture(scope="session")
def dbt(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Run the real dbt CLI against the session warehouse: `dbt("build", "--select", "…")`.

    Uses its own target/log paths so tests never disturb the checkout's manifest. Raises with dbt's
    output when the command fails; returns the completed process otherwise.
    """
    import subprocess
    import sys

    from ntp_core import warehouse

    target = tmp_path_factory.mktemp("dbt-target")
    env = dict(os.environ, **warehouse.libpq_env(warehouse_url), DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    dbt_bin = str(Path(sys.executable).parent / "dbt")

    def run(*args: str, check: bool = True, period: str | None = None) -> subprocess.CompletedProcess:
        """`period`: the report month as the monthly DAG gives it (NTP_DBT_PERIOD, not `--vars`), so that
        successive months reuse dbt's partial parse as they do in the DAG."""
        cmd = [
            dbt_bin,
            *args,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ]
        run_env = env if period is None else dict(env, NTP_DBT_PERIOD=period)
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
        return proc

    run.target = target  # type: ignore[attr-defined]  # run_results.json of the last call is there
    return run
