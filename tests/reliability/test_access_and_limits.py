"""R5 without the DAG: no credentials in the repository, path-like and symlinked uploads cannot escape the
inbox or the data directory, and oversized or zip-bomb workbooks are refused within a memory bound.
(The BI role's refusals are checked on the DAG-built warehouse in test_dag_month.py.)"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from ntp_core.settings import PROJECT_ROOT, Settings

from . import support

MONTH = date(2024, 2, 1)

# -- no credentials in the repository ----------------------------------------------------------------

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"{}<>$]+:([^/\s@'\"{}<>]+)@", re.I),
    "password assignment": re.compile(
        r"""(?ix)\w*(?:password|passwd|pwd|secret|api_?key|access_?key|token)\w*\s*[:=]\s*['"]([^'"\s]{6,})['"]"""
    ),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Slack or GitHub token": re.compile(r"\b(?:xox[abpr]-[0-9A-Za-z-]{10,}|gh[pousr]_[0-9A-Za-z]{30,})\b"),
}
# What may look like a credential but is not one: documented placeholders and throwaway test values.
PLACEHOLDER = re.compile(
    r"(?i)^(?:\$\{?\w+\}?|\{\{.*|<[^>]+>|\*+|x+|\.\.\.|changeme|change-me|example\w*|placeholder|"
    r"your[-_]\w+|airflow|postgres|ntp|password|secret|user|pass|dummy|test\w*|bi-[\w-]*test[\w-]*|"
    r".*not-a-secret.*|.*test-only.*|%\(.*|%s)$"
)


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    return [PROJECT_ROOT / p for p in out.stdout.decode().split("\0") if p]


def scan_for_secrets(files: list[Path]) -> list[tuple[str, int, str]]:
    hits = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for what, pattern in SECRET_PATTERNS.items():
                for m in pattern.finditer(line):
                    value = m.group(1) if m.groups() else m.group(0)
                    if m.groups() and PLACEHOLDER.match(value):
                        continue
                    hits.append((str(path.relative_to(PROJECT_ROOT)), number, what))
    return hits


def test_no_credentials_in_the_repository():
    files = _tracked_files()
    assert len(files) > 50
    assert scan_for_secrets(files) == []


def test_the_secret_scan_finds_what_it_must(tmp_path: Path):
    """The scanner is not vacuous: each kind of leak in a file is reported, placeholders are not."""
    planted = tmp_path / "leak.py"
    fake_key = "-----BEGIN " + "RSA PRIVATE KEY-----"
    planted.write_text(
        f'{fake_key}\nDB = "postgresql://etl:' + 'S3cr3tPassw0rd@db.example.org/ntp"\n'
        "smtp_password = " + '"hunter22Real"\nkey = "AKIA' + "ABCDEFGHIJKLMNOP" + '"\n'
        'ok = "postgresql://${PGUSER}:${PGPASSWORD}@host/db"\npassword = "changeme"\n',
        encoding="utf-8",
    )
    orig = PROJECT_ROOT
    try:
        globals()["PROJECT_ROOT"] = tmp_path
        hits = scan_for_secrets([planted])
    finally:
        globals()["PROJECT_ROOT"] = orig
    assert sorted(h[2] for h in hits) == [
        "AWS access key",
        "credentials in a URL",
        "password assignment",
        "private key",
    ]


# detect-secrets, a maintained scanner, with the committed baseline `.secrets.baseline` (its plugins and
# filters, and the audited findings: documented placeholders and throwaway test values).
BASELINE = PROJECT_ROOT / ".secrets.baseline"


def detect_secrets_scan(root: Path, files: list[str]) -> list[tuple[str, int, str]]:
    """(file, line, type) of every secret detect-secrets finds in `files` (relative to `root`) that the
    baseline does not list, with the baseline's plugins and filters."""
    from detect_secrets import SecretsCollection
    from detect_secrets.core import baseline
    from detect_secrets.settings import transient_settings

    config = baseline.load_from_file(str(BASELINE))
    with transient_settings({"plugins_used": config["plugins_used"], "filters_used": config["filters_used"]}):
        known = {(name, s.secret_hash, s.type) for name, s in baseline.load(config, str(BASELINE))}
        found = SecretsCollection(root=str(root))
        found.scan_files(*files, num_processors=1)
    hits = ((os.path.relpath(s.filename, root), s) for _, s in found)
    return sorted((name, s.line_number, s.type) for name, s in hits if (name, s.secret_hash, s.type) not in known)


def test_detect_secrets_finds_nothing_new_in_the_tracked_files():
    files = [str(p.relative_to(PROJECT_ROOT)) for p in _tracked_files() if p.is_file()]
    assert ".secrets.baseline" in files and len(files) > 50
    files.remove(".secrets.baseline")  # hashes of the audited findings, nothing else
    assert detect_secrets_scan(PROJECT_ROOT, files) == []


def test_detect_secrets_catches_the_shapes_the_pattern_scan_missed(tmp_path: Path):
    """Unquoted KEY=value, a YAML value, a URL with credentials, a webhook URL: each one is reported."""
    value = "Xk9mQ2" + "vLp7aZw"  # split so this test file holds no literal secret
    planted = {
        "settings.env": f"NTP_SMTP_PASSWORD={value}\n",
        "conf.yaml": f"smtp:\n  host: mail.example.org\n  password: {value}\n",
        "db.py": f'URL = "postgresql://etl:{value}@db.example.org/ntp"\n',
        "hook.txt": "NTP_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/"
        + "T0ABCDEFG/B0ABCDEFG/"
        + "abcdefghijkl"
        + "mnopqrstuvwx\n",
        "clean.env": "NTP_SMTP_PASSWORD=${NTP_SMTP_PASSWORD}\nNTP_SMTP_HOST=mail.example.org\n",
    }
    for name, text in planted.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    hits = detect_secrets_scan(tmp_path, sorted(planted))
    assert {name for name, _, _ in hits} == {"settings.env", "conf.yaml", "db.py", "hook.txt"}, hits
    assert dict((name, kind) for name, _, kind in hits) == {
        "settings.env": "Secret Keyword",
        "conf.yaml": "Secret Keyword",
        "db.py": "Basic Auth Credentials",
        "hook.txt": "Slack Token",
    }
    # the pattern scan above misses three of the four shapes: why the maintained scanner runs too
    orig = PROJECT_ROOT
    try:
        globals()["PROJECT_ROOT"] = tmp_path
        missed = {n for n in planted if n != "clean.env"} - {
            h[0] for h in scan_for_secrets([tmp_path / n for n in planted])
        }
    finally:
        globals()["PROJECT_ROOT"] = orig
    assert missed, "the pattern scan now catches every shape: keep both, or drop it"


def test_no_env_file_or_key_file_is_tracked():
    names = [p.name for p in _tracked_files()]
    assert not [n for n in names if n == ".env" or n.endswith((".pem", ".key", ".p12", ".pfx", "id_rsa"))]


# -- uploads cannot escape the inbox -------------------------------------------------------------------

UNSAFE_NAMES = [
    "..\\..\\etc\\passwd.xlsx",
    "..%2f..%2fetc%2fpasswd.csv",
    "C:\\Windows\\System32\\bao_cao.csv",
    "\\\\server\\share\\bao_cao.csv",
    "-rf.csv",
    ".bashrc.csv",
    "bao_cao\x00.csv".replace("\x00", "\x01"),  # a NUL cannot be in a name; other control characters can
    "bao\ncao.csv",
    "bao\rcao.csv",
    "bao\x1b[31mcao.csv",
]


@pytest.fixture
def sandbox(tmp_path: Path, warehouse_url: str, clean_warehouse: str):
    data = tmp_path / "data"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Settings(data_dir=data, inbox_dir=inbox, warehouse_url=clean_warehouse)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=lambda n: n.encode("unicode_escape").decode())
def test_path_like_upload_is_refused_and_stays_inside(sandbox: Settings, name: str):
    from ingestion.load import ingest_file

    root = sandbox.inbox_dir.parent
    path = sandbox.inbox_dir / name
    path.write_bytes(support._csv(support._line(ma_dvqhns="1110099")))
    before = _tree(root)
    result = ingest_file(path, warehouse_url=sandbox.warehouse_url, run_period=MONTH, settings=sandbox)
    assert (result.status, result.error_code) == ("quarantined", "unsafe_file_name")
    assert support.query(sandbox.warehouse_url, "select count(*) from raw.treasury_lines") == [(0,)]
    new = _tree(root) - before
    assert new and all(p == "data" or p.startswith("data" + os.sep) for p in new), new
    written = [root / p for p in new if (root / p).is_file()]
    for p in written:
        assert p.resolve().is_relative_to(sandbox.data_dir.resolve())
        assert not any(c in p.name for c in "\\\n\r\x01\x1b") and not p.name.startswith("..")


def test_a_symlink_in_the_inbox_is_not_read(sandbox: Settings, tmp_path: Path):
    """A link to a file outside the inbox (another province's folder, a system file) must not be ingested."""
    from ingestion.inbox import files_for_period

    outside = tmp_path / "outside" / "KBNN_11_202402.csv"
    outside.parent.mkdir()
    outside.write_bytes(support._csv(support._line(ma_dvqhns="1110098")))
    (sandbox.inbox_dir / "KBNN_11_202402.csv").symlink_to(outside)
    picked = files_for_period(sandbox.inbox_dir, MONTH, sandbox.warehouse_url)
    assert picked == []


# -- oversized and zip-bomb workbooks, within a memory bound ----------------------------------------------

CHILD_INGEST = """
import sys
from datetime import date
from pathlib import Path
from ingestion.load import ingest_file
r = ingest_file(Path(sys.argv[2]), warehouse_url=sys.argv[1], run_period=date(2024, 2, 1))
print(r.status, r.error_code)
"""
CHILD_DISCOVER = """
import sys
from datetime import date
from pathlib import Path
from ingestion.inbox import files_for_period
print(len(files_for_period(Path(sys.argv[2]), date(2024, 2, 1), sys.argv[1])), "file(s)")
"""


def _peak_rss_mib(code: str, url: str, arg: Path, data: Path) -> tuple[float, str]:
    """Run `code` in a fresh interpreter; its own peak RSS (wait4 rusage of that child only), and output."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, url, str(arg)],
        env=support.private_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=PROJECT_ROOT,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, out[-3000:]
    return usage.ru_maxrss / 1024, out.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generator's zip bomb and a good workbook of the same province, each alone in a folder."""
    from generator import generate

    out = tmp_path_factory.mktemp("bomb")
    generate(out / "gen", [MONTH], provinces=["11"], scale="small", seed=1, messy=0, broken=True)
    month = out / "gen" / "2024-02"
    paths = {}
    for key, name in (("bomb", "BC_NTP_11_bom_nen_202402.xlsx"), ("good", "BC_NTP_11_dien_bien_202402.xlsx")):
        folder = out / key
        folder.mkdir()
        paths[key] = folder / name
        os.replace(month / name, paths[key])
    big = out / "big" / "BC_NTP_11_qua_lon_202402.xlsx"
    big.parent.mkdir()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/media/image1.bin", os.urandom(51 * 1024 * 1024))
    paths["big"] = big
    return paths


BOMB_MIB = 160


def test_the_bomb_is_a_real_bomb(workbooks: dict[str, Path]):
    with zipfile.ZipFile(workbooks["bomb"]) as zf:
        expanded = sum(i.file_size for i in zf.infolist())
    assert expanded >= BOMB_MIB * 1024 * 1024 and workbooks["bomb"].stat().st_size < 2 * 1024 * 1024


def test_zip_bomb_is_refused_by_the_loader_within_a_memory_bound(workbooks, clean_warehouse, tmp_path):
    good, out = _peak_rss_mib(CHILD_INGEST, clean_warehouse, workbooks["good"], tmp_path)
    assert out == "loaded None"
    bomb, out = _peak_rss_mib(CHILD_INGEST, clean_warehouse, workbooks["bomb"], tmp_path)
    assert out == "quarantined too_large"
    # Inflating the sheet would cost at least its 160 MiB on top of a normal load.
    assert bomb < good + BOMB_MIB / 4 and bomb < 500, (good, bomb)


def test_oversized_workbook_is_refused_within_a_memory_bound(workbooks, clean_warehouse, tmp_path):
    peak, out = _peak_rss_mib(CHILD_INGEST, clean_warehouse, workbooks["big"], tmp_path)
    assert out == "quarantined too_large"
    assert peak < 300, peak


def test_discovering_a_zip_bomb_in_the_inbox_stays_within_a_memory_bound(workbooks, clean_warehouse, tmp_path):
    good, _ = _peak_rss_mib(CHILD_DISCOVER, clean_warehouse, workbooks["good"].parent, tmp_path)
    bomb, out = _peak_rss_mib(CHILD_DISCOVER, clean_warehouse, workbooks["bomb"].parent, tmp_path)
    assert out == "1 file(s)"  # still handed to the loader, which quarantines it
    assert bomb < good + BOMB_MIB / 4, (good, bomb)


# -- the embedded server's files: private from creation, no parent folder touched, no root process ------


_CHMOD_WATCH: list[tuple[str, int]] = []
_CHMOD_ARMED = [False]


def _chmod_hook(event: str, args: tuple) -> None:
    """Records the mode a file had when something changed it: a secret must never have been readable by others."""
    if event == "os.chmod" and _CHMOD_ARMED[0]:
        target = args[0]
        try:
            st = os.fstat(target) if isinstance(target, int) else os.stat(target)
        except OSError:
            return
        _CHMOD_WATCH.append((str(target), stat.S_IMODE(st.st_mode)))


sys.addaudithook(_chmod_hook)


def _modes(root: Path) -> dict[str, int]:
    return {str(p): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")] if not p.is_symlink()}


def test_embedded_server_files_are_private_and_no_parent_folder_changes(tmp_path: Path):
    from ntp_core import warehouse

    home = tmp_path / "home" / "owner"
    home.mkdir(parents=True)
    os.chmod(tmp_path / "home", 0o700)
    os.chmod(home, 0o750)
    parents = [home, *home.parents]
    before = {str(p): stat.S_IMODE(p.stat().st_mode) for p in parents}
    server = warehouse.EmbeddedServer(home / "data" / "warehouse")
    umask = os.umask(0)  # the most permissive umask: modes must come from the code, not from the caller
    _CHMOD_WATCH.clear()
    _CHMOD_ARMED[0] = True
    try:
        server.start()
        pid = int((server.cluster / "postmaster.pid").read_text().split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
        own_ns, server_ns = os.readlink("/proc/self/ns/user"), os.readlink(f"/proc/{pid}/ns/user")
    finally:
        _CHMOD_ARMED[0] = False
        os.umask(umask)
        server.stop()
    assert {str(p): stat.S_IMODE(p.stat().st_mode) for p in parents} == before
    modes = _modes(home / "data")
    assert modes and all(m & 0o077 == 0 for m in modes.values()), {p: oct(m) for p, m in modes.items() if m & 0o077}
    assert all(modes[str(d)] == 0o700 for d in (home / "data", server.pgdata, server.cluster))
    for secret in (server.password_file, server.pipeline_password_file, server.passfile):
        assert modes[str(secret)] == 0o600
    # A secret file was never, even for a moment, readable by group or others.
    assert [(p, oct(m)) for p, m in _CHMOD_WATCH if m & 0o077] == []
    # PostgreSQL never runs with root's powers: as root it is in its own user namespace, without capabilities.
    if os.geteuid() == 0:
        cap_eff = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:"))
        assert int(cap_eff, 16) == 0 and server_ns != own_ns
    else:
        assert f"Uid:\t{os.geteuid()}" in status


def test_archive_and_quarantine_copies_are_private(sandbox: Settings):
    from ingestion.load import ingest_file

    good = sandbox.inbox_dir / "KBNN_11_202402.csv"
    good.write_bytes(support._csv(support._line(ma_dvqhns="1110097")))
    bad = sandbox.inbox_dir / "KBNN_11_202402_hong.csv"
    bad.write_bytes(b"not,a,treasury,extract\n1,2,3,4\n")
    umask = os.umask(0)
    try:
        results = [
            ingest_file(p, warehouse_url=sandbox.warehouse_url, run_period=MONTH, settings=sandbox) for p in (good, bad)
        ]
    finally:
        os.umask(umask)
    assert sorted(r.status for r in results) == ["loaded", "quarantined"]
    modes = _modes(sandbox.data_dir)
    files = {p: m for p, m in modes.items() if Path(p).is_file()}
    assert any("archive" in p for p in files) and any("quarantine" in p for p in files)
    assert all(m & 0o077 == 0 for m in modes.values()), {p: oct(m) for p, m in modes.items() if m & 0o077}
    assert all(m == 0o700 for p, m in modes.items() if Path(p).is_dir())


# -- passwords: quoted, never printed, never on a command line --------------------------------------------

NASTY_PASSWORD = "p/w#x%y?z@a:b c'd\\e"  # every character a URL or a conninfo treats specially


def test_pg_variables_with_a_password_full_of_url_characters_connect(warehouse_url: str, monkeypatch):
    import psycopg

    from ntp_core import settings, warehouse

    server = warehouse.embedded()
    with psycopg.connect(server.admin_url(), autocommit=True) as admin:
        admin.execute("drop role if exists ntp_pgvar_check")
        verifier = admin.pgconn.encrypt_password(NASTY_PASSWORD.encode(), b"ntp_pgvar_check", b"scram-sha-256")
        admin.execute(f"create role ntp_pgvar_check login password '{verifier.decode()}'")
        admin.execute("grant connect on database ntp to ntp_pgvar_check")
    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    for key, value in dict(
        PGHOST="127.0.0.1", PGPORT=str(server.port()), PGUSER="ntp_pgvar_check", PGPASSWORD=NASTY_PASSWORD
    ).items():
        monkeypatch.setenv(key, value)
    url = settings.load().warehouse_url
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_user, current_database()").fetchone() == ("ntp_pgvar_check", "ntp")
        assert warehouse.libpq_env(url)["PGPASSWORD"] == NASTY_PASSWORD
        assert NASTY_PASSWORD not in warehouse.redact(url) and "ntp_pgvar_check@127.0.0.1" in warehouse.redact(url)
    finally:
        with psycopg.connect(server.admin_url(), autocommit=True) as admin:
            admin.execute("revoke connect on database ntp from ntp_pgvar_check")
            admin.execute("drop role ntp_pgvar_check")


def test_warehouse_up_prints_no_password_and_its_hint_connects_as_the_pipeline_role(tmp_path: Path):
    import psycopg

    from ntp_core import warehouse

    ntp = str(Path(sys.executable).parent / "ntp")
    env = support.private_env(tmp_path / "data")
    out = {}
    try:
        for action in ("up", "url"):
            proc = subprocess.run([ntp, "warehouse", action], env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
            assert proc.returncode == 0, proc.stderr[-2000:]
            out[action] = proc.stdout + proc.stderr
        server = warehouse.EmbeddedServer(tmp_path / "data" / "warehouse")
        for secret in (server.password(), server.pipeline_password()):
            assert secret not in out["up"] and secret not in out["url"]
        hint = re.search(r"PGPASSFILE=(\S+) psql '([^']+)'", out["up"])
        assert hint, out["up"]
        assert Path(hint.group(1)) == server.passfile
        with psycopg.connect(hint.group(2), passfile=hint.group(1)) as conn:
            user, is_super, can_create_roles, can_create_db = conn.execute(
                "select rolname, rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user"
            ).fetchone()
        assert (user, is_super, can_create_roles, can_create_db) == ("ntp", False, False, False)
    finally:
        subprocess.run([ntp, "warehouse", "down"], env=env, capture_output=True, cwd=PROJECT_ROOT)
