"""The monthly DAG end to end: DagBag clean, then `ntp run` (the real `airflow dags test`) on a generated
month with one planted allocation mismatch, through ingestion, dbt (Cosmos) and the alert."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ntp_core.settings import PROJECT_ROOT

NTP = str(Path(sys.executable).parent / "ntp")
PLANTED_DELTA = 987_654_321  # VND added to one Treasury line: far beyond max(1,000,000, 0.05 %)


def _airflow_env(data_dir: Path) -> dict[str, str]:
    from ntp.orchestrate import airflow_env
    from ntp_core.settings import load
    from ntp_core.warehouse import url

    return airflow_env(load(), url())


def test_dagbag_has_no_import_errors(data_dir: Path, warehouse_url: str) -> None:
    code = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder='dags')\n"
        "import json; print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': sorted(bag.dags), 'tasks': sorted(t.task_id for t in bag.dags['ntp_monthly'].tasks),"
        " 'pools': {t.task_id: t.pool for t in bag.dags['ntp_monthly'].tasks"
        " if type(t).__name__ != 'EmptyOperator'}}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        env=_airflow_env(data_dir),
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert "ntp_monthly" in result["dags"]
    # The dbt project runs as one `dbt build` task (its per-node results are checked after a real run).
    assert "dbt_build" in result["tasks"]
    assert {"discover_files", "ingest_files", "validate_batches", "build_alert"} <= set(result["tasks"])
    # Warehouse-heavy tasks share the pool that bounds them across executors and workers.
    assert {result["pools"][t] for t in ("ingest_files", "dbt_build")} == {"ntp_warehouse"}


def _plant_allocation_mismatch(month_dir: Path) -> dict:
    """Add PLANTED_DELTA to the first current-year line of one province's Treasury extract."""
    for path in sorted(month_dir.glob("*.csv")):
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        if not rows or "du_toan_giao" not in rows[0]:
            continue
        year = int(rows[0]["ky_bao_cao"][:4])
        for row in rows:
            if int(row["nam_kh"]) == year and int(row["du_toan_giao"]) > 0:
                row["du_toan_giao"] = str(int(row["du_toan_giao"]) + PLANTED_DELTA)
                with open(path, "w", newline="", encoding="utf-8") as f:
                    writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
                    writer.writeheader()
                    writer.writerows(rows)
                return row
    raise AssertionError(f"no Treasury extract with a current-year line in {month_dir}")


@pytest.mark.slow
def test_monthly_run_reports_the_planted_allocation_mismatch(
    data_dir: Path, warehouse_url: str, tmp_path: Path
) -> None:
    from generator import generate

    inbox = tmp_path / "inbox"
    generate(inbox, [date(2024, 3, 1)], provinces=["11", "12"], scale="small", seed=7, messy=0, plant_rate=0.0)
    planted = _plant_allocation_mismatch(inbox / "2024-03")
    default_data = PROJECT_ROOT / ".data"
    before = sorted(p.name for p in default_data.iterdir()) if default_data.exists() else None

    env = dict(os.environ, NTP_DATA_DIR=str(data_dir))
    launched = datetime.now(UTC).replace(tzinfo=None)
    proc = subprocess.run(
        [NTP, "run", "--period", "2024-03", "--inbox", str(inbox)],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    returned = datetime.now(UTC).replace(tzinfo=None)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "success" in proc.stdout
    # The Airflow UI shows the run as it happened: started after the command was launched, not at the
    # report month's logical date (which `airflow dags test` records as the start).
    with sqlite3.connect(data_dir / "airflow" / "airflow.db") as meta:
        start, end = meta.execute(
            "select start_date, end_date from dag_run where dag_id = 'ntp_monthly' and logical_date like '2024-03-01%'"
        ).fetchone()
    assert launched <= datetime.fromisoformat(start) <= datetime.fromisoformat(end) <= returned

    out = subprocess.run(
        [NTP, "findings", "--period", "2024-03", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert out.returncode == 0, out.stderr
    findings = json.loads(out.stdout)
    # The session warehouse is shared with other tests on this worker, some of which load other provinces
    # for the same month: judge only the two provinces this test generated.
    a01 = [f for f in findings if f["rule_id"] == "NTP-A01" and f["province_code"] in ("11", "12")]
    from ntp_core.reference import components

    component = next(c.component_key for c in components() if c.treasury_code == planted["ma_ctmt"])
    matching = [
        f
        for f in a01
        if f["province_code"] == planted["ma_tinh"]
        and f["component_key"] == component
        and f["fund_source"] == planted["nguon_von"]
        and f["capital_type"] == planted["loai_von"]
        and f["plan_block"] == "current"
    ]
    assert len(matching) == 1, a01
    finding = matching[0]
    assert finding["delta_vnd"] == -PLANTED_DELTA
    assert finding["treasury_value_vnd"] - finding["province_value_vnd"] == PLANTED_DELTA
    assert finding["province_value_vnd"] > 0
    assert finding["status"] == "new" and finding["severity"] == "error"
    # Every other reconciled line of these provinces matches: the planted one is their only allocation mismatch.
    assert len(a01) == 1

    # One `dbt build` ran every model, seed and data test the project defines (dbt's own manifest is the
    # list), and every one of them passed; the per-node results are kept for operators. The unit tests are
    # not run on a month's data (dbt's advice for production builds): tests/dbt runs them.
    manifest = json.loads((PROJECT_ROOT / "dbt_project" / "target" / "manifest.json").read_text(encoding="utf-8"))
    expected = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "test")
        and node.get("config", {}).get("materialized") != "ephemeral"
    }
    results = json.loads((data_dir / "logs" / "dbt" / "2024-03.json").read_text(encoding="utf-8"))
    executed = {n["unique_id"]: n["status"] for n in results["nodes"]}
    assert expected <= set(executed), sorted(expected - set(executed))
    assert {uid: executed[uid] for uid in expected if executed[uid] not in ("success", "pass")} == {}
    assert manifest.get("unit_tests") and not set(manifest["unit_tests"]) & set(executed)

    alert = data_dir / "reports" / "2024-03" / "alert.html"
    assert alert.exists() and "NTP-A01" in alert.read_text(encoding="utf-8")
    # The month's log is read by operators: GX validated the loaded files, without the ≈ 200 INFO lines its
    # import writes about its own API docs.
    log = (data_dir / "logs" / "ntp_monthly-2024-03.log").read_text(encoding="utf-8")
    assert re.search(r"validated [1-9]\d* batch\(es\)", log), log[-3000:]
    assert "Skipping registering function" not in log
    # The isolated NTP_DATA_DIR was used: the checkout's default one is untouched.
    after = sorted(p.name for p in default_data.iterdir()) if default_data.exists() else None
    assert after == before
