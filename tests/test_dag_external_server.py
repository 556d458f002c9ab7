"""The monthly DAG on a separate PostgreSQL server with least privilege (not the embedded one).

A throwaway cluster is started from Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin) on a random
port with SCRAM passwords; `ntp warehouse init --admin-url …` (the administrator's one-time step) creates a
pipeline role that owns the database and has no SUPERUSER, CREATEROLE or CREATEDB, and `ntp_bi`. Then the
real DAG (`ntp run`) runs one small month through WAREHOUSE_URL. The findings equal those of the same files
loaded into an embedded server and built by dbt, the planted mismatch is among them, and no connection
during the run is made as the administrator.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from ntp_core.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

NTP = str(Path(sys.executable).parent / "ntp")
DBT = str(Path(sys.executable).parent / "dbt")
MONTH = date(2024, 3, 1)
PIPELINE = "etl_owner"
ADMIN = "dba"
PLANTED_DELTA = 987_654_321
FINDING_COLUMNS = (
    "finding_key, rule_id, severity, subject, period, province_code, component_key, fund_source, capital_type, "
    "plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd, source_file, "
    "source_sheet, source_row, status"
)


def _debian_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        message = (
            "Debian's PostgreSQL binaries (/usr/lib/postgresql/*/bin) are missing: install the `postgresql` "
            "package (.ci/install-debian-packages) to run the DAG against a separate server"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, base: Path):
        from ntp_core import warehouse

        self.bindir = _debian_bindir()
        base.mkdir(mode=0o700)
        self.prefix = warehouse.unprivileged_prefix()
        self.pgdata, self.log = base / "cluster", base / "server.log"
        self.port = _free_port()
        self.admin_password = secrets.token_urlsafe(18)
        # Characters a URL would break on: the pipeline's password goes through WAREHOUSE_URL, dbt and Airflow.
        self.pipeline_password = secrets.token_urlsafe(12) + "/#%?@:"
        pwfile = base / "admin-password"
        warehouse.write_secret(pwfile, self.admin_password)
        self._run(
            "initdb", "-D", str(self.pgdata), "-U", ADMIN, "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"
        )
        pwfile.unlink()
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c log_connections=on"
        self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-w", "-o", opts, "start")

    def _run(self, program: str, *args: str) -> None:
        proc = subprocess.run([*self.prefix, str(self.bindir / program), *args], capture_output=True, text=True)
        assert proc.returncode == 0, f"{program}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "stop"],
            capture_output=True,
        )

    def admin(self, dbname: str = "postgres") -> str:
        return make_conninfo(host="127.0.0.1", port=self.port, user=ADMIN, password=self.admin_password, dbname=dbname)

    def pipeline(self) -> str:
        return make_conninfo(
            host="127.0.0.1", port=self.port, user=PIPELINE, password=self.pipeline_password, dbname="ntp_ext"
        )


def _plant_allocation_mismatch(month_dir: Path) -> dict:
    """Add PLANTED_DELTA to the first current-year allocation of one Treasury extract."""
    for path in sorted(month_dir.glob("KBNN_*.csv")):
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            if row["nam_kh"] == row["ky_bao_cao"][:4] and int(row["du_toan_giao"]) > 0:
                row["du_toan_giao"] = str(int(row["du_toan_giao"]) + PLANTED_DELTA)
                with open(path, "w", newline="", encoding="utf-8") as f:
                    writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
                    writer.writeheader()
                    writer.writerows(rows)
                return row
    raise AssertionError(f"no Treasury extract with a current-year line in {month_dir}")


def _findings(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f"select {FINDING_COLUMNS} from marts.fct_findings order by finding_key").fetchall()


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "WAREHOUSE_URL", "NTP_", "AIRFLOW"))}
    env.update(NTP_DATA_DIR=str(data), DBT_SEND_ANONYMOUS_USAGE_STATS="False", **extra)
    return env


def _embedded_findings(base: Path, inbox: Path) -> list[tuple]:
    """The same files through the same loader and dbt project on an embedded server (no Airflow)."""
    from ingestion.inbox import files_for_period
    from ingestion.load import ingest_file
    from ntp_core import warehouse

    server = warehouse.EmbeddedServer(base / "embedded" / "warehouse")
    server.start()
    try:
        url = server.url()
        warehouse.bootstrap(url)
        for path in files_for_period(inbox, MONTH, url):
            ingest_file(path, warehouse_url=url, run_period=MONTH)
        env = dict(_env(base / "embedded"), **warehouse.libpq_env(url))
        target = base / "embedded-dbt"
        dbt_dir = PROJECT_ROOT / "dbt_project"
        proc = subprocess.run(
            [DBT, "build", "--vars", f"{{period: '{MONTH:%Y-%m}'}}", "--project-dir", str(dbt_dir)]
            + ["--profiles-dir", str(dbt_dir), "--target-path", str(target), "--log-path", str(target / "logs")],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout[-5000:]
        return _findings(url)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[tuple]]:
    """One generated month of two provinces with a planted mismatch, and its findings on an embedded server."""
    from generator import generate

    base = tmp_path_factory.mktemp("month")
    inbox = base / "inbox"
    generate(inbox, [MONTH], provinces=["11", "12"], scale="small", seed=7, messy=0, plant_rate=0.0)
    planted = _plant_allocation_mismatch(inbox / f"{MONTH:%Y-%m}")
    baseline = _embedded_findings(base, inbox)
    a01 = [f for f in baseline if f[1] == "NTP-A01"]
    assert len(a01) == 1 and a01[0][5] == planted["ma_tinh"] and a01[0][14] == -PLANTED_DELTA, a01
    return inbox, planted, baseline


def test_the_dag_on_a_separate_server_as_a_non_superuser_owner_finds_the_same(month, tmp_path: Path):
    inbox, _, baseline = month
    cluster = Cluster(tmp_path / "external")
    try:
        data = tmp_path / "data"
        env = _env(data, WAREHOUSE_URL=cluster.pipeline(), NTP_BI_PASSWORD="bi-external-test-only")
        admin_url = f"postgresql://{ADMIN}@127.0.0.1:{cluster.port}/postgres"
        init = subprocess.run(
            [NTP, "warehouse", "init", "--admin-url", admin_url],
            env=dict(env, NTP_ADMIN_PASSWORD=cluster.admin_password),
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
        )
        assert init.returncode == 0, init.stdout + init.stderr
        for secret in (cluster.admin_password, cluster.pipeline_password, "bi-external-test-only"):
            assert secret not in init.stdout + init.stderr
        with psycopg.connect(cluster.admin()) as admin:
            role = admin.execute(
                "select rolsuper, rolcreaterole, rolcreatedb, rolcanlogin from pg_roles where rolname = %s",
                (PIPELINE,),
            ).fetchone()
            owner = admin.execute(
                "select pg_get_userbyid(datdba) from pg_database where datname = 'ntp_ext'"
            ).fetchone()
        assert role == (False, False, False, True) and owner == (PIPELINE,)

        log_start = cluster.log.stat().st_size
        run = subprocess.run(
            [NTP, "run", "--period", f"{MONTH:%Y-%m}", "--inbox", str(inbox)],
            env=env,
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
        )
        assert run.returncode == 0 and "success" in run.stdout, run.stdout[-5000:] + run.stderr[-3000:]
        assert not (data / "warehouse").exists()  # no embedded server was started: the external one was used
        with open(cluster.log, encoding="utf-8", errors="replace") as f:
            f.seek(log_start)
            users = set(re.findall(r"connection authorized: user=(\S+)", f.read()))
        assert users == {PIPELINE}, users  # at run time nothing connects as the administrator

        external = _findings(cluster.pipeline())
        with psycopg.connect(cluster.pipeline()) as conn:
            schemas = dict(
                conn.execute(
                    "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                    "where nspname in ('raw', 'audit', 'staging', 'marts', 'reference', 'quality')"
                ).fetchall()
            )
        assert set(schemas.values()) == {PIPELINE} and {"raw", "audit", "marts"} <= set(schemas)
    finally:
        cluster.stop()

    assert external == baseline
    shutil.rmtree(tmp_path / "external", ignore_errors=True)


# -- the same month on Airflow's CeleryExecutor: Redis broker, two workers -------------------------------


def _wait_http(url: str, procs: list[subprocess.Popen], timeout: float = 600) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p.args for p in procs if p.poll() is not None]
        assert not dead, f"exited early: {dead}"
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(2)
    raise AssertionError(f"{url} did not answer")


def test_the_dag_on_celery_with_two_workers_finds_the_same(month, tmp_path: Path):
    """Debian's redis-server as the broker, an api-server, two `airflow celery worker`s and the DAG run sent
    to them by `airflow dags test --use-executor`; Airflow's metadata in PostgreSQL (SQLite serves one process)."""
    from ntp.orchestrate import airflow_env, ensure_airflow_db
    from ntp_core import warehouse
    from ntp_core.settings import Settings

    redis_server = shutil.which("redis-server")
    if not redis_server:
        message = "Debian's redis-server is missing (.ci/install-debian-packages): the Celery run cannot be tested"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    inbox, _, baseline = month
    data = tmp_path / "data"
    server = warehouse.EmbeddedServer(data / "warehouse")
    procs: list[subprocess.Popen] = []
    try:
        server.start()
        url = server.url()
        warehouse.bootstrap(url)
        meta_password = secrets.token_urlsafe(18)
        with psycopg.connect(server.admin_url(), autocommit=True) as admin:
            verifier = admin.pgconn.encrypt_password(meta_password.encode(), b"airflow_meta", b"scram-sha-256")
            admin.execute(f"create role airflow_meta login password '{verifier.decode()}'")
            admin.execute("create database airflow_meta owner airflow_meta")
        meta = f"airflow_meta:{meta_password}@127.0.0.1:{server.port()}/airflow_meta"
        redis_port, api_port = _free_port(), _free_port()
        settings = Settings(data_dir=data, inbox_dir=inbox, warehouse_url=None)
        env = airflow_env(settings, url)
        env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://{meta}",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg://{meta}",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__CORE__FERNET_KEY": "",
                # the run conf's inbox must lie inside the workers' configured inbox root (as `ntp run` sets it)
                "NTP_INBOX_DIR": str(inbox),
            }
        )
        env = {k: v for k, v in env.items() if k != "NTP_BI_PASSWORD"}
        ensure_airflow_db(env)
        airflow = str(Path(sys.executable).parent / "airflow")
        logs = tmp_path / "logs"
        logs.mkdir()

        def spawn(name: str, cmd: list[str], **extra: str) -> None:
            out = open(logs / f"{name}.out", "w")  # noqa: SIM115 - closed with the process
            procs.append(subprocess.Popen(cmd, env=dict(env, **extra), stdout=out, stderr=subprocess.STDOUT))

        spawn("redis", [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""])
        spawn("api", [airflow, "api-server", "--port", str(api_port), "--workers", "1"])
        for n in (1, 2):
            worker_cmd = [airflow, "celery", "worker", "-H", f"w{n}@%h", "-c", "2", "--skip-serve-logs"]
            spawn(
                f"worker{n}",
                [*worker_cmd, "--pid", str(tmp_path / f"w{n}.pid")],
                AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(logs / f"worker{n}"),
            )
        _wait_http(f"http://127.0.0.1:{api_port}/api/v2/version", procs)
        conf = json.dumps({"period": f"{MONTH:%Y-%m}", "inbox": str(inbox)})
        run = subprocess.run(
            [airflow, "dags", "test", "--use-executor", "ntp_monthly", MONTH.isoformat(), "--conf", conf],
            env=env,
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
        )
        with psycopg.connect(f"postgresql://{meta}") as conn:
            state = conn.execute("select state from dag_run where dag_id = 'ntp_monthly'").fetchall()
            failed = conn.execute(
                "select task_id from task_instance where dag_id = 'ntp_monthly' and state <> 'success' "
                "and state is not null and state <> 'skipped'"
            ).fetchall()
        assert state == [("success",)] and not failed, (state, failed, run.stdout[-3000:], run.stderr[-3000:])
        # Both workers ran tasks: each wrote task logs into its own folder.
        for n in (1, 2):
            assert list((logs / f"worker{n}").rglob("*.log")), f"worker {n} ran no task"
        assert _findings(url) == baseline
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()
