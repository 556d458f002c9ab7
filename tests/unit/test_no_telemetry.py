"""Nothing phones home: dbt sends no usage events whatever the environment, and the embedded path sets the
same telemetry switches as docker-compose.yml (no database needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SWITCHES = ("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "DBT_SEND_ANONYMOUS_USAGE_STATS", "DO_NOT_TRACK")

# dbt as the DAG invokes it (in-process), on a command that needs no database; then what dbt decided.
PROBE = """
import json, sys
from dbt.cli.main import dbtRunner
from dbt import tracking
res = dbtRunner().invoke(["debug", "--config-dir", "--project-dir", sys.argv[1], "--log-path", sys.argv[2]])
print(json.dumps({"success": res.success, "do_not_track": tracking.active_user.do_not_track}))
"""


def test_dbt_sends_no_usage_events_without_the_environment_switches(tmp_path: Path) -> None:
    """`make` and docker-compose set DO_NOT_TRACK; a shell, a cron job or a test may not. The project's own
    flag must hold then: dbt's tracker stays off and writes no cookie."""
    env = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    env["DBT_PROFILES_DIR"] = str(tmp_path)  # where dbt would write its tracking cookie (.user.yml)
    (tmp_path / "profiles.yml").write_text((ROOT / "dbt_project" / "profiles.yml").read_text())
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "dbt_project"), str(tmp_path / "logs")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert outcome == {"success": True, "do_not_track": True}
    assert not (tmp_path / ".user.yml").exists()
    assert "Sending event" not in (tmp_path / "logs" / "dbt.log").read_text()


def test_the_embedded_path_sets_the_telemetry_switches_of_docker_compose(tmp_path: Path, monkeypatch) -> None:
    from ntp.orchestrate import airflow_env
    from ntp_core.settings import load

    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)  # make exports them: the embedded path must set them itself
    monkeypatch.setenv("NTP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    env = airflow_env(load(), "postgresql://ntp@127.0.0.1:5432/ntp")

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    compose_env = {**compose["x-ntp-env"], **compose["x-airflow-common"]["environment"]}
    assert {name: compose_env[name] for name in SWITCHES} == {
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    assert {name: env[name] for name in SWITCHES} == {name: compose_env[name] for name in SWITCHES}
