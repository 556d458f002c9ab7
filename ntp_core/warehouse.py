"""The warehouse connection: an external PostgreSQL (WAREHOUSE_URL / PG*) or the embedded one.

Least privilege: at run time the pipeline connects as its own role (`ntp` by default), which owns the
warehouse database and its schemas and has no SUPERUSER, CREATEROLE or CREATEDB. Creating that role,
the database and the read-only BI role `ntp_bi` is a one-time administrator step, `init()` (`ntp warehouse
init --admin-url …`, or the SQL in docs/operations.md); the embedded server does it itself at start.
Passwords are sent to the server only as SCRAM-SHA-256 verifiers computed on the client.

The embedded server is PostgreSQL 16 from the `pgserver` wheel, run with its own binaries under
`$NTP_DATA_DIR/warehouse`, listening on 127.0.0.1 on a port chosen at first start (BI tools and
Airflow Asset URIs need a TCP host). Its superuser and pipeline passwords are generated at first start
and kept in that folder, created with mode 0600 (folder 0700): nothing secret lives in the repository.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ntp_core.settings import Settings, private_dir
from ntp_core.settings import load as load_settings

DATABASE = "ntp"
SUPERUSER = "postgres"
PIPELINE_ROLE = "ntp"
BI_ROLE = "ntp_bi"
SCHEMA_SQL = Path(__file__).resolve().parent / "sql" / "schema.sql"
#: An unprivileged account every Linux system has, for PostgreSQL's own processes when started by root.
NOBODY = 65534


class WarehouseError(RuntimeError):
    """The warehouse could not be reached or started; the message says what to do."""


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH  # noqa: PLC0415 - pgserver loads only for the embedded server

    return str(POSTGRES_BIN_PATH / name)


def unprivileged_prefix() -> list[str]:
    """The command prefix that runs PostgreSQL's programs, which refuse to run as root, when we are root.

    Root's uid is mapped to `nobody` in a new user namespace (util-linux `unshare`): inside, PostgreSQL
    sees a non-root owner of its data directory; outside, its processes act as the owner of the files
    they already own and lose every capability. No system user is created and no folder's mode changes.
    """
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if not unshare:
        raise WarehouseError("running as root needs util-linux `unshare` to start PostgreSQL (or run as a user)")
    return [unshare, "--user", f"--map-user={NOBODY}", f"--map-group={NOBODY}", "--"]


def write_secret(path: Path, text: str) -> None:
    """Write a secret file that is mode 0600 from its creation on (never readable by others, not even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file of the same name keeps its mode on O_TRUNC
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def conninfo_parts(target: str) -> dict[str, str]:
    """A URL or conninfo as libpq's keywords, every value as text (the absent ones left out)."""
    return {k: str(v) for k, v in conninfo_to_dict(target).items() if v is not None}


def redact(warehouse_url: str) -> str:
    """The connection target without its password, for messages and for the user to read."""
    parts = conninfo_parts(warehouse_url)
    parts.pop("password", None)
    user = quote(parts.pop("user", ""), safe="")
    host = parts.pop("host", "")
    port = parts.pop("port", "")
    dbname = quote(parts.pop("dbname", ""), safe="")
    netloc = (f"{user}@" if user else "") + (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    extra = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in sorted(parts.items()))
    return f"postgresql://{netloc}/{dbname}" + (f"?{extra}" if extra else "")


class EmbeddedServer:
    """Start, stop and describe the embedded PostgreSQL under one data directory."""

    def __init__(self, pgdata: Path):
        self.pgdata = pgdata
        self.cluster = pgdata / "cluster"
        self.password_file = pgdata / "superuser-password"
        self.pipeline_password_file = pgdata / "pipeline-password"
        self.passfile = pgdata / "pgpass"
        self.port_file = pgdata / "port"
        self.log_file = pgdata / "postgres.log"

    # -- state -------------------------------------------------------------------------------
    def password(self) -> str:
        """The superuser's password (administration only: nothing connects as the superuser at run time)."""
        return self.password_file.read_text().strip()

    def pipeline_password(self) -> str:
        if not self.pipeline_password_file.exists():  # a data directory from before the pipeline role
            write_secret(self.pipeline_password_file, secrets.token_urlsafe(24))
        return self.pipeline_password_file.read_text().strip()

    def port(self) -> int:
        """The port of the running server (postmaster.pid, line 4), else the one recorded for next start."""
        pid_file = self.cluster / "postmaster.pid"
        if pid_file.exists():
            lines = pid_file.read_text().splitlines()
            if len(lines) > 3 and lines[3].strip().isdigit():
                return int(lines[3])
        return int(self.port_file.read_text().strip())

    def admin_url(self, database: str = "postgres") -> str:
        """The superuser's connection: only for the one-time setup of roles and the database."""
        return make_conninfo(
            host="127.0.0.1", port=self.port(), user=SUPERUSER, password=self.password(), dbname=database
        )

    def url(self, database: str = DATABASE) -> str:
        """The pipeline's connection (role `ntp`, no superuser rights)."""
        pw = quote(self.pipeline_password(), safe="")
        return f"postgresql://{PIPELINE_ROLE}:{pw}@127.0.0.1:{self.port()}/{database}"

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*unprivileged_prefix(), _bin("pg_ctl"), "-D", str(self.cluster), *args], capture_output=True, text=True
        )

    def is_running(self) -> bool:
        if not (self.cluster / "postmaster.pid").exists():
            return False
        return self._ctl("status").returncode == 0

    # -- lifecycle ---------------------------------------------------------------------------
    def _init(self) -> None:
        private_dir(self.pgdata)
        write_secret(self.password_file, secrets.token_urlsafe(24))
        write_secret(self.pipeline_password_file, secrets.token_urlsafe(24))
        pwfile = self.pgdata / ".initdb-pw"
        write_secret(pwfile, self.password())
        try:
            subprocess.run(
                [
                    *unprivileged_prefix(),
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
        """Start the server (initialising it the first time) and run the one-time setup of roles and database."""
        if not (self.cluster / "PG_VERSION").exists():
            self._init()
        if self.is_running():
            if not self.passfile.exists():  # a data directory from before the pipeline role: set it up once
                self._setup()
            return
        if not self.port_file.exists():
            write_secret(self.port_file, str(_free_port()))
        log = self.log_file
        args = ["-l", str(log), "-w", "-t", "60", "-o", f"-p {self.port()}", "start"]
        res = self._ctl(*args)
        if res.returncode != 0 and not self.is_running():
            # The recorded port may have been taken by something else since: pick a new one once.
            write_secret(self.port_file, str(_free_port()))
            args[-2] = f"-p {self.port()}"
            res = self._ctl(*args)
        if res.returncode != 0:
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise WarehouseError(f"the embedded PostgreSQL did not start:\n{res.stderr}\n{tail}")
        self._setup()

    def _setup(self) -> None:
        init(self.admin_url(), self.url(), bi_password=os.environ.get("NTP_BI_PASSWORD") or None)
        # For psql and BI tools: `PGPASSFILE=<this file> psql postgresql://ntp@127.0.0.1:<port>/ntp`.
        write_secret(self.passfile, f"127.0.0.1:*:*:{PIPELINE_ROLE}:{self.pipeline_password()}\n")

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running():
            return
        self._ctl("-m", mode, "-w", "stop")


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


def connection_hint(settings: Settings | None = None, *, start: bool = True) -> str:
    """How to connect with psql or a BI tool, with no password in it (the embedded one is in a PGPASSFILE)."""
    settings = settings or load_settings()
    target = redact(url(settings, start=start))
    if settings.warehouse_url:
        return f"psql '{target}'  (password: PGPASSWORD or ~/.pgpass)"
    return f"PGPASSFILE={embedded(settings).passfile} psql '{target}'"


EXAMPLE_VALUE = "change-me"


def refuse_example_values(environ: dict[str, str] | os._Environ) -> None:
    """A deployment still carrying a `change-me` value from .env.example does not start (names only are shown)."""
    left = sorted(name for name, value in environ.items() if EXAMPLE_VALUE in value)
    if left:
        raise WarehouseError(f"replace the example values in .env first (still {EXAMPLE_VALUE}): {', '.join(left)}")


def init_from_cli(settings: Settings, admin_url: str | None) -> int:
    """`ntp warehouse init`: the administrator's one-time step on an external server (or the embedded one)."""
    refuse_example_values(os.environ)
    bi_password = os.environ.get("NTP_BI_PASSWORD") or None
    if not settings.warehouse_url:
        if admin_url:
            raise WarehouseError("--admin-url is for an external server (WAREHOUSE_URL or PGHOST): none is set")
        server = embedded(settings)
        server.start()
        bootstrap(server.url())
        print(f"embedded warehouse ready: {connection_hint(settings)}")
        return 0
    if not admin_url:
        raise WarehouseError("`ntp warehouse init` on an external server needs --admin-url (a role with CREATEROLE)")
    admin = conninfo_parts(admin_url)
    if not admin.get("password") and os.environ.get("NTP_ADMIN_PASSWORD"):
        admin["password"] = os.environ["NTP_ADMIN_PASSWORD"]
    init(make_conninfo(**admin), settings.warehouse_url, bi_password=bi_password)
    bootstrap(settings.warehouse_url)
    bi = "can log in (NTP_BI_PASSWORD)" if bi_password else "exists without a password (NOLOGIN)"
    print(f"pipeline role and database ready: {redact(settings.warehouse_url)}; BI role {BI_ROLE} {bi}")
    return 0


def libpq_env(warehouse_url: str) -> dict[str, str]:
    """The PG* variables dbt's profile and other libpq clients read, derived from one URL or conninfo."""
    parts = conninfo_parts(warehouse_url)
    env = {
        "PGHOST": parts.get("host") or "127.0.0.1",
        "PGPORT": parts.get("port") or "5432",
        "PGUSER": parts.get("user") or PIPELINE_ROLE,
        "PGDATABASE": parts.get("dbname") or DATABASE,
    }
    if parts.get("password"):
        env["PGPASSWORD"] = parts["password"]
    return env


def connect(warehouse_url: str | None = None, **kwargs) -> psycopg.Connection:
    target = warehouse_url or url()
    deadline = time.monotonic() + 10
    while True:
        try:
            return psycopg.connect(target, **kwargs)
        except psycopg.OperationalError as err:
            if time.monotonic() > deadline:
                raise WarehouseError(f"cannot connect to the warehouse at {redact(target)}: {err}") from err
            time.sleep(0.5)


def _verifier(conn: psycopg.Connection, role: str, password: str) -> sql.Literal:
    """A SCRAM-SHA-256 verifier computed by libpq on this side: the password itself never reaches the server
    (nor its statement log, nor dbt's)."""
    return sql.Literal(conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode())


def init(admin_url: str, pipeline_url: str, *, bi_password: str | None = None) -> None:
    """The one-time administrator step, idempotent: the pipeline role (LOGIN, no SUPERUSER, CREATEROLE or
    CREATEDB) owning the warehouse database and its schemas, and the BI role `ntp_bi` (LOGIN only with a
    password). Run by `ntp warehouse init --admin-url …` and by the embedded server at start; never by a DAG.
    """
    target = conninfo_parts(pipeline_url)
    role, password = target.get("user") or PIPELINE_ROLE, target.get("password")
    database = target.get("dbname") or DATABASE
    with connect(admin_url, autocommit=True) as admin:
        if admin.info.user == role:
            raise WarehouseError(f"the administrator ({role}) cannot be the pipeline role: use another role")
        admin.execute("select pg_advisory_lock(7302)")
        if not admin.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            admin.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        admin.execute(
            sql.SQL("alter role {} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls").format(
                sql.Identifier(role)
            )
        )
        if password:
            admin.execute(
                sql.SQL("alter role {} password {}").format(sql.Identifier(role), _verifier(admin, role, password))
            )
        if not admin.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone():
            admin.execute(
                sql.SQL("create role {} nologin nosuperuser nocreatedb nocreaterole noinherit").format(
                    sql.Identifier(BI_ROLE)
                )
            )
        if bi_password:
            admin.execute(
                sql.SQL("alter role {} login password {}").format(
                    sql.Identifier(BI_ROLE), _verifier(admin, BI_ROLE, bi_password)
                )
            )
        if not admin.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
            admin.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(database), sql.Identifier(role)))
        admin.execute(sql.SQL("alter database {} owner to {}").format(sql.Identifier(database), sql.Identifier(role)))
    with connect(make_conninfo(admin_url, dbname=database), autocommit=True) as db:
        ids = {"db": sql.Identifier(database), "role": sql.Identifier(role), "bi": sql.Identifier(BI_ROLE)}
        # Nobody else connects or creates temporary tables; BI reads marts only (granted by the pipeline).
        db.execute(sql.SQL("revoke connect, temporary on database {db} from public").format(**ids))
        db.execute(sql.SQL("revoke all on database {db} from {bi}").format(**ids))
        db.execute(sql.SQL("grant connect on database {db} to {bi}").format(**ids))
        db.execute("revoke create on schema public from public")
        # Schemas and tables left by an earlier superuser-run version pass to the pipeline role.
        db.execute(OWNERSHIP_SQL.format(role=sql.Literal(role)))


OWNERSHIP_SQL = sql.SQL("""
do $own$
declare
    r record;
    owner text := {role};
begin
    for r in select n.nspname from pg_namespace n
             where n.nspname not like 'pg\\_%' and n.nspname not in ('information_schema', 'public')
               and pg_get_userbyid(n.nspowner) <> owner loop
        execute format('alter schema %I owner to %I', r.nspname, owner);
    end loop;
    for r in select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname not like 'pg\\_%' and n.nspname not in ('information_schema', 'public')
               and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and pg_get_userbyid(c.relowner) <> owner
               and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                               and d.objid = c.oid and d.deptype in ('a', 'i')) loop
        execute format('alter %s %I.%I owner to %I',
                       case r.relkind when 'v' then 'view' when 'm' then 'materialized view'
                                      when 'S' then 'sequence' when 'f' then 'foreign table' else 'table' end,
                       r.nspname, r.relname, owner);
    end loop;
end
$own$
""")


def bootstrap(warehouse_url: str | None = None) -> None:
    """Create the pipeline's schemas, raw and audit tables (as the pipeline role); idempotent, safe to run
    before every load. Roles are not created here: see `init`."""
    with connect(warehouse_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(7301)")
        try:
            conn.execute(SCHEMA_SQL.read_text())
        finally:
            conn.execute("select pg_advisory_unlock(7301)")
