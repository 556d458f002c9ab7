"""Messy variants carry the same figures; planting covers every rule; revisions are listed."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from generator import generate
from generator.layout import component_by_key
from generator.messy import old_tone
from ntp_core import reference

# NTP-F01 (an unreadable file) is planted by the broken corpus, not the messy one.
RULES = {r.rule_id for r in reference.rule_catalogue()} - {"NTP-F01"}


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", str(text))
    return re.sub(r"\s+", " ", old_tone(text)).strip().casefold()


def _amount(cell: object) -> float:
    if isinstance(cell, int | float):
        return float(cell)
    text = str(cell).strip()
    if text in ("", "-", "–"):
        return 0.0
    neg = text.startswith("(")
    text = text.strip("()").replace(".", "").replace(" ", "").replace(",", ".")
    return -float(text) if neg else float(text)


def read_workbook(path: Path) -> dict[tuple, int]:
    """A small label-driven reader: unit line, header row `STT`, names or codes, 18 amount columns."""
    names = {_norm(c.name_vi): c.component_key for c in component_by_key().values()}
    out = {}
    wb = CalamineWorkbook.from_path(str(path))
    for sheet, cap in zip(wb.sheet_names, ("DTPT", "SN"), strict=True):
        rows = wb.get_sheet_by_name(sheet).to_python()
        unit = next(_norm(r[0]) for r in rows[:14] if "đơn vị" in _norm(r[0]) or "đvt" in _norm(r[0]))
        div = 1e9 if "tỷ" in unit else (1e6 if "triệu" in unit else 1)
        h = next(i for i, r in enumerate(rows) if _norm(r[0]) == "stt")
        lead = 3 if _norm(rows[h][2]) == "mã" else 2
        for r in rows[h + 3 :]:
            key = names.get(_norm(r[1]))
            if key is None:
                if _norm(r[0]).startswith(("người lập", "kt.")) or any(
                    "ngày" in _norm(c) and "tháng" in _norm(c) for c in r
                ):
                    break
                continue
            for j in range(18):
                block, rest = divmod(j, 9)
                measure, fund = divmod(rest, 3)
                if fund:
                    v = round(_amount(r[lead + j]) * div)
                    if v:
                        out[
                            (
                                cap,
                                key,
                                ("current", "carryover")[block],
                                ("plan_assigned", "allocated", "disbursed_cumulative")[measure],
                                ("NSTW", "NSDP")[fund - 1],
                            )
                        ] = v
    return out


def read_treasury(path: Path) -> dict[tuple, int]:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = unicodedata.normalize("NFC", raw.decode("cp1258"))
    sep = ";" if text.split("\n", 1)[0].count(";") > 3 else ","
    code_of = {c.treasury_code: c.component_key for c in component_by_key().values()}
    seen, sums = set(), defaultdict(int)
    for r in csv.DictReader(io.StringIO(text), delimiter=sep):
        line = tuple(r.values())
        if r["ten_dvqhns"] == "Tổng cộng" or line in seen or r["ma_ctmt"] not in code_of:
            continue
        seen.add(line)
        block = "current" if r["nam_kh"] == r["ky_bao_cao"][:4] else "carryover"
        key = (r["ma_tinh"].zfill(2), r["loai_von"], code_of[r["ma_ctmt"]], block)
        for col, measure in (("du_toan_giao", "allocated"), ("luy_ke_thanh_toan", "disbursed_cumulative")):
            sums[key + (measure, r["nguon_von"])] += int(re.sub(r"[.,]", "", r[col]))
    return {k: v for k, v in sums.items() if v}


def _expected(out: Path, source: str) -> dict[tuple, int]:
    with open(out / "expected_totals.csv", encoding="utf-8") as f:
        return {
            (
                r["period"],
                r["province_code"],
                r["capital_type"],
                r["component_key"],
                r["plan_block"],
                r["measure"],
                r["fund_source"],
            ): int(r["value_vnd"])
            for r in csv.DictReader(f)
            if r["source"] == source
        }


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    generate(out, "2024-01:2024-12", provinces="11,49,01", seed=5, messy=3, plant_rate=0.02)
    return out


def test_messy_workbooks_hold_expected_totals(messy: Path) -> None:
    expected = _expected(messy, "province")
    leaves = {k for c in ("DTPT", "SN") for k in __import__("generator.layout", fromlist=["x"]).sheet(c).leaves}
    checked = 0
    for path in sorted(messy.rglob("BC_NTP_*.xlsx")):
        code = path.name.split("_")[2]
        if any(messy.rglob(path.stem + "_thay_the.xlsx")):
            continue  # the superseded first version
        got = read_workbook(path)
        period = re.search(r"_(\d{4})(\d{2})", path.name).group(0)[1:]
        period = f"{period[:4]}-{period[4:]}"
        want = {k[2:]: v for k, v in expected.items() if k[:2] == (period, code) and k[3] in leaves}
        if not want:
            continue  # rejected workbook (unknown component): not loaded
        assert {k: v for k, v in got.items() if k[1] in leaves} == want, path.name
        checked += 1
    assert checked >= 30


def test_messy_treasury_holds_expected_totals(messy: Path) -> None:
    expected = _expected(messy, "treasury")
    for path in sorted(messy.rglob("KBNN_*.csv")):
        period = f"{path.stem[-6:-2]}-{path.stem[-2:]}"
        got = read_treasury(path)
        want = {k[1:]: v for k, v in expected.items() if k[0] == period and k[1] in {g[0] for g in got}}
        assert got == want, path.name


def test_every_rule_planted_and_revision_listed(messy: Path) -> None:
    with open(messy / "ground_truth.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["rule_id"] for r in rows} >= RULES
    rev = [r for r in rows if r["rule_id"] == "REVISION"]
    assert len(rev) == 1 and (messy / rev[0]["file"]).exists()
    wb = CalamineWorkbook.from_path(str(messy / rev[0]["file"]))
    title = " ".join(str(r[0]) for r in wb.get_sheet_by_name(wb.sheet_names[0]).to_python()[:12])
    assert "Thay thế báo cáo ngày" in unicodedata.normalize("NFC", old_tone(title).replace("Thay thê", "Thay thế"))


def test_treasury_equals_province_except_at_planted_keys(messy: Path) -> None:
    prov, tres = _expected(messy, "province"), _expected(messy, "treasury")
    with open(messy / "ground_truth.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    flagged = {
        (
            r["period"],
            r["province_code"],
            r["capital_type"],
            r["component_key"],
            r["plan_block"],
            r["fund_source"],
        )
        for r in rows
    }
    missing = {(r["period"], r["province_code"]) for r in rows if r["rule_id"] == "NTP-C01"}
    compared = 0
    for k, v in tres.items():
        if k[:2] in missing:
            continue
        compared += 1
        p = prov.get(k, 0)
        if abs(p - v) > 1_000_000:
            assert k[:5] + (k[6],) in flagged, k
    assert compared > 1000
