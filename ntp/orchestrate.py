"""Running the real Airflow DAG `ntp_monthly` for one month from the command line (`ntp run`).

Airflow gets its own home under `$NTP_DATA_DIR/airflow` (SQLite metadata, no scheduler needed):
`airflow dags test` executes one DAG run in-process, task by task, exactly as the DAG defines it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from ntp.dbt_results import results_path
from ntp_core import warehouse
from ntp_core.periods import parse_period
from ntp_core.settings import PROJECT_ROOT, WAREHOUSE_POOL, WAREHOUSE_POOL_SLOTS, Settings, load

DAG_ID = "ntp_monthly"
DBT_DIR = PROJECT_ROOT / "dbt_project"
VENV_BIN = Path(sys.executable).parent


def airflow_env(settings: Settings, warehouse_url: str) -> dict[str, str]:
    """The environment of every Airflow and dbt process of the embedded path."""
    home = settings.airflow_home
    env = dict(os.environ)
    env.update(
        {
            "NTP_DATA_DIR": str(settings.data_dir),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env.get(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"
            ),
            # No usage events from Cosmos or dbt (dbt_project.yml also says so): as docker-compose.yml.
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            # Cosmos' partial-parse cache is local state too: keep it per instance.
            "AIRFLOW__COSMOS__CACHE_DIR": str(settings.data_dir / "cosmos-cache"),
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "DBT_PROFILES_DIR": str(DBT_DIR),
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    if not settings.warehouse_url:
        env["WAREHOUSE_URL"] = warehouse_url
    env.update(warehouse.libpq_env(warehouse_url))
    return env


def ensure_airflow_db(env: dict[str, str]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    if not marker.exists():
        if not _copy_metadata_template(env):
            print("· preparing Airflow metadata database (first run only)", flush=True)
            _migrate(env)
        marker.touch()
    ensure_pool(env)


def _migrate(env: dict[str, str]) -> None:
    res = subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")


def metadata_template() -> Path:
    """Where the migrated, empty SQLite metadata database of this Airflow version is kept for new homes."""

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ntp-warehouse"
    return cache / f"airflow-{version('apache-airflow')}-metadata.db"


def _copy_metadata_template(env: dict[str, str]) -> bool:
    """A new home on the default SQLite metadata gets a copy of a database migrated once per Airflow version
    (with the warehouse pool at its default size) instead of running `airflow db migrate` again: the
    migration is the same for every home and costs ≈ 10 s of CPU. False when the metadata is elsewhere."""

    home = Path(env["AIRFLOW_HOME"])
    target = home / "airflow.db"
    if env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") != f"sqlite:///{target}" or target.exists():
        return False
    template = metadata_template()
    if not template.exists():
        print("· preparing the Airflow metadata template (once per Airflow version)", flush=True)
        template.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=template.parent) as tmp:
            db = Path(tmp) / "airflow.db"
            tmp_env = dict(env, AIRFLOW_HOME=tmp, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{db}")
            tmp_env.pop("NTP_WAREHOUSE_POOL_SLOTS", None)
            _migrate(tmp_env)
            ensure_pool(tmp_env)
            os.replace(db, template)  # atomic: a concurrent first run makes its own and one wins
    partial = home / "airflow.db.partial"
    shutil.copyfile(template, partial)
    os.replace(partial, target)
    (home / f".pool-{WAREHOUSE_POOL}-{WAREHOUSE_POOL_SLOTS}").touch()  # the template's pool
    return True


def ensure_pool(env: dict[str, str]) -> None:
    """The pool bounding warehouse-heavy tasks (docker-compose's airflow-init sets the same); once per size."""
    slots = env.get("NTP_WAREHOUSE_POOL_SLOTS") or str(WAREHOUSE_POOL_SLOTS)
    marker = Path(env["AIRFLOW_HOME"]) / f".pool-{WAREHOUSE_POOL}-{slots}"
    if marker.exists():
        return
    cmd = [str(VENV_BIN / "airflow"), "pools", "set", WAREHOUSE_POOL, slots, "warehouse-heavy tasks (loads, dbt)"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"airflow pools set failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    marker.touch()


def ensure_dbt_manifest(env: dict[str, str]) -> None:
    """Cosmos renders the dbt tasks from target/manifest.json; build it if the checkout has none."""
    manifest = DBT_DIR / "target" / "manifest.json"
    sources = [
        DBT_DIR / "dbt_project.yml",
        *(p for d in ("models", "macros", "seeds", "tests") for p in (DBT_DIR / d).rglob("*") if p.is_file()),
    ]
    if manifest.exists() and manifest.stat().st_mtime >= max(p.stat().st_mtime for p in sources):
        return
    print("· parsing the dbt project (manifest for Cosmos: missing or older than the models)", flush=True)
    res = subprocess.run(
        [str(VENV_BIN / "dbt"), "parse", "--project-dir", str(DBT_DIR)], env=env, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise RuntimeError(f"dbt parse failed:\n{res.stdout[-3000:]}")


# `airflow dags test` records the run's start_date as its logical date (airflow.sdk DAG.test passes
# start_date=logical_date), so the UI shows a report month run as lasting months. Put the real start back.
_REAL_START = """
import sys
from datetime import datetime
from sqlalchemy import update
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session

dag_id, logical_date, started_at = sys.argv[1], datetime.fromisoformat(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
with create_session() as session:
    session.execute(
        update(DagRun)
        .where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date, DagRun.start_date == logical_date)
        .values(start_date=started_at)
    )
"""


def record_real_start(env: dict[str, str], logical_date: str, started_at: datetime) -> None:
    """Set the start_date of the run `airflow dags test` just made to when it really started."""
    conn = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
    if conn.startswith("sqlite:///"):  # the embedded default: one UPDATE, not a Python process importing Airflow
        _record_real_start_sqlite(Path(conn.removeprefix("sqlite:///")), logical_date, started_at)
        return
    logical = datetime.fromisoformat(logical_date).replace(tzinfo=UTC).isoformat()
    cmd = [str(VENV_BIN / "python"), "-c", _REAL_START, DAG_ID, logical, started_at.isoformat()]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:  # cosmetic metadata only: never fail a month for it
        print(f"  (could not record the run's real start time: {res.stderr.strip()[-300:]})", flush=True)


def _record_real_start_sqlite(db: Path, logical_date: str, started_at: datetime) -> None:
    """The same UPDATE on Airflow's SQLite metadata, whose timestamps are naive UTC text."""

    stamp = "%Y-%m-%d %H:%M:%S.%f"
    logical = datetime.fromisoformat(logical_date).strftime(stamp)
    started = started_at.astimezone(UTC).strftime(stamp)
    try:
        with closing(sqlite3.connect(db, timeout=30)) as meta, meta:
            meta.execute(
                "update dag_run set start_date = ? where dag_id = ? and logical_date = ? and start_date = logical_date",
                (started, DAG_ID, logical),
            )
    except sqlite3.Error as err:  # cosmetic metadata only: never fail a month for it
        print(f"  (could not record the run's real start time: {err})", flush=True)


_TASK_STATE = re.compile(r"Task instance state updated .*?new_state=(\w+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=([\w.]+) map_index=(-?\d+)")
_RUN_DONE = re.compile(r"DagRun Finished: .*?state=(\w+)")
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=([\w.]+)")
_TASK_FAILED = "Task failed with exception"
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
_CREDENTIALS = re.compile(r"(://[^:/@\s]*):[^@\s]*@")


class _FailureTracker:
    """The last line of each failed task's traceback in the `airflow dags test` output (the exception), so a
    failed month says why without opening the log. Credentials in URLs are masked."""

    def __init__(self) -> None:
        self.task: str | None = None
        self.in_traceback = False
        self.last = ""
        self.errors: dict[str, str] = {}

    def feed(self, line: str) -> None:
        started = _TASK_START.search(line)
        if started:
            self.task = started.group(1)
        if _TASK_FAILED in line:
            self.in_traceback, self.last = True, ""
            return
        if not self.in_traceback:
            return
        if _LOG_LINE.match(line):
            self.in_traceback = False
            if self.task and self.last:
                self.errors[self.task] = _CREDENTIALS.sub(r"\1:***@", self.last)[:300]
        elif line.strip() and not line.startswith((" ", "\t", "Traceback")):
            self.last = line.strip()


def run_month(period_text: str, *, inbox: str | None = None, force_alert: bool = False, quiet: bool = False) -> int:
    """Run `ntp_monthly` for one report month; print progress and a summary; 0 when the run succeeded."""
    settings = load()
    period = parse_period(period_text)
    label = period.strftime("%Y-%m")
    url = warehouse.url(settings)
    warehouse.bootstrap(url)
    env = airflow_env(settings, url)
    ensure_airflow_db(env)
    ensure_dbt_manifest(env)

    inbox_dir = str(Path(inbox).resolve()) if inbox else str(settings.inbox_dir)
    env["NTP_INBOX_DIR"] = inbox_dir  # the operator's --inbox is this run's configured inbox root
    conf = {"period": label, "inbox": inbox_dir, "force_alert": force_alert}
    log_dir = settings.data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"ntp_monthly-{label}.log"
    print(f"▶ ntp_monthly {label} (inbox {inbox_dir})", flush=True)
    started = time.monotonic()
    started_at = datetime.now(UTC)
    # `airflow dags test`, through an entry point that skips the interpreter's teardown (ntp/airflow_command.py)
    airflow = [str(VENV_BIN / "python"), "-m", "ntp.airflow_command"]
    cmd = [*airflow, "dags", "test", DAG_ID, period.isoformat(), "--conf", json.dumps(conf)]
    state = None
    task_state = "done"
    mapped: dict[str, Counter] = {}
    failures = _FailureTracker()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(PROJECT_ROOT)
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            failures.feed(line)
            s = _TASK_STATE.search(line)
            if s:
                task_state = s.group(1)
            m = _TASK_END.search(line)
            if m and not quiet:
                if m.group(2) != "-1":  # a mapped task: one line per file would drown the progress
                    mapped.setdefault(m.group(1), Counter())[task_state] += 1
                    continue
                _print_mapped(mapped)
                print(f"  {task_state:15s} {m.group(1)}", flush=True)
            r = _RUN_DONE.search(line)
            if r:
                state = r.group(1)
        proc.wait()
    record_real_start(env, period.isoformat(), started_at)
    _print_mapped(mapped)
    elapsed = time.monotonic() - started
    ok = proc.returncode == 0 and state == "success"
    mark = "✔" if ok else "✘"
    print(f"{mark} ntp_monthly {label}: {state or 'no result'} in {elapsed:.0f} s (log {log_path})")
    if not ok:
        for task_id, error in failures.errors.items():
            print(f"  {task_id}: {error}")
    if ok:
        _print_summary(label, url, settings)
    return 0 if ok else 1


def _print_mapped(mapped: dict[str, Counter]) -> None:
    """One line per mapped task (e.g. ingest_file over the month's files): how many ended in which state."""
    for task_id, states in mapped.items():
        detail = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        print(f"  {'mapped':15s} {task_id} ×{sum(states.values())}: {detail}", flush=True)
    mapped.clear()


def _print_summary(label: str, url: str, settings: Settings) -> None:
    period = parse_period(label)
    with warehouse.connect(url) as conn:
        files = conn.execute(
            "select status, count(*) from audit.files where coalesce(period, run_period) = %s group by 1 order by 1",
            (period,),
        ).fetchall()
        findings = []
        if (conn.execute("select to_regclass('marts.fct_findings')").fetchone() or (None,))[0]:
            findings = conn.execute(
                "select severity, status, count(*) from marts.fct_findings where period = %s"
                " group by 1, 2 order by 1, 2",
                (period,),
            ).fetchall()
    print("  files:    " + (", ".join(f"{n} {s}" for s, n in files) or "none"))
    print("  findings: " + (", ".join(f"{n} {sev} {st}" for sev, st, n in findings) or "none"))
    dbt = results_path(label)
    if dbt.exists():
        nodes = json.loads(dbt.read_text(encoding="utf-8"))["nodes"]
        slowest = ", ".join(f"{n['name']} {n['seconds']:.1f} s" for n in nodes[:3])
        print(f"  dbt:      {len(nodes)} nodes (models, tests, hooks); slowest: {slowest} (all: {dbt})")
    print(f"  alert:    {settings.reports_dir / label / 'alert.html'}")


def months_between(first: str, last: str) -> list[str]:
    """Report months from `first` to `last` inclusive, YYYY-MM."""
    start, end = parse_period(first), parse_period(last)
    if end < start:
        raise ValueError(f"--to {last} is before --from {first}")
    months = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def backfill(first: str, last: str, *, inbox: str | None = None) -> int:
    """Run `ntp_monthly` for each month from `first` to `last`, oldest first, one DAG run per month, as the
    scheduler's `airflow backfill create --max-active-runs 1` does. Stops at the first failed month (the
    findings history of later months depends on it) and says how to resume."""
    months = months_between(first, last)
    print(f"backfill ntp_monthly: {len(months)} month(s), {months[0]} … {months[-1]}", flush=True)
    for month in months:
        code = run_month(month, inbox=inbox)
        if code != 0:
            print(
                f"backfill stopped at {month}; fix it, then resume with `ntp backfill --from {month} --to {months[-1]}`"
            )
            return code
    return 0


def airflow_ui(*, port: int = 0) -> int:
    """`ntp airflow-ui`: Airflow's api-server (the UI) on the embedded path's own metadata under
    $AIRFLOW_HOME ($NTP_DATA_DIR/airflow), showing the runs `ntp run` made, their task logs and the dbt group.
    Login: user admin, password generated by Airflow into $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated."""
    settings = load()
    url = warehouse.url(settings)
    env = airflow_env(settings, url)
    ensure_airflow_db(env)
    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    home = Path(env["AIRFLOW_HOME"])
    print(f"Airflow UI: http://127.0.0.1:{port}/  (metadata {env['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN']})")
    print(f"  login: admin / the password in {home / 'simple_auth_manager_passwords.json.generated'}")
    print("  Ctrl-C stops it.", flush=True)
    cmd = [str(VENV_BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(port)]
    try:
        return subprocess.run(cmd, env=env, cwd=str(PROJECT_ROOT)).returncode
    except KeyboardInterrupt:
        return 0
