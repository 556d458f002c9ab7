"""Broken-file corpus and the command-line glue."""

from __future__ import annotations

import argparse
import csv
import zipfile
import zlib
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
    by_name = {Path(r["file"]).name: tmp_path / r["file"] for r in res.broken}
    bomb_path = by_name["BC_NTP_11_bom_nen_202403.xlsx"]
    bomb = zipfile.ZipFile(bomb_path)
    assert sum(i.file_size for i in bomb.infolist()) > 100 * bomb_path.stat().st_size
    # the sparse-sheet bomb: a small file whose first sheet has a cell at the last row and column
    sparse = by_name["BC_NTP_11_o_xa_202403.xlsx"]
    assert sparse.stat().st_size < 64 * 1024
    sheet = zipfile.ZipFile(sparse).read("xl/worksheets/sheet1.xml")
    assert b'<c r="XFD1048576">' in sheet and b'<dimension ref="A1:XFD1048576"/>' in sheet
    # the under-declared member: its headers declare a few KB, its deflate stream holds megabytes
    lying = by_name["BC_NTP_11_khai_thieu_202403.xlsx"]
    info = zipfile.ZipFile(lying).getinfo("xl/worksheets/sheet1.xml")
    raw = lying.read_bytes()
    start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    start += int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    real = len(zlib.decompressobj(-15).decompress(raw[start : start + info.compress_size]))
    assert info.file_size < 16 * 1024 and real > 1024 * 1024
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
