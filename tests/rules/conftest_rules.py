"""Rule test scenarios: load raw rows with SQL, then build the findings once per group."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ntp_core import warehouse

# Scoring tables of the generated-year test, printed in pytest's terminal summary (tests/rules/conftest.py).
SCORE_REPORTS: list[str] = []


def reset_warehouse(url: str) -> None:
    with warehouse.connect(url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )


@pytest.fixture(scope="module")
def scenario(warehouse_url: str, dbt) -> Callable:
    """`scenario(load)`: empty the warehouse, run `load(conn)`, build the findings; returns a connection."""
    opened = []

    def run(load: Callable) -> object:
        reset_warehouse(warehouse_url)
        with warehouse.connect(warehouse_url) as conn:
            load(conn)
            conn.commit()
        dbt(
            "build",
            "--select",
            "+fct_findings",
            "+dim_component",
            "+fct_ntp_monthly",
            "--full-refresh",
            "--indirect-selection",
            "cautious",
        )
        conn = warehouse.connect(warehouse_url, autocommit=True)
        opened.append(conn)
        return conn

    yield run
    for conn in opened:
        conn.close()
