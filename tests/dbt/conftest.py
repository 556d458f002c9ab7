"""Fixtures of the star-schema tests: a generated year ingested for real, and dbt runs with extra env."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
STAR_MODELS = (
    "int_province_figures__current int_treasury_figures__by_plan_year int_treasury_figures__by_key "
    "fct_ntp_monthly fct_reconciliation fct_findings fct_published_figures mart_disbursement_progress "
    "mart_disbursement_progress__merged "
    "mart_disbursement_regional mart_disbursement_national"
)


@pytest.fixture(scope="session")
def dbt_with_env(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory):
    """Like the `dbt` fixture, but with extra environment per call (e.g. NTP_BI_PASSWORD)."""
    from ntp_core import warehouse

    target = tmp_path_factory.mktemp("dbt-target-star")
    dbt_bin = str(Path(sys.executable).parent / "dbt")

    def run(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = dict(
            os.environ,
            **warehouse.libpq_env(warehouse_url),
            DBT_SEND_ANONYMOUS_USAGE_STATS="False",
            **(env_extra or {}),
        )
        cmd = [
            dbt_bin,
            *args,
            "--project-dir",
            str(DBT_DIR),
            "--profiles-dir",
            str(DBT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
        return proc

    run.target = target
    return run


GENERATED_MONTHS = [date(2024, m, 1) for m in range(1, 13)] + [date(2025, 6, 1), date(2025, 7, 1)]
#: Điện Biên (unchanged), Đà Nẵng and Quảng Nam (merged into Đà Nẵng, code 48, on 1 July 2025).
GENERATED_PROVINCES = "11,48,49"


def ingest_generated(out: Path, warehouse_url: str) -> None:
    """Every generated month through the real loader, with the run month of its folder."""
    from ingestion.load import ingest_file

    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        year, month = map(int, folder.name.split("-"))
        for path in sorted(folder.iterdir()):
            result = ingest_file(path, warehouse_url=warehouse_url, run_period=date(year, month, 1))
            assert getattr(result, "status", "loaded") != "quarantined", (path, result)


@pytest.fixture(scope="module")
def generated_year(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2024 (and June–July 2025) for three provinces, generated, ingested; dbt not run yet."""
    from generator import generate
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    out = tmp_path_factory.mktemp("generated")
    generate(out, GENERATED_MONTHS, provinces=GENERATED_PROVINCES, seed=3)
    ingest_generated(out, warehouse_url)
    return out
