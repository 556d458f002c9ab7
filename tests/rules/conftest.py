"""Rule tests: each scenario group loads raw rows with SQL, then builds the findings once."""

from __future__ import annotations

from conftest_rules import reset_warehouse, scenario  # noqa: F401 - fixtures and helper for the rule tests
