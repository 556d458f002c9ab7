"""The full stack: docker-compose.yml validates offline, carries the same settings as the embedded path,
needs its secrets from .env; the image's build steps (uv sync --frozen, dbt parse) work in a clean venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}


def _compose_cmd() -> list[str]:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    pytest.skip(
        "no docker-compose or `docker compose` client on this machine "
        "(Debian: apt-get install -y docker-compose); the file cannot be validated here"
    )


def _clean_env() -> dict[str, str]:
    """No variable of the stack leaks in from the caller: only the env file given counts."""
    names = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    return {k: v for k, v in os.environ.items() if k not in names}


def _config(env_file: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *_compose_cmd(),
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE),
            "--env-file",
            str(env_file),
            "config",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_clean_env(),
    )


@pytest.fixture(scope="module")
def config() -> dict:
    import yaml

    proc = _config(ROOT / ".env.example")
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


def test_compose_config_is_valid_with_the_example_env(config: dict) -> None:
    services = set(config["services"])
    assert AIRFLOW_SERVICES | {"warehouse", "airflow-db", "mailpit", "superset", "superset-init"} <= services


def test_airflow_services_share_the_project_image_and_settings(config: dict) -> None:
    services = config["services"]
    for name in AIRFLOW_SERVICES:
        svc = services[name]
        env = svc["environment"]
        assert svc["image"] == "ntp-warehouse:latest" and svc["build"]["dockerfile"] == "Dockerfile", name
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/ntp/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == "/opt/ntp/plugins"
        # The embedded path's variable names, pointing at the warehouse service.
        assert env["PGHOST"] == "warehouse" and env["NTP_DATA_DIR"] == "/data"
        for var in (
            "PGPORT",
            "PGUSER",
            "PGPASSWORD",
            "PGDATABASE",
            "NTP_SMTP_HOST",
            "NTP_SMTP_PORT",
            "NTP_ALERT_TO",
            "NTP_BI_PASSWORD",
            "NTP_SCHEDULE_DAY",
        ):
            assert var in env, (name, var)
        assert env["NTP_SMTP_HOST"] == "mailpit"
    commands = {n: " ".join(services[n]["command"]) for n in AIRFLOW_SERVICES}
    assert "airflow db migrate" in commands["airflow-init"]
    assert commands["airflow-dag-processor"] == "airflow dag-processor"
    assert commands["airflow-apiserver"] == "airflow api-server"
    assert services["superset-init"]["environment"]["NTP_BI_PASSWORD"]


def test_compose_refuses_to_start_without_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    proc = _config(empty)
    assert proc.returncode != 0
    assert "in .env" in proc.stderr


def test_env_example_lists_every_variable_without_default() -> None:
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert required <= example, required - example
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".data", "dbt_project/target", ".git"} <= ignored


@pytest.mark.slow
def test_image_build_steps_in_a_clean_venv(tmp_path: Path) -> None:
    """The Dockerfile's install and manifest steps, run the same way into a fresh venv and target path."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile and "dbt parse" in dockerfile
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if not uv:
        pytest.skip("uv is not installed on this machine")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(UV_PROJECT_ENVIRONMENT=str(venv), UV_LINK_MODE="copy", DBT_SEND_ANONYMOUS_USAGE_STATS="False")
    sync = subprocess.run([uv, "sync", "--frozen", "--no-dev"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert sync.returncode == 0, sync.stderr[-3000:]
    assert (venv / "bin" / "airflow").exists() and (venv / "bin" / "dbt").exists()
    # The checkout's own target/ is never touched: the manifest goes to a temporary target path.
    target = tmp_path / "target"
    parse = subprocess.run(
        [
            str(venv / "bin" / "dbt"),
            "parse",
            "--profiles-dir",
            ".",
            "--quiet",
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
    )
    assert parse.returncode == 0, parse.stdout[-3000:] + parse.stderr[-2000:]
    assert (target / "manifest.json").stat().st_size > 0
    probe = "import airflow, cosmos, dbt.version; print(airflow.__version__, cosmos.__version__)"
    version = subprocess.run([str(venv / "bin" / "python"), "-c", probe], env=env, capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("3."), version.stderr
