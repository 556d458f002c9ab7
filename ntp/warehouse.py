"""The warehouse connection: an external PostgreSQL (WAREHOUSE_URL / PG*) or the embedded one.

The embedded server is PostgreSQL 16 from the `pgserver` wheel, run with its own binaries under
`$NTP_DATA_DIR/warehouse`, listening on 127.0.0.1 on a port chosen at first start (BI tools and
Airflow Asset URIs need a TCP host). The superuser password is generated at first start and kept in
the data directory with mode 0600: nothing secret lives in the repository.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg

from ntp.settings import Settings
from ntp.settings import load as load_settings

DATABASE = "ntp"
SUPERUSER = "postgres"
SCHEMA_SQL = Path(__file__).resolve().parent.parent / "ingestion" / "sql" / "schema.sql"


class WarehouseError(RuntimeError):
    """The warehouse could not be reached or started; the message says what to do."""


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _run_as_postgres_user() -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists("pgserver")
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    import stat

    ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return "pgserver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedServer:
    """Start, stop and describe the embedded PostgreSQL under one data directory."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.cluster = pgdata / "cluster"
        self.password_file = pgdata / "superuser-password"
        self.port_file = pgdata / "port"
        self.log_file = pgdata / "postgres.log"

    # -- state -------------------------------------------------------------------------------
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def port(self) -> int:
        """The port of the running server (postmaster.pid, line 4), else the one recorded for next start."""
        pid_file = self.cluster / "postmaster.pid"
        if pid_file.exists():
            lines = pid_file.read_text().splitlines()
            if len(lines) > 3 and lines[3].strip().isdigit():
                return int(lines[3])
        return int(self.port_file.read_text().strip())

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{SUPERUSER}:{quote(self.password(), safe='')}@127.0.0.1:{self.port()}/{database}"

    def is_running(self) -> bool:
        if not (self.cluster / "postmaster.pid").exists():
            return False
        res = subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.cluster), "status"], capture_output=True, user=_run_as_postgres_user()
        )
        return res.returncode == 0

    # -- lifecycle ---------------------------------------------------------------------------
    def _init(self, user: str | None) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.password_file.write_text(secrets.token_urlsafe(24))
        self.password_file.chmod(0o600)
        pwfile = self.pgdata / ".initdb-pw"
        pwfile.write_text(self.password())
        self.cluster.mkdir(exist_ok=True)
        if user:
            import pwd

            entry = pwd.getpwnam(user)
            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.cluster)
            for p in (self.cluster, pwfile):
                os.chown(p, entry.pw_uid, entry.pw_gid)
        try:
            subprocess.run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.cluster),
                    "-U",
                    SUPERUSER,
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                ],
                check=True,
                capture_output=True,
                text=True,
                user=user,
            )
        except subprocess.CalledProcessError as err:
            raise WarehouseError(f"initdb failed under {self.cluster}:\n{err.stderr}") from err
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.cluster / "postgresql.conf", "a") as conf:
            # A monitoring warehouse on a laptop: modest memory, fast bulk loads.
            conf.write(
                "\nshared_buffers = 256MB\nwork_mem = 64MB\nmaintenance_work_mem = 256MB\n"
                "max_wal_size = 2GB\nlisten_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
            )

    def start(self) -> None:
        user = _run_as_postgres_user()
        if not (self.cluster / "PG_VERSION").exists():
            self._init(user)
        if self.is_running():
            return
        if user:
            # pytest and tmp cleaners reset parent folder modes; the server user must traverse them.
            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.cluster)
        if not self.port_file.exists():
            self.port_file.write_text(str(_free_port()))
        log = self.log_file
        if user:
            log.touch()
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(log, entry.pw_uid, entry.pw_gid)
        cmd = [
            _bin("pg_ctl"),
            "-D",
            str(self.cluster),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port()}",
            "start",
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, user=user)
        if res.returncode != 0 and not self.is_running():
            # The recorded port may have been taken by something else since: pick a new one once.
            self.port_file.write_text(str(_free_port()))
            cmd[-2] = f"-p {self.port()}"
            res = subprocess.run(cmd, capture_output=True, text=True, user=user)
        if res.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise WarehouseError(f"the embedded PostgreSQL did not start:\n{res.stderr}\n{tail}")
        self._ensure_database()

    def _ensure_database(self) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            if not conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
                conn.execute(f'create database "{DATABASE}"')

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running():
            return
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.cluster), "-m", mode, "-w", "stop"],
            capture_output=True,
            text=True,
            user=_run_as_postgres_user(),
        )


def embedded(settings: Settings | None = None) -> EmbeddedServer:
    settings = settings or load_settings()
    return EmbeddedServer(settings.embedded_pgdata)


def url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The warehouse URL: the external one when configured, else the embedded one (started if asked)."""
    settings = settings or load_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    server = embedded(settings)
    if start:
        server.start()
    elif not server.password_file.exists():
        raise WarehouseError("the embedded warehouse has never been started: run `ntp warehouse up`")
    return server.url()


def libpq_env(warehouse_url: str) -> dict[str, str]:
    """The PG* variables dbt's profile and other libpq clients read, derived from one URL."""
    parts = urlsplit(warehouse_url)
    from urllib.parse import unquote

    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or SUPERUSER),
        "PGDATABASE": (parts.path or "/").lstrip("/") or DATABASE,
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def connect(warehouse_url: str | None = None, **kwargs) -> psycopg.Connection:
    target = warehouse_url or url()
    deadline = time.monotonic() + 10
    while True:
        try:
            return psycopg.connect(target, **kwargs)
        except psycopg.OperationalError as err:
            if time.monotonic() > deadline:
                safe = urlsplit(target)._replace(netloc=urlsplit(target).hostname or "").geturl()
                raise WarehouseError(f"cannot connect to the warehouse at {safe}: {err}") from err
            time.sleep(0.5)


def bootstrap(warehouse_url: str | None = None) -> None:
    """Create schemas, raw and audit tables and roles; idempotent, safe to run before every load."""
    with connect(warehouse_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(7301)")
        try:
            conn.execute(SCHEMA_SQL.read_text())
        finally:
            conn.execute("select pg_advisory_unlock(7301)")
