"""R3: the loader killed with SIGKILL in the middle of a COPY, and PostgreSQL stopped (immediate mode, i.e.
a crash) in the middle of a month's load. After restart and re-run the warehouse equals a clean load of the
same files, and the content-addressed archive is intact: each crashed scenario archives into its own
NTP_DATA_DIR, checked against the SHA-256 of the inbox files computed before anything was loaded.

Runs on its own embedded PostgreSQL under a private NTP_DATA_DIR (the session warehouse is never stopped),
with one database per scenario and a `clean` database loaded once, without incident, as the reference.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
import pytest

from . import support

pytestmark = pytest.mark.slow

MONTH = date(2024, 2, 1)
CHILD = Path(__file__).with_name("loader_child.py")
BIG_LINES = 300_000


@dataclass
class Crash:
    server: object
    data: Path
    files: list[Path]
    big: Path
    clean_url: str
    digests: dict[str, bytes]  # sha256 -> content of every inbox file, read before any load

    def url(self, database: str) -> str:
        return self.server.url(database)


def _new_database(server, name: str) -> str:
    from ntp_core import warehouse

    # Databases are created by the administrator's step, owned by the pipeline role (which cannot create any).
    with psycopg.connect(server.admin_url(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}"')
    url = server.url(name)
    warehouse.init(server.admin_url(), url)
    warehouse.bootstrap(url)
    return url


def _ingest_all(url: str, files: list[Path], data: Path) -> list[str]:
    from ingestion.load import ingest_file
    from ntp_core.settings import Settings

    settings = Settings(data_dir=data, inbox_dir=data / "inbox", warehouse_url=url)
    return [ingest_file(f, warehouse_url=url, run_period=MONTH, settings=settings).status for f in files]


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory):
    from generator import generate

    base = tmp_path_factory.mktemp("rel-crash")
    data = base / "data"
    generate(base / "gen", [MONTH], provinces=["11", "12"], scale="small", seed=9, messy=0)
    inbox = base / "inbox"
    shutil.copytree(base / "gen" / "2024-02", inbox)
    big = inbox / "KBNN_14_202402.csv"
    support.big_extract(big, BIG_LINES)
    # The big extract sits in the middle of the month: files before it commit, files after it wait.
    small = sorted(p for p in inbox.iterdir() if p != big)
    files = [*small[:2], big, *small[2:]]
    digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.read_bytes() for p in files}
    old = os.environ.get("NTP_DATA_DIR")
    os.environ["NTP_DATA_DIR"] = str(data)  # archive and quarantine of this module's loads
    server = support.start_private_server(data)
    try:
        clean = _new_database(server, "clean")
        assert set(_ingest_all(clean, files, data)) == {"loaded"}
        yield Crash(server, data, files, big, clean, digests)
    finally:
        server.stop()
        if old is None:
            os.environ.pop("NTP_DATA_DIR", None)
        else:
            os.environ["NTP_DATA_DIR"] = old


def _start_child(crash: Crash, url: str, marker: Path, data: Path) -> subprocess.Popen:
    env = support.private_env(data)  # its own archive: nothing the reference load wrote
    return subprocess.Popen(
        [sys.executable, str(CHILD), url, MONTH.strftime("%Y-%m"), str(marker), *map(str, crash.files)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_copy(crash: Crash, child: subprocess.Popen, marker: Path, database: str) -> None:
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None, child.stdout.read()
        assert time.monotonic() < deadline, "the COPY never started"
        time.sleep(0.05)
    active = support.query(
        crash.url("postgres"),
        "select count(*) from pg_stat_activity where datname = %s and query ilike 'copy %%'",
        (database,),
    )
    assert active == [(1,)], "no COPY in progress on the server"


def _archive_problems(crash: Crash, data: Path, *, complete: bool) -> list[str]:
    """What is wrong with the scenario's own archive, judged against the inbox files' SHA-256 and bytes
    (computed before any load): stray temp files, a file that is no inbox file or differs from it, and,
    when `complete`, an inbox file missing."""
    bad = []
    seen = set()
    for p in (data / "archive").rglob("*"):
        if not p.is_file():
            continue
        sha = p.name.split(".")[0]
        seen.add(sha)
        if p.name.startswith("."):
            bad.append(f"stray temporary file {p.name}")
        elif sha not in crash.digests:
            bad.append(f"{p.name} is no delivered file")
        elif p.read_bytes() != crash.digests[sha]:
            bad.append(f"{p.name} differs from the delivered file")
    if complete:
        bad.extend(f"{sha} missing" for sha in sorted(set(crash.digests) - seen))
    return bad


def _nothing_of(url: str, path: Path) -> None:
    from ingestion.archive import sha256_of

    sha = sha256_of(path)
    assert support.query(url, "select count(*) from audit.files where sha256 = %s", (sha,)) == [(0,)]
    assert support.query(url, "select count(*) from raw.treasury_lines where ma_tinh = '14'") == [(0,)]
    # The per-load constant defaults were rolled back with the transaction.
    defaults = support.query(
        url,
        "select pg_get_expr(d.adbin, d.adrelid) from pg_attrdef d "
        "join pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum "
        "where d.adrelid = 'raw.treasury_lines'::regclass "
        "and a.attname = 'file_id'",
    )
    assert "current_setting" in defaults[0][0]


def _same_as_clean(crash: Crash, url: str) -> None:
    got = support.raw_fingerprint(url, with_ids=False)
    want = support.raw_fingerprint(crash.clean_url, with_ids=False)
    assert got == want
    assert got["raw.treasury_lines"][0] > BIG_LINES
    orphans = support.query(
        url,
        "select count(*) from raw.treasury_lines t where not exists "
        "(select 1 from audit.files f where f.file_id = t.file_id)",
    )
    assert orphans == [(0,)]


def test_sigkill_during_copy_leaves_nothing_and_a_rerun_equals_a_clean_load(crash: Crash, tmp_path: Path):
    url = _new_database(crash.server, "killed")
    marker = tmp_path / "copying"
    data = tmp_path / "data"
    child = _start_child(crash, url, marker, data)
    _wait_for_copy(crash, child, marker, "killed")
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    # The server notices the lost client and rolls its transaction back.
    deadline = time.monotonic() + 60
    while support.query(
        crash.url("postgres"), "select count(*) from pg_stat_activity where datname = 'killed' and state <> 'idle'"
    ) != [(0,)]:
        assert time.monotonic() < deadline, "the killed loader's backend never went away"
        time.sleep(0.2)
    _nothing_of(url, crash.big)
    files_done = support.query(url, "select count(*) from audit.files")[0][0]
    assert files_done == 2  # the two files before the big extract committed, nothing after
    assert _archive_problems(crash, data, complete=False) == []
    statuses = _ingest_all(url, crash.files, data)
    assert statuses[:2] == ["duplicate", "duplicate"] and set(statuses[2:]) == {"loaded"}
    _same_as_clean(crash, url)
    assert _archive_problems(crash, data, complete=True) == []


def test_postgres_stopped_mid_load_then_restarted_and_rerun_equals_a_clean_load(crash: Crash, tmp_path: Path):
    url = _new_database(crash.server, "stopped")
    marker = tmp_path / "copying"
    data = tmp_path / "data"
    child = _start_child(crash, url, marker, data)
    try:
        _wait_for_copy(crash, child, marker, "stopped")
        crash.server.stop("immediate")  # no shutdown checkpoint: crash recovery at the next start
        assert not crash.server.is_running()
        out, _ = child.communicate(timeout=120)
        assert child.returncode != 0, out  # an infrastructure error is raised, never swallowed
    finally:
        if child.poll() is None:
            child.kill()
        crash.server.start()
    url = crash.url("stopped")
    _nothing_of(url, crash.big)
    assert support.query(url, "select count(*) from audit.files")[0][0] == 2
    assert _archive_problems(crash, data, complete=False) == []
    statuses = _ingest_all(url, crash.files, data)
    assert statuses[:2] == ["duplicate", "duplicate"] and set(statuses[2:]) == {"loaded"}
    _same_as_clean(crash, url)
    assert _archive_problems(crash, data, complete=True) == []
