"""The BI tool (Apache Superset 6.1) on the embedded path: `ntp bi` / `make bi`.

Superset lives in its own environment, `.venv-bi` in the checkout (built with uv from `bi/requirements.txt`;
it cannot share the project's venv: its pins conflict with Airflow's). Its state lives under
`$NTP_DATA_DIR/superset`: the metadata database (SQLite), the secret key and the admin password, both
generated on first start with mode 0600. It reads the warehouse as the read-only role `ntp_bi`, whose
password is NTP_BI_PASSWORD or, when unset, one generated into `$NTP_DATA_DIR/bi-password` (0600) and set on
the role by the administrator's step of the embedded server (`ntp_core.warehouse.init`, a SCRAM verifier). The
dashboards come from `bi/` (ntp/bi_bundle.py) and are imported through Superset's REST API at every start.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests
from psycopg.conninfo import make_conninfo

from ntp.bi_bundle import DATABASE_FILE, Content, superset_uri
from ntp_core import warehouse
from ntp_core.settings import PROJECT_ROOT, Settings

BI_DIR = PROJECT_ROOT / "bi"
REQUIREMENTS = BI_DIR / "requirements.txt"
VENV = Path(os.environ.get("NTP_BI_VENV") or PROJECT_ROOT / ".venv-bi")
BI_ROLE = "ntp_bi"
ADMIN = "admin"
DBT_DIR = PROJECT_ROOT / "dbt_project"


class BIError(RuntimeError):
    """Superset could not be prepared or started; the message says what went wrong."""


def _secret_file(path: Path, nbytes: int = 24) -> str:
    """The secret kept in `path` (mode 0600), generated on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


# -- Superset's own environment -------------------------------------------------------------------
def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        raise BIError("uv is needed to build Superset's environment (make env installs it)")
    return found


# Part of the environment's fingerprint with the requirements: a change of how it is built rebuilds it.
INSTALL_RECIPE = "uv pip install, then compileall"


def ensure_venv(venv: Path = VENV) -> Path:
    """Build (or rebuild when bi/requirements.txt changed) Superset's environment; return its bin folder."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + INSTALL_RECIPE.encode()).hexdigest()
    marker = venv / ".requirements-sha256"
    if marker.exists() and marker.read_text() == digest:
        return venv / "bin"
    print(f"· building Superset's environment in {venv} (first run only)", flush=True)
    uv = _uv()
    steps = (
        [uv, "venv", "--quiet", "--allow-existing", "--python", "3.11", str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", str(REQUIREMENTS)],
    )
    for cmd in steps:
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise BIError(f"{' '.join(cmd[:3])} failed:\n{res.stderr[-3000:]}")
    # Compiled once here, so Superset's commands do not compile its modules at every start (where
    # PYTHONDONTWRITEBYTECODE is set nothing else would). Not checked: a module left uncompiled is only slower.
    site_packages = venv / "lib" / "python3.11" / "site-packages"
    subprocess.run([venv / "bin" / "python", "-m", "compileall", "-q", "-j", "0", site_packages], capture_output=True)
    marker.write_text(digest)
    return venv / "bin"


# -- state and secrets ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Paths:
    home: Path

    @classmethod
    def of(cls, settings: Settings) -> Paths:
        return cls(settings.data_dir / "superset")

    @property
    def secret_key_file(self) -> Path:
        return self.home / "secret-key"

    @property
    def admin_password_file(self) -> Path:
        return self.home / "admin-password"


def bi_password(settings: Settings) -> str:
    """NTP_BI_PASSWORD, else the one generated into $NTP_DATA_DIR/bi-password (0600)."""
    return os.environ.get("NTP_BI_PASSWORD") or _secret_file(settings.data_dir / "bi-password")


def bi_url(warehouse_url: str, password: str | None = None) -> str:
    """The BI role's connection (libpq conninfo): the warehouse's host, port and database, user ntp_bi, and
    its password only if given (never the pipeline's)."""
    parts = warehouse.conninfo_parts(warehouse_url)
    parts.pop("password", None)
    parts["user"] = BI_ROLE
    if password:
        parts["password"] = password
    return make_conninfo(**parts)


def _bi_can_log_in(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("select 1")
        return True
    except psycopg.OperationalError:
        return False


def ensure_bi_login(settings: Settings, warehouse_url: str, password: str) -> None:
    """Make sure ntp_bi logs in with `password`. On the embedded server the administrator's step
    (`warehouse.init`, which sends only a SCRAM verifier) sets it; on an external server that step is the
    administrator's (`ntp warehouse init --admin-url …` with NTP_BI_PASSWORD), so this only says so."""
    if _bi_can_log_in(bi_url(warehouse_url, password)):
        return
    if settings.warehouse_url:
        raise BIError(
            f"the role {BI_ROLE} cannot log in with NTP_BI_PASSWORD: an administrator sets it once with "
            "`NTP_BI_PASSWORD=… ntp warehouse init --admin-url …`"
        )
    print(f"· setting the password of the read-only role {BI_ROLE}", flush=True)
    server = warehouse.embedded(settings)
    warehouse.init(server.admin_url(), server.url(), bi_password=password)
    if not _bi_can_log_in(bi_url(warehouse_url, password)):
        raise BIError(f"the role {BI_ROLE} cannot log in to the warehouse")


# -- Superset processes -----------------------------------------------------------------------------
def superset_env(settings: Settings, paths: Paths) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(
        {
            "NTP_DATA_DIR": str(settings.data_dir),
            "SUPERSET_HOME": str(paths.home),
            "SUPERSET_CONFIG_PATH": str(BI_DIR / "superset_config.py"),
            "SUPERSET_SECRET_KEY": os.environ.get("SUPERSET_SECRET_KEY") or _secret_file(paths.secret_key_file, 42),
            "FLASK_APP": "superset",
            "SUPERSET_LOAD_EXAMPLES": "no",
        }
    )
    return env


def setup() -> int:
    """`ntp bi --setup`: Superset's environment and metadata template only (`make test` builds them up front,
    like the project's own venv, so the BI tests time Superset and not its installation)."""
    bin_dir = ensure_venv()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(SUPERSET_CONFIG_PATH=str(BI_DIR / "superset_config.py"), FLASK_APP="superset")
    with tempfile.TemporaryDirectory(prefix="ntp-superset-setup-") as home:
        env.update(SUPERSET_HOME=home, NTP_DATA_DIR=home)
        _metadata_template(bin_dir, env)
    return 0


#: Sets the admin's password in a copied metadata database, run by Superset's own Python (werkzeug's hash, as
#: `fab create-admin` and `fab reset-password` store it) without starting Superset; the password comes on stdin.
_SET_ADMIN_PASSWORD = """
import sqlite3, sys
from werkzeug.security import generate_password_hash
db, username = sys.argv[1:3]
with sqlite3.connect(db) as conn:
    cur = conn.execute("update ab_user set password = ? where username = ?",
                       (generate_password_hash(sys.stdin.read()), username))
sys.exit(0 if cur.rowcount == 1 else 3)
"""


def _metadata_template(bin_dir: Path, env: dict[str, str]) -> Path:
    """A migrated and initialised (`superset db upgrade` + `superset init`) metadata database with the admin user
    (`fab create-admin`, a throwaway password), built once per Superset environment and copied into each new data
    directory, where the admin gets its own password: the three steps take minutes on a busy machine and their
    result holds no secret (no connections; the template's password is discarded)."""
    digest = (VENV / ".requirements-sha256").read_text()[:12] if (VENV / ".requirements-sha256").exists() else "x"
    template = VENV / f"metadata-template-{digest}-admin.db"
    with open(VENV / ".metadata-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers build it once
        if template.exists():
            return template
        print("· preparing Superset's metadata schema (once per Superset environment, 1–3 minutes)", flush=True)
        partial = template.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        tmp_env = dict(env, SUPERSET_METADATA_URL=f"sqlite:///{partial}", SUPERSET_SECRET_KEY=secrets.token_urlsafe(42))
        for step in (["db", "upgrade"], ["init"], _create_admin_args(secrets.token_urlsafe(24))):
            res = subprocess.run([str(bin_dir / "superset"), *step], env=tmp_env, capture_output=True, text=True)
            if res.returncode != 0:
                raise BIError(f"superset {' '.join(step[:2])} failed:\n{res.stderr[-3000:]}")
        partial.rename(template)
    return template


def _create_admin_args(password: str) -> list[str]:
    return ["fab", "create-admin", "--username", ADMIN, "--firstname", "NTP", "--lastname", "Admin",
            "--email", "admin@example.org", "--password", password]  # fmt: skip


def initialise(bin_dir: Path, env: dict[str, str], paths: Paths) -> None:
    """Superset's metadata (schema and roles) and the admin user: once per data directory."""
    marker = paths.home / ".initialised"
    if marker.exists():
        return
    paths.home.mkdir(parents=True, exist_ok=True)
    superset = str(bin_dir / "superset")
    password = _secret_file(paths.admin_password_file)
    if env.get("SUPERSET_METADATA_URL"):  # an external metadata database: migrate it in place
        for step in (["db", "upgrade"], ["init"], _create_admin_args(password)):
            res = subprocess.run([superset, *step], env=env, capture_output=True, text=True)
            if res.returncode != 0:
                raise BIError(f"superset {' '.join(step[:2])} failed:\n{res.stderr[-3000:]}")
    else:
        database = paths.home / "superset.db"
        shutil.copyfile(_metadata_template(bin_dir, env), database)
        res = subprocess.run(
            [str(bin_dir / "python"), "-c", _SET_ADMIN_PASSWORD, str(database), ADMIN],
            input=password,
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            raise BIError(f"setting the Superset admin's password failed:\n{res.stderr[-3000:]}")
    marker.touch()


def start_server(bin_dir: Path, env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    """Superset's web server (gunicorn, one worker, threads) on 127.0.0.1:port; the caller stops it."""
    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - the server writes to it until stopped
    cmd = [
        str(bin_dir / "gunicorn"),
        "--workers", "1", "--worker-class", "gthread", "--threads", "8", "--timeout", "120", "--graceful-timeout", "10",
        "--bind", f"127.0.0.1:{port}", "--limit-request-line", "0", "--limit-request-field_size", "0",
        "superset.app:create_app()",
    ]  # fmt: skip
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(log_path.parent))


def wait_ready(base_url: str, proc: subprocess.Popen | None, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BIError(f"Superset exited with code {proc.returncode} before it was ready")
        try:
            if requests.get(f"{base_url}/health", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise BIError(f"Superset did not answer on {base_url} within {timeout:.0f} s")


# -- the REST API -------------------------------------------------------------------------------
class Client:
    """A logged-in session on Superset's REST API (JWT + CSRF token), as the import and the tests use it."""

    def __init__(self, base_url: str, username: str, password: str):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        res = self.http.post(
            f"{self.base}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=60,
        )
        if not res.ok:
            raise BIError(f"login to Superset as {username} failed: HTTP {res.status_code}")
        self.http.headers["Authorization"] = f"Bearer {res.json()['access_token']}"
        csrf = self.http.get(f"{self.base}/api/v1/security/csrf_token/", timeout=60).json()["result"]
        self.http.headers.update({"X-CSRFToken": csrf, "Referer": self.base})

    def get(self, path: str, **params) -> dict:
        res = self.http.get(f"{self.base}{path}", params=params or None, timeout=120)
        res.raise_for_status()
        return res.json()

    def post(self, path: str, body: dict) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body, timeout=300)

    def import_bundle(self, bundle: bytes, db_password: str) -> None:
        res = self.http.post(
            f"{self.base}/api/v1/assets/import/",
            files={"bundle": ("ntp_bi.zip", bundle, "application/zip")},
            data={"passwords": json.dumps({DATABASE_FILE: db_password})},
            timeout=300,
        )
        if not res.ok:
            raise BIError(f"importing the dashboards failed: HTTP {res.status_code} {res.text[:2000]}")


def import_content(client: Client, warehouse_url: str, password: str, content: Content | None = None) -> None:
    """Import every dataset, chart and dashboard of bi/, connected to the warehouse as ntp_bi."""
    parts = warehouse.conninfo_parts(warehouse_url)
    database = str(parts.get("dbname") or warehouse.DATABASE)
    uri = superset_uri(str(parts.get("host") or "127.0.0.1"), int(parts.get("port") or 5432), database, BI_ROLE)
    content = content or Content()
    defaults: dict[str, str] = {}
    try:
        with psycopg.connect(bi_url(warehouse_url, password), connect_timeout=10) as conn:
            for spec in content.dashboard_specs:
                for f in spec.get("filters", []):
                    row = conn.execute(content.filter_default_sql(f)).fetchone()
                    if row and row[0] is not None:
                        defaults[f["key"]] = str(row[0])
    except psycopg.Error as err:  # marts not built yet (a fresh deployment): filters start empty
        print(f"· dashboard filters without a default value ({type(err).__name__})", flush=True)
    client.import_bundle(content.bundle(uri, defaults), password)
    for dash in content.dashboards():
        if dash.config.get("filters"):
            _scope_native_filters(client, dash.slug)


def _scope_native_filters(client: Client, slug: str) -> None:
    """Point the dashboard's native filters at its charts. The import format keeps chart references by UUID,
    but a filter's `chartsInScope` holds chart ids, which only exist once the charts are imported."""
    dashboard = client.get(f"/api/v1/dashboard/{slug}")["result"]
    chart_ids = sorted(c["id"] for c in client.get(f"/api/v1/dashboard/{slug}/charts")["result"])
    metadata = json.loads(dashboard["json_metadata"] or "{}")
    for native_filter in metadata.get("native_filter_configuration", []):
        native_filter["chartsInScope"] = chart_ids
    res = client.http.put(
        f"{client.base}/api/v1/dashboard/{dashboard['id']}", json={"json_metadata": json.dumps(metadata)}, timeout=120
    )
    if not res.ok:
        raise BIError(f"scoping the filters of {slug} failed: HTTP {res.status_code} {res.text[:500]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_marts(url: str) -> None:
    with warehouse.connect(url) as conn:
        built = conn.execute("select to_regclass('marts.mart_disbursement_national')").fetchone()
        if not (built and built[0]):
            raise BIError("the marts are not built yet: run `make demo` (or `ntp run --period …`) first")


def start(settings: Settings, *, port: int = 0) -> Server:
    """Superset's environment and metadata prepared (no warehouse needed) and its web server started and
    answering; the caller loads the dashboards (`load`) and stops it (`stop`). Nothing here reads the warehouse,
    so a caller may start Superset while the marts are still being built."""
    bin_dir = ensure_venv()
    paths = Paths.of(settings)
    env = superset_env(settings, paths)
    initialise(bin_dir, env, paths)
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(bin_dir, env, port, paths.home / "superset.log")
    try:
        wait_ready(base, proc)
        client = Client(base, ADMIN, paths.admin_password_file.read_text().strip())
    except BaseException:
        stop(proc)
        raise
    return Server(base, client, paths, warehouse.url(settings, start=False), proc)


def load(settings: Settings, server: Server) -> None:
    """The dashboards of bi/ imported into a started Superset, connected to the built marts as ntp_bi."""
    check_marts(server.warehouse_url)
    password = bi_password(settings)
    ensure_bi_login(settings, server.warehouse_url, password)
    import_content(server.client, server.warehouse_url, password)


def stop(proc: subprocess.Popen) -> None:
    """Stop the web server at once (gunicorn's quick shutdown, SIGINT, as Ctrl-C does): it holds no state to flush."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def running(settings: Settings, *, port: int = 0) -> Iterator[Server]:
    """Superset prepared, started and loaded with the dashboards of bi/; stopped on exit."""
    url = warehouse.url(settings)
    check_marts(url)
    ensure_bi_login(settings, url, bi_password(settings))
    server = start(settings, port=port)
    try:
        load(settings, server)
        yield server
    finally:
        stop(server.proc)


@dataclass
class Server:
    base: str
    client: Client
    paths: Paths
    warehouse_url: str
    proc: subprocess.Popen


def _default_port() -> int:
    """NTP_BI_PORT, else 8088 (the address dbt's exposures link to) when free, else any free port."""
    if os.environ.get("NTP_BI_PORT"):
        return int(os.environ["NTP_BI_PORT"])
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8088))
            return 8088
        except OSError:
            return _free_port()


def serve(settings: Settings, *, port: int = 0) -> int:
    """`ntp bi`: prepare, start Superset, import the dashboards, print where to look; run until Ctrl-C."""
    try:
        with running(settings, port=port or _default_port()) as server:
            print(f"\nSuperset is running: {server.base}/dashboard/list/  (log {server.paths.home / 'superset.log'})")
            print(f"  login:      {ADMIN} / the password in {server.paths.admin_password_file}")
            bi_target = warehouse.redact(bi_url(server.warehouse_url))
            print(f"  warehouse:  {bi_target} (read-only; password: NTP_BI_PASSWORD or the data dir)")
            for dash in Content().dashboards():
                print(f"  {dash.lang}: {server.base}/superset/dashboard/{dash.slug}/  {dash.title}")
            print("Ctrl-C stops it.", flush=True)
            server.proc.wait()
    except KeyboardInterrupt:
        pass
    return 0


def import_into(settings: Settings, base_url: str) -> int:
    """`ntp bi --import-into URL`: load the dashboards of bi/ into a Superset already running (docker-compose's
    superset-init job). Admin password from SUPERSET_ADMIN_PASSWORD, ntp_bi's from NTP_BI_PASSWORD."""
    admin_password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if not admin_password:
        raise BIError("set SUPERSET_ADMIN_PASSWORD (the Superset admin's password)")
    base = base_url.rstrip("/")
    wait_ready(base, None, timeout=600)
    import_content(Client(base, ADMIN, admin_password), warehouse.url(settings), bi_password(settings))
    print(f"dashboards of bi/ imported into {base} (warehouse as {BI_ROLE})")
    return 0
