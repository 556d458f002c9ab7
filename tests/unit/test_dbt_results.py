"""The monthly build's per-node summary (ntp/dbt_results.py): what it counts as failed, warned or skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ntp import dbt_results


def _project(tmp_path: Path, statuses: dict[str, str]) -> Path:
    results = [
        {"unique_id": uid, "status": status, "execution_time": 0.1 * i, "message": f"{status} message"}
        for i, (uid, status) in enumerate(statuses.items())
    ]
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "run_results.json").write_text(json.dumps({"results": results}), encoding="utf-8")
    return tmp_path


def test_a_clean_build_reports_nothing_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(
        tmp_path,
        {
            "model.p.fct": "success",
            "seed.p.ref": "success",
            "test.p.not_null_fct_id": "pass",
            "exposure.p.dashboard": "no-op",  # a build has nothing to run for an exposure
        },
    )
    rows = dbt_results.record(str(project))
    assert "4 node(s), 0 failed, warned or skipped" in capsys.readouterr().out
    assert all(r["message"] is None for r in rows)


def test_failures_warnings_and_skips_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(
        tmp_path,
        {
            "model.p.fct": "error",
            "test.p.unique_fct_id": "fail",
            "test.p.accepted_values_fct_kind": "warn",
            "model.p.mart": "skipped",
            "exposure.p.dashboard": "no-op",
        },
    )
    rows = dbt_results.record(str(project))
    assert "5 node(s), 4 failed, warned or skipped" in capsys.readouterr().out
    assert {r["name"]: r["message"] for r in rows}["unique_fct_id"] == "fail message"
