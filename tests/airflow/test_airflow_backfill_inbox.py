"""Backfill and data-aware start, through the real DAGs (`airflow dags test`), on two isolated instances:

* **live**: each month's files land in the inbox just before that month's run (`ntp run`, month by month);
* **backfill**: all three months are in the inbox first, then `ntp backfill --from 2024-01 --to 2024-03`.

Both must end with identical marts (md5 of the ordered rows of every marts table). Then a corrected
Treasury extract for February lands in the live inbox: `ntp_inbox_watch` triggers `ntp_monthly` for
2024-02 (and only it), and the re-run of that month supersedes the earlier extract.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from reliability.support import marts_checksums
from unit.test_reference_build import REFERENCE_MODELS  # the models that read only seeds, listed by hand

ROOT = Path(__file__).resolve().parents[2]
NTP = str(Path(sys.executable).parent / "ntp")
MONTHS = ["2024-01", "2024-02", "2024-03"]

pytestmark = pytest.mark.slow


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PG", "AIRFLOW_")) and k not in ("WAREHOUSE_URL", "NTP_INBOX_DIR")
    }
    env["NTP_DATA_DIR"] = str(data_dir)
    return env


def _ntp(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([NTP, *args], env=_env(data_dir), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"ntp {' '.join(args)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}"
    return proc


def _url(data_dir: Path) -> str:
    from ntp_core.warehouse import EmbeddedServer

    return EmbeddedServer(data_dir / "warehouse").url()


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory):
    from generator import generate
    from ntp_core.warehouse import EmbeddedServer

    root = tmp_path_factory.mktemp("airflow-backfill")
    gen = root / "generated"
    generate(
        gen,
        [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)],
        provinces=["11", "12"],
        scale="small",
        seed=11,
        messy=0,
        plant_rate=0.0,
    )
    live, backfill = root / "live", root / "backfill"
    for inst in (live, backfill):
        (inst / "inbox").mkdir(parents=True)
    for month in MONTHS:
        shutil.copytree(gen / month, backfill / "inbox" / month)
    errors: list[BaseException] = []

    def run_live() -> None:
        try:
            for month in MONTHS:  # the month's reports arrive, then its run
                shutil.copytree(gen / month, live / "inbox" / month)
                _ntp(live, "run", "--period", month, "--inbox", str(live / "inbox"))
        except BaseException as err:  # noqa: BLE001 - re-raised in the main thread
            errors.append(err)

    def run_backfill() -> None:
        try:
            _ntp(backfill, "backfill", "--from", MONTHS[0], "--to", MONTHS[-1], "--inbox", str(backfill / "inbox"))
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=run_live), threading.Thread(target=run_backfill)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        yield {"root": root, "gen": gen, "live": live, "backfill": backfill}
    finally:
        for inst in (live, backfill):
            server = EmbeddedServer(inst / "warehouse")
            if (server.cluster / "PG_VERSION").exists():
                server.stop()


def test_backfill_reproduces_month_by_month_runs(instances: dict) -> None:
    live = marts_checksums(_url(instances["live"]), by_content=True, views=True)
    backfill = marts_checksums(_url(instances["backfill"]), by_content=True, views=True)
    assert {"fct_ntp_monthly", "fct_findings", "fct_reconciliation"} <= set(live)
    assert live["fct_ntp_monthly"][0] > 0 and live["fct_reconciliation"][0] > 0
    assert live == backfill
    import psycopg

    with psycopg.connect(_url(instances["backfill"])) as conn:
        months = [
            r[0].strftime("%Y-%m") for r in conn.execute("select distinct period from marts.fct_ntp_monthly order by 1")
        ]
    assert months == MONTHS


def test_each_monthly_run_rebuilds_only_its_month_on_a_kept_parse(instances: dict) -> None:
    """The DAG hands dbt the report month (incremental models rebuild that month, not the history), and
    dbt's parse is kept between the runs of one instance instead of being redone every month."""
    import psycopg

    live: Path = instances["live"]
    with psycopg.connect(_url(live)) as conn:
        march = conn.execute("select count(*) from marts.fct_ntp_monthly where period = date '2024-03-01'").fetchone()
        total = conn.execute("select count(*) from marts.fct_ntp_monthly").fetchone()
    results = json.loads((live / "logs" / "dbt" / "2024-03.json").read_text(encoding="utf-8"))
    fct = next(n for n in results["nodes"] if n["unique_id"] == "model.ntp_warehouse.fct_ntp_monthly")
    assert 0 < march[0] < total[0]
    assert fct["rows_affected"] == march[0]  # March inserted again (April has no rows yet), nothing else
    cached = str(live.resolve() / "cosmos-cache" / "ntp_monthly" / "target" / "partial_parse.msgpack")
    for month in MONTHS[1:]:
        log = (live / "logs" / f"ntp_monthly-{month}.log").read_text(encoding="utf-8")
        assert f"the latest partial parse file is {cached}" in log, month
        assert "Unable to do partial parsing" not in log, month


FACT_TO_DIMENSION_TESTS = {"component_key", "funding_key", "period", "province_key"}


def test_the_reference_data_is_built_once_then_left_out_while_unchanged(instances: dict) -> None:
    """The first month builds the seeds and the models that read only them, with their tests; the later months
    of the same instance leave them out, and still test every fact row against the dimensions."""
    seeds = {p.stem for p in (ROOT / "dbt_project" / "seeds").glob("*.csv")}
    for inst in ("live", "backfill"):
        by_month = {}
        for month in MONTHS:
            results = instances[inst] / "logs" / "dbt" / f"{month}.json"
            nodes = json.loads(results.read_text(encoding="utf-8"))["nodes"]
            by_month[month] = {n["name"].split(".")[0]: n for n in nodes}
        first, *later = MONTHS
        assert seeds | REFERENCE_MODELS <= set(by_month[first]), inst
        assert by_month[first]["not_null_dim_province_province_code"]["status"] == "pass"
        for month in later:
            built = set(by_month[month])
            assert not built & (seeds | REFERENCE_MODELS), (inst, month)
            assert "not_null_dim_province_province_code" not in built, (inst, month)
            assert "fct_ntp_monthly" in built
            relationships = {
                name.split("__")[0].removeprefix("relationships_fct_ntp_monthly_"): n["status"]
                for name, n in by_month[month].items()
                if name.startswith("relationships_fct_ntp_monthly_")
            }
            assert relationships == dict.fromkeys(FACT_TO_DIMENSION_TESTS, "pass"), (inst, month)
        log = (instances[inst] / "logs" / f"ntp_monthly-{later[-1]}.log").read_text(encoding="utf-8")
        assert "reference data unchanged" in log, inst


def test_a_changed_or_missing_reference_table_is_built_again(instances: dict, tmp_path: Path) -> None:
    """On the instance the months were run in: the recorded build matches the project; a project whose seed
    changed, or a reference table that is not there, builds them all again."""
    from ntp import reference_build

    url = _url(instances["live"])
    dbt_dir = ROOT / "dbt_project"
    manifest_path = dbt_dir / "target" / "manifest.json"
    assert reference_build.plan(manifest_path, dbt_dir, url).skip

    changed = tmp_path / "dbt_project"
    shutil.copytree(dbt_dir, changed, ignore=shutil.ignore_patterns("target", "logs"))
    seed = changed / "seeds" / "ref_regions.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    plan = reference_build.plan(manifest_path, changed, url)
    assert not plan.skip and "changed" in plan.reason
    assert plan.exclude == "resource_type:unit_test"

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["nodes"]["model.ntp_warehouse.dim_province"]["alias"] = "dim_province_dropped"
    elsewhere = tmp_path / "manifest.json"
    elsewhere.write_text(json.dumps(manifest), encoding="utf-8")
    plan = reference_build.plan(elsewhere, dbt_dir, url)
    assert not plan.skip and "marts.dim_province_dropped" in plan.reason


BACKFILL_DRY_RUN = r"""
import subprocess, sys
from ntp_core import warehouse
from ntp.orchestrate import VENV_BIN, airflow_env
from ntp_core.settings import load
settings = load()
env = airflow_env(settings, warehouse.url(settings))
proc = subprocess.run([str(VENV_BIN / "airflow"), "backfill", "create", "--dag-id", "ntp_monthly",
                       "--from-date", "2024-01-01", "--to-date", "2024-03-01", "--dry-run",
                       "--max-active-runs", "1", "--reprocess-behavior", "completed"],
                      env=env, capture_output=True, text=True)
print(proc.stdout, proc.stderr[-3000:])
sys.exit(proc.returncode)
"""


def test_scheduler_backfill_plans_one_run_per_report_month(instances: dict) -> None:
    """`airflow backfill create` (the full stack's way) plans exactly one run per month, on the timetable."""
    proc = subprocess.run(
        [sys.executable, "-c", BACKFILL_DRY_RUN],
        env=_env(instances["backfill"]),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    planned = sorted(set(re.findall(r"(20\d\d-\d\d-\d\d) 00:00:00\+00:00", proc.stdout)))
    assert planned == ["2024-01-01", "2024-02-01", "2024-03-01"], proc.stdout[-3000:]


def _corrected_extract(src: Path, dst: Path) -> None:
    """A re-delivered Treasury extract with one payment amount corrected (so a new SHA-256)."""
    lines = src.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    col = header.index("thanh_toan_trong_ky")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if len(cells) == len(header) and cells[col].isdigit() and int(cells[col]) > 0:
            cells[col] = str(int(cells[col]) + 1_000_000)
            lines[i] = ",".join(cells)
            break
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _triggered_runs(data_dir: Path) -> dict[str, dict]:
    with sqlite3.connect(data_dir / "airflow" / "airflow.db") as db:
        rows = db.execute(
            "select run_id, conf, state from dag_run where dag_id = 'ntp_monthly' and run_id like 'inbox__%'"
        ).fetchall()
    return {
        run_id: {"conf": json.loads(conf) if isinstance(conf, str) else conf, "state": state}
        for run_id, conf, state in rows
    }


WATCH = r"""
import subprocess, sys
from ntp_core import warehouse
from ntp.orchestrate import VENV_BIN, airflow_env
from ntp_core.settings import load
settings = load()
env = airflow_env(settings, warehouse.url(settings))
proc = subprocess.run([str(VENV_BIN / "airflow"), "dags", "test", "ntp_inbox_watch"], env=env,
                      capture_output=True, text=True)
print(proc.stdout[-20000:], proc.stderr[-5000:])
sys.exit(proc.returncode)
"""


def _watch(data_dir: Path) -> None:
    """One run of `ntp_inbox_watch` on the instance (its own Airflow home and warehouse)."""
    proc = subprocess.run([sys.executable, "-c", WATCH], env=_env(data_dir), capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "state=success" in proc.stdout, (proc.stdout + proc.stderr)[-5000:]


def test_late_corrected_file_retriggers_its_month(instances: dict) -> None:
    import psycopg

    live: Path = instances["live"]
    _watch(live)  # everything in the inbox is already ingested: nothing to trigger
    assert _triggered_runs(live) == {}

    src = next((live / "inbox" / "2024-02").glob("KBNN_11_*.csv"))
    _corrected_extract(src, live / "inbox" / "late" / "KBNN_11_202402_corrected.csv")
    _watch(live)
    runs = _triggered_runs(live)
    assert len(runs) == 1, runs
    ((run_id, run),) = runs.items()
    assert run["conf"]["period"] == "2024-02" and run_id.startswith("inbox__2024-02__")
    _watch(live)  # the same pending file does not trigger the month twice
    assert set(_triggered_runs(live)) == {run_id}

    # The scheduler would now start the queued run; here `ntp run` executes the same month with its conf.
    _ntp(live, "run", "--period", run["conf"]["period"], "--inbox", run["conf"]["inbox"])
    with psycopg.connect(_url(live)) as conn:
        rows = conn.execute(
            "select original_name, status, version from audit.files where kind = 'treasury_extract' "
            "and province_code = '11' and period = date '2024-02-01' order by version"
        ).fetchall()
    names = [r[0] for r in rows]
    assert any("corrected" in n for n in names), rows
    assert max(r[2] for r in rows) >= 2, rows
