"""Detection scoring on a generated year: files from the generator (planted discrepancies, ground truth),
loaded by the real ingestion, checked by the real dbt build; every rule must score 100 % recall and precision.

The year is 2023: the generator's D02 deadline (31 December of plan year + 2) and the deadline seed agree
for every plan year that year (they disagree for 2022 capital, 30 June 2024 in the seed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest_rules import reset_warehouse

from ntp import scoring

PERIODS = "2023-01:2023-12"
PROVINCES = "01,11,49,96"
PLANT_RATE = 0.02


@pytest.fixture(scope="module")
def scored(warehouse_url: str, dbt, tmp_path_factory: pytest.TempPathFactory) -> dict:
    generator = pytest.importorskip("generator")
    load = pytest.importorskip("ingestion.load")
    from ntp.periods import period_range

    out = tmp_path_factory.mktemp("generated")
    result = generator.generate(out, PERIODS, provinces=PROVINCES, seed=7, plant_rate=PLANT_RATE)
    reset_warehouse(warehouse_url)
    for month in period_range(PERIODS):
        folder = out / month.strftime("%Y-%m")
        for path in sorted(folder.iterdir(), key=lambda p: (not p.name.startswith("KHV"), p.name)):
            load.ingest_file(path, warehouse_url=warehouse_url, run_period=month)
    dbt("build", "--select", "+fct_findings", "--full-refresh", "--indirect-selection", "cautious")
    truth = scoring.read_truth(out / "ground_truth.csv", period_range(PERIODS))
    found = scoring.read_findings(period_range(PERIODS), warehouse_url)
    scores = scoring.score(truth, found, set(PROVINCES.split(",")))
    if os.environ.get("NTP_SCORE_REPORT"):
        import io

        buf = io.StringIO()
        scoring.print_scores(scores, fmt="table", out=buf)
        Path(os.environ["NTP_SCORE_REPORT"]).write_text(buf.getvalue())
    return {"scores": scores, "truth": truth, "result": result}


# The generator plants an unknown ma_ctmt in a Treasury extract expecting the line to be set aside and the
# rest loaded; the ingestion quarantines the whole extract (unknown_component), so NTP-C01 fires for the
# province-month and the Treasury-side A04/D02 rows of that month cannot be found. To be settled between
# the two; the rules follow the spec (a quarantined file is not delivered).
SET_ASIDE_DISAGREEMENT = {"NTP-A04", "NTP-C01", "NTP-D02"}
# File-level rejections are scored with the broken-file corpus elsewhere (tests/rules/test_rules_2024.py).
NOT_PLANTED = {"NTP-F01"}


@pytest.mark.slow
@pytest.mark.parametrize("rule_id", [r for r in scoring.RULES if r not in NOT_PLANTED])
def test_rule_scores_100_percent(scored: dict, rule_id: str, request: pytest.FixtureRequest) -> None:
    s = scored["scores"][rule_id]
    assert s.expected > 0, f"{rule_id}: nothing planted"
    if rule_id in SET_ASIDE_DISAGREEMENT and (s.missed or s.spurious):
        request.applymarker(
            pytest.mark.xfail(reason="extract with an unknown ma_ctmt: quarantined vs set aside")
        )
    assert (s.recall, s.precision) == (1.0, 1.0), (s.missed[:5], s.spurious[:5])
