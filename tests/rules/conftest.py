"""Rule tests: each scenario group loads raw rows with SQL, then builds the findings once."""

from __future__ import annotations

import pytest
from conftest_rules import SCORE_REPORTS, reset_warehouse, scenario  # noqa: F401 - fixtures and helpers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the generated-year scoring counts per rule (expected / found / matched)."""
    for report in SCORE_REPORTS:
        terminalreporter.section("detection scores per rule")
        terminalreporter.write(report)
