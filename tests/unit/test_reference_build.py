"""Which nodes the monthly build may leave out while the reference data is unchanged, and what counts as a
change (ntp/reference_build.py). No database: the project's manifest, its files, and small hand-made graphs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ntp import reference_build as rb

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
MANIFEST = DBT_DIR / "target" / "manifest.json"

# Read off the models' SQL by hand: the models whose every `ref` is a seed or such a model, none reading a
# source, a variable or the clock (dim_funding has no ref at all: a fixed list of values).
REFERENCE_MODELS = {
    "dim_component",
    "dim_funding",
    "dim_month",
    "dim_province",
    "int_components__by_capital_type",
    "int_provinces__successors",
    "int_quality__component_tree",
    "int_quality__deadlines",
}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def _names(nodes: frozenset[str], kind: str) -> set[str]:
    return {uid.split(".")[2] for uid in nodes if uid.startswith(kind + ".")}


def test_the_reference_nodes_are_the_seeds_and_the_models_that_read_only_them(manifest: dict) -> None:
    nodes = rb.reference_nodes(manifest)
    assert _names(nodes, "seed") == {p.stem for p in (DBT_DIR / "seeds").glob("*.csv")}
    assert _names(nodes, "model") == REFERENCE_MODELS
    tests = _names(nodes, "test")
    # a dimension's own tests go with it …
    assert {"not_null_dim_province_province_code", "unique_dim_component_treasury_code"} <= tests
    # … a fact's relationship to a dimension reads the month's rows: it stays in every build
    assert not any(t.startswith("relationships_fct_ntp_monthly") for t in tests)
    assert not any("fct_" in t or "stg_" in t or "mart_" in t for t in tests)


def _graph(**models: dict) -> dict:
    nodes = {
        "seed.p.ref_a": {"resource_type": "seed", "config": {"materialized": "seed"}, "depends_on": {"nodes": []}},
    }
    for name, spec in models.items():
        nodes[f"model.p.{name}"] = {
            "resource_type": "model",
            "config": {"materialized": spec.get("materialized", "table")},
            "raw_code": spec.get("sql", "select 1"),
            "depends_on": {"nodes": spec.get("parents", [])},
        }
    nodes["source.p.raw.lines"] = {"resource_type": "source", "config": {}, "depends_on": {"nodes": []}}
    nodes["test.p.rel_fact_dim"] = {
        "resource_type": "test",
        "config": {},
        "depends_on": {"nodes": ["model.p.fact", "model.p.dim"]},
    }
    nodes["test.p.not_null_dim"] = {"resource_type": "test", "config": {}, "depends_on": {"nodes": ["model.p.dim"]}}
    return {"nodes": nodes}


def test_a_model_that_reads_a_source_a_variable_or_the_clock_is_not_reference() -> None:
    graph = _graph(
        dim={"parents": ["seed.p.ref_a"]},
        fact={"parents": ["source.p.raw.lines", "model.p.dim"]},
        below_fact={"parents": ["model.p.fact"]},
        by_var={"parents": ["seed.p.ref_a"], "sql": "select * from x where period = '{{ var(\"period\") }}'"},
        by_env={"parents": ["seed.p.ref_a"], "sql": "select '{{ env_var(\"NTP_DBT_PERIOD\") }}'"},
        by_clock={"parents": ["seed.p.ref_a"], "sql": "select current_date"},
        by_target={"parents": ["seed.p.ref_a"], "sql": "select '{{ target.schema }}'"},
        by_query={"parents": ["seed.p.ref_a"], "sql": "{% set r = run_query('select 1 from raw.lines') %}select 1"},
        incremental={"parents": ["seed.p.ref_a"], "materialized": "incremental"},
        below_var={"parents": ["model.p.by_var"]},
        constant={"parents": [], "sql": "select 1 as one"},
    )
    nodes = rb.reference_nodes(graph)
    assert _names(nodes, "model") == {"dim", "constant"}
    assert _names(nodes, "seed") == {"ref_a"}
    assert _names(nodes, "test") == {"not_null_dim"}  # the relationship also reads the fact


def test_ephemeral_models_are_fingerprinted_but_not_excluded() -> None:
    graph = _graph(dim={"parents": ["seed.p.ref_a"], "materialized": "ephemeral"})
    nodes = rb.reference_nodes(graph)
    assert "model.p.dim" in nodes
    assert "model.p.dim" not in rb.built(graph, nodes)


def test_the_exclusion_names_the_seeds_and_models_only_when_skipped() -> None:
    nodes = frozenset({"seed.p.ref_a", "model.p.dim", "test.p.not_null_dim"})
    assert rb.Plan(nodes, "f", False, "").exclude == "resource_type:unit_test"
    assert rb.Plan(nodes, "f", True, "").exclude == "resource_type:unit_test dim ref_a"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return copy


def _fingerprint(manifest: dict, project: Path) -> str:
    return rb.fingerprint(manifest, project, rb.reference_nodes(manifest))


def test_the_fingerprint_changes_with_what_builds_the_reference_data_only(manifest: dict, project: Path) -> None:
    before = _fingerprint(manifest, project)
    assert _fingerprint(manifest, project) == before  # the same files, the same fingerprint

    monthly = project / "models" / "marts" / "fct_ntp_monthly.sql"
    monthly.write_text(monthly.read_text(encoding="utf-8") + "\n-- a monthly model changed\n", encoding="utf-8")
    assert _fingerprint(manifest, project) == before

    edits = [
        project / "seeds" / "ref_provinces_63.csv",  # a seed's rows
        project / "models" / "marts" / "dim_province.sql",  # a reference model's SQL
        project / "models" / "marts" / "dim_province.yml",  # its columns, contract, tests
        next((project / "macros").glob("*.sql")),  # any macro
        project / "dbt_project.yml",
    ]
    seen = {before}
    for path in edits:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        changed = _fingerprint(manifest, project)
        assert changed not in seen, path.name
        seen.add(changed)
        path.write_bytes(original)
    assert _fingerprint(manifest, project) == before


def test_nothing_is_recorded_unless_every_reference_node_passed() -> None:
    nodes = ["seed.p.ref_a", "model.p.dim", "test.p.not_null_dim"]
    results = {
        "results": [
            {"unique_id": "seed.p.ref_a", "status": "success"},
            {"unique_id": "model.p.dim", "status": "success"},
            {"unique_id": "test.p.not_null_dim", "status": "fail"},
        ]
    }
    # returns before connecting: no warehouse at this URL
    assert rb.record(results, nodes, "f", "postgresql://nobody@127.0.0.1:1/none") is False
    results["results"] = results["results"][:2]  # the test did not run
    assert rb.record(results, nodes, "f", "postgresql://nobody@127.0.0.1:1/none") is False
