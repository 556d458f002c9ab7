"""Broken-file corpus and the command-line glue."""

from __future__ import annotations

import argparse
import csv
import zipfile
from pathlib import Path

import pytest

from generator import generate
from generator.cli import add_arguments, run_from_args


def test_broken_corpus_listed_and_really_broken(tmp_path: Path) -> None:
    res = generate(tmp_path, "2024-03", provinces="11", broken=True)
    with open(tmp_path / "broken_files.csv", encoding="utf-8") as f:
        rows = {r["expected_error_code"]: r for r in csv.DictReader(f)}
    assert len(res.broken) >= 25
    assert {
        "not_a_workbook",
        "corrupt_workbook",
        "too_large",
        "missing_columns",
        "unknown_province",
        "unparseable_number",
        "formula_without_value",
        "empty_file",
        "bad_csv_header",
        "future_period",
        "unknown_component",
        "unsafe_file_name",
    } <= set(rows)
    for r in res.broken:
        assert (tmp_path / r["file"]).exists(), r
    assert not zipfile.is_zipfile(tmp_path / rows["not_a_workbook"]["file"])
    bomb = zipfile.ZipFile(tmp_path / rows["too_large"]["file"])
    assert sum(i.file_size for i in bomb.infolist()) > 100 * (tmp_path / rows["too_large"]["file"]).stat().st_size
    xml = zipfile.ZipFile(tmp_path / rows["formula_without_value"]["file"]).read("xl/worksheets/sheet1.xml")
    assert b'<c r="D12" s="7"><f>E12+F12</f></c>' in xml
    truth_files = {r["file"] for r in res.ground_truth if r["rule_id"] in ("NTP-F01", "NTP-C02")}
    assert {r["file"] for r in res.broken} <= truth_files


def test_cli_bad_args_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", str(tmp_path), "--periods", "2024-13"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", str(tmp_path), "--periods", "2024-01", "--plant", "2"])
    args = parser.parse_args(["--out", str(tmp_path), "--periods", "2024-01", "--provinces", "98"])
    assert run_from_args(args) == 2
    assert "unknown province" in capsys.readouterr().err
    args = parser.parse_args(["--out", str(tmp_path), "--periods", "2024-01:2024-02", "--provinces", "11"])
    assert run_from_args(args) == 0
    out = capsys.readouterr().out
    assert "2024-02: 1 workbooks" in out and "wrote" in out
