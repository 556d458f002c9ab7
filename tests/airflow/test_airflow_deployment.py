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
    pytest.fail(
        "no docker-compose or `docker compose` client on this machine: install Debian's docker-compose "
        "(.ci/install-debian-packages) to validate the compose file"
    )


def _clean_env() -> dict[str, str]:
    """No variable of the stack leaks in from the caller: only the env file given counts."""
    names = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    return {k: v for k, v in os.environ.items() if k not in names}


def _config(env_file: Path, *extra: str, profile: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *_compose_cmd(),
            *(["--profile", profile] if profile else []),
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
    expected = {"warehouse", "warehouse-init", "airflow-db", "mailpit", "superset", "superset-init"}
    assert AIRFLOW_SERVICES | expected <= services
    # The Celery services only come with their profile.
    for name in ("redis", "airflow-worker", "flower"):
        assert config["services"][name]["profiles"] == ["celery"], name


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
            "NTP_SLACK_WEBHOOK_URL",
            "NTP_ALERT_LANGUAGE",
        ):
            assert var in env, (name, var)
        assert env["NTP_SMTP_HOST"] == "mailpit"
        assert env["NTP_ALERT_LANGUAGE"] == "vi"
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


def _example_env() -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


def test_only_the_warehouse_and_its_init_job_know_the_superuser_password(config: dict) -> None:
    """Ingestion and dbt run as the pipeline role, a different role from the server's superuser `postgres`."""
    services = config["services"]
    admin_password = _example_env()["NTP_ADMIN_PASSWORD"]
    assert services["warehouse"]["environment"]["POSTGRES_PASSWORD"] == admin_password
    assert "POSTGRES_USER" not in services["warehouse"]["environment"]  # the superuser is `postgres`
    knowing = {name for name, svc in services.items() if admin_password in str(svc.get("environment", {}))}
    assert knowing == {"warehouse", "warehouse-init"}
    init = services["warehouse-init"]
    assert init["command"][:3] == ["ntp", "warehouse", "init"] and "postgres@warehouse" in init["command"][-1]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["PGUSER"] not in ("postgres", "") and env["PGPASSWORD"] != admin_password
        assert services[name]["depends_on"]["warehouse-init"]["condition"] == "service_completed_successfully"


def _published(svc: dict) -> list[str]:
    out = []
    for port in svc.get("ports", []):
        out.append(port if isinstance(port, str) else f"{port.get('host_ip', '')}:{port['published']}")
    return out


def test_warehouse_mailpit_and_flower_listen_on_the_loopback_only() -> None:
    proc = _config(ROOT / ".env.example", profile="celery")
    assert proc.returncode == 0, proc.stderr
    import yaml

    services = yaml.safe_load(proc.stdout)["services"]
    for name in ("warehouse", "mailpit", "flower"):
        ports = _published(services[name])
        assert ports and all(p.startswith("127.0.0.1:") for p in ports), (name, ports)
    assert all(not p.startswith("127.0.0.1:1025") for p in _published(services["mailpit"]))  # SMTP stays inside
    assert "ports" not in services["redis"]


def test_compose_settings_have_the_embedded_paths_names() -> None:
    """Every NTP_/PG variable the stack passes in is one the embedded path documents (README, Configuration)."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ", 5)]
    documented = set(re.findall(r"`((?:NTP|PG)[A-Z_]+)`", table))
    passed = set(re.findall(r"^  ((?:NTP|PG)[A-Z_]+):", COMPOSE.read_text(), re.M))
    assert {"NTP_SLACK_WEBHOOK_URL", "NTP_ALERT_LANGUAGE", "PGUSER", "NTP_BI_PASSWORD"} <= passed
    assert passed - {"NTP_HOST_INBOX", "NTP_WAREHOUSE_HOST_PORT"} <= documented, passed - documented


def test_example_values_are_refused_by_the_init_job() -> None:
    """`ntp warehouse init` (the warehouse-init job) stops while any value still contains change-me."""
    ntp = str(Path(sys.executable).parent / "ntp")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "NTP_", "WAREHOUSE_URL"))}
    env.update(_example_env(), PGHOST="warehouse.invalid", NTP_DATA_DIR=str(ROOT / ".data-never-created"))
    proc = subprocess.run(
        [ntp, "warehouse", "init", "--admin-url", "postgresql://postgres@warehouse.invalid/postgres"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2 and "change-me" in proc.stderr, proc.stderr
    for name in ("PGPASSWORD", "NTP_ADMIN_PASSWORD", "NTP_BI_PASSWORD", "AIRFLOW__CORE__FERNET_KEY"):
        assert name in proc.stderr
    assert "change-me-" not in proc.stderr  # names only, never the values
    assert not (ROOT / ".data-never-created").exists()


def test_celery_profile_is_valid_and_bounds_warehouse_tasks_with_a_pool() -> None:
    import yaml

    env_file = ROOT / ".env.example"
    proc = _config(env_file, profile="celery")
    assert proc.returncode == 0, proc.stderr
    services = yaml.safe_load(proc.stdout)["services"]
    assert {"redis", "airflow-worker", "flower"} <= set(services)
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert services["flower"]["command"] == ["airflow", "celery", "flower"]
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["image"] == services["airflow-scheduler"]["image"] == "ntp-warehouse:latest"
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "flower"):
        env = services[name]["environment"]
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
        assert env["AIRFLOW__CORE__EXECUTOR"] == _example_env()["AIRFLOW__CORE__EXECUTOR"]
    init = " ".join(services["airflow-init"]["command"])
    assert "airflow pools set ntp_warehouse" in init


def test_image_runs_as_an_unprivileged_user_with_a_private_data_folder() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert lines.index("USER airflow") < lines.index("COPY --chown=airflow:airflow . .")
    assert "&& chmod 0700 /data" in lines
