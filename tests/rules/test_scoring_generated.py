"""Detection scoring on a generated year: files from the generator (planted discrepancies, broken files,
ground truth), loaded by the real ingestion, checked by the real dbt build; every rule — NTP-F01 and NTP-C02
on the broken-file corpus included — must score 100 % recall and precision. The counts per rule (expected /
found / matched) are printed in the terminal summary.

The year is 2023 with the generator's default deadlines (it reads the deadline seed for NTP-D02).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from conftest_rules import SCORE_REPORTS, reset_warehouse

import generator
from generator.planting import planted_rules
from ingestion import load
from ntp import scoring

PERIODS = "2023-01:2023-12"
PROVINCES = "01,11,49,96"
PLANT_RATE = 0.02


@pytest.fixture(scope="module")
def scored(warehouse_url: str, dbt, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from ntp_core.periods import period_range

    out = tmp_path_factory.mktemp("generated")
    result = generator.generate(out, PERIODS, provinces=PROVINCES, seed=7, plant_rate=PLANT_RATE, broken=True)
    reset_warehouse(warehouse_url)
    for month in period_range(PERIODS):
        folder = out / month.strftime("%Y-%m")
        for path in sorted(folder.iterdir(), key=lambda p: (not p.name.startswith("KHV"), p.name)):
            load.ingest_file(path, warehouse_url=warehouse_url, run_period=month)
    dbt("build", "--select", "+fct_findings", "--full-refresh", "--indirect-selection", "cautious")
    truth = scoring.read_truth(out / "ground_truth.csv", period_range(PERIODS))
    found = scoring.read_findings(period_range(PERIODS), warehouse_url)
    scores = scoring.score(truth, found, set(PROVINCES.split(",")))
    buf = io.StringIO()
    scoring.print_scores(scores, fmt="table", out=buf)
    SCORE_REPORTS.append(
        f"{PERIODS}, provinces {PROVINCES}, plant {PLANT_RATE}, seed 7, broken files\n" + buf.getvalue()
    )
    if os.environ.get("NTP_SCORE_REPORT"):
        Path(os.environ["NTP_SCORE_REPORT"]).write_text(buf.getvalue())
    return {"scores": scores, "truth": truth, "result": result}


@pytest.mark.slow
@pytest.mark.parametrize("rule_id", scoring.RULES)
def test_rule_scores_100_percent(scored: dict, rule_id: str) -> None:
    """Every catalogue rule: a rule the generator plants finds exactly its planted cases; a rule it does not
    (yet) plant must stay silent on the generated year, whose data is clean apart from what was planted."""
    s = scored["scores"][rule_id]
    if rule_id not in planted_rules(broken=True):
        assert s.found == 0, (f"{rule_id} fires on generated data the generator does not plant it in", s.spurious[:5])
        return
    assert s.expected > 0, f"{rule_id}: nothing planted"
    counts = (s.expected, s.found, s.matched)
    assert (s.recall, s.precision) == (1.0, 1.0), (counts, s.missed[:5], s.spurious[:5])
