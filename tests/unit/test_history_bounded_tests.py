"""The data tests of the tables that grow with every month read only the months a run rebuilds, so that a
monthly build's cost follows the new month, not the history (docs/performance.md, P3). No database: the
models' SQL and YAML files, read here."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

MODELS = Path(__file__).resolve().parents[2] / "dbt_project" / "models"
FILTER = "__rebuilt_periods__"
# The raw tables that receive a month's rows with every delivery (the plan file comes once a year).
GROWING_SOURCES = ("province_report_cells", "treasury_lines")


@cache
def _growing_models() -> frozenset[str]:
    """The incremental models and the staging views over the growing raw tables, read off their SQL."""
    found = set()
    for sql in MODELS.rglob("*.sql"):
        text = sql.read_text(encoding="utf-8")
        incremental = re.search(r"materialized\s*=\s*['\"]incremental['\"]", text)
        raw = any(re.search(rf"source\(\s*'raw'\s*,\s*'{t}'\s*\)", text) for t in GROWING_SOURCES)
        if incremental or raw:
            found.add(sql.stem)
    return frozenset(found)


def _where(test: object) -> str | None:
    """The `where` config of one test entry as written in a model's YAML (a bare name has none)."""
    if not isinstance(test, dict):
        return None
    ((_, body),) = test.items()
    config = (body or {}).get("config") or {}
    return config.get("where") or (body or {}).get("where")


def _tests(model: dict) -> list[tuple[str | None, str, str | None]]:
    """(column or None for the model, test name, its where) of every data test of one model."""
    out = [(None, _name(t), _where(t)) for t in model.get("data_tests") or []]
    for column in model.get("columns") or []:
        out += [(column["name"], _name(t), _where(t)) for t in column.get("data_tests") or []]
    return out


def _name(test: object) -> str:
    return test if isinstance(test, str) else next(iter(test))  # type: ignore[call-overload]


@cache
def _declared() -> dict[str, dict]:
    models = {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for yml in MODELS.rglob("*.yml"):
        for model in (yaml.load(yml.read_text(encoding="utf-8"), Loader=loader) or {}).get("models") or []:
            models[model["name"]] = model
    return models


def test_the_growing_models_are_found() -> None:
    # by hand from the models' SQL: the two staging views over the growing raw tables and the ten
    # incremental models
    assert _growing_models() == {
        "stg_province__report_cells",
        "stg_treasury__lines",
        "int_province_figures__current",
        "int_treasury_figures__by_plan_year",
        "fct_findings",
        "fct_ntp_monthly",
        "fct_published_figures",
        "fct_reconciliation",
        "mart_disbursement_national",
        "mart_disbursement_progress",
        "mart_disbursement_progress__merged",
        "mart_disbursement_regional",
    }


@pytest.mark.parametrize("model", sorted(_growing_models()))
def test_every_data_test_of_a_growing_model_reads_the_rebuilt_months(model: str) -> None:
    """Except `not_null` on `period` itself: filtered by period, it could never fail."""
    tests = _tests(_declared()[model])
    assert tests, f"{model} declares no data test"
    unfiltered = [
        (column, name)
        for column, name, where in tests
        if FILTER not in (where or "") and not (name == "not_null" and column == "period")
    ]
    assert not unfiltered, f"{model}: tests reading the whole history: {unfiltered}"


def test_not_null_of_period_stays_on_the_whole_table() -> None:
    filtered = [
        model
        for model in _growing_models()
        for column, name, where in _tests(_declared()[model])
        if name == "not_null" and column == "period" and FILTER in (where or "")
    ]
    assert not filtered
