"""The rule catalogue seed is the only list of rules: the rule models, their YAMLs, the models that
`fct_findings` stacks and the scorer all agree with it. Reads files only: no database, no dbt run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from generator.planting import planted_rules
from ntp import scoring
from ntp_core import reference

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
QUALITY = DBT / "models" / "quality"


def _catalogue_models() -> list[str]:
    return [r.model_name for r in reference.rule_catalogue()]


def test_catalogue_rows_are_well_formed() -> None:
    rules = reference.rule_catalogue()
    ids = [r.rule_id for r in rules]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"NTP-[A-Z]\d\d", i) for i in ids)
    assert {r.severity for r in rules} <= {"error", "warning"}
    assert all(r.message_vi and r.message_en and r.tolerance_vnd >= 0 and r.tolerance_pct >= 0 for r in rules)


def test_one_model_per_rule_and_no_model_without_a_rule() -> None:
    models = sorted(p.stem for p in QUALITY.glob("rule_*.sql"))
    assert models == sorted(_catalogue_models())


def test_each_rule_model_emits_its_own_rule_id_only() -> None:
    for r in reference.rule_catalogue():
        sql = (QUALITY / f"{r.model_name}.sql").read_text(encoding="utf-8")
        body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
        assert set(re.findall(r"'(NTP-[A-Z]\d\d)'", body)) == {r.rule_id}, r.model_name
        assert "materialized='ephemeral'" in sql, r.model_name


def test_findings_stack_exactly_the_catalogue() -> None:
    macro = (DBT / "macros" / "rule_models.sql").read_text(encoding="utf-8")
    body = re.search(r"macro rule_models\(\).*?endmacro", macro, re.S)
    assert body is not None
    listed = re.findall(r"'(rule_[a-z0-9_]+)'", body.group(0))
    assert sorted(listed) == sorted(_catalogue_models()) and len(listed) == len(set(listed))


def test_rule_yamls_name_their_model_and_do_not_repeat_the_catalogue() -> None:
    for r in reference.rule_catalogue():
        path = QUALITY / f"{r.model_name}.yml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        (model,) = doc["models"]
        assert model["name"] == r.model_name and "rule" in model["config"]["tags"], path.name
        text = path.read_text(encoding="utf-8")
        assert r.message_vi not in text and r.message_en not in text and "severity:" not in text, path.name


def test_scorer_scores_every_catalogue_rule() -> None:
    assert tuple(r.rule_id for r in reference.rule_catalogue()) == scoring.RULES


def test_the_generator_plants_only_catalogue_rules() -> None:
    """The generated-year score (tests/rules/test_scoring_generated.py) scores every catalogue rule: for recall
    and precision when the generator plants it, else for silence; it can plant no rule the catalogue lacks."""
    catalogue = {r.rule_id for r in reference.rule_catalogue()}
    assert planted_rules(broken=True) <= catalogue
    assert planted_rules(broken=True) - planted_rules(broken=False) == {"NTP-F01"}
