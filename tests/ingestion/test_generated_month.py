"""The generator's own output through the real loader: messy files load to the đồng, broken files are
quarantined exactly as `broken_files.csv` expects, and unknown Treasury codes are set aside line by line.

Each scenario generates one month for a handful of provinces once per module and ingests it into the
session warehouse (emptied first); the tests then read the raw tables and the manifest.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from ntp_core.reference import components
from ntp_core.settings import Settings

MONTH = date(2024, 3, 1)
PROVINCES = ["01", "11", "49", "79", "91"]


@dataclass
class Month:
    out: Path
    results: list  # IngestResult per file, in the order of `files`
    files: list[Path]
    settings: Settings


def _ingest_month(url: str, tmp: Path, **kw) -> Month:
    from generator import generate
    from ingestion.load import ingest_files
    from ntp_core.warehouse import connect

    with connect(url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    out = tmp / "gen"
    generate(out, [MONTH], provinces=PROVINCES, scale="small", **kw)
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.parent != out)
    settings = Settings(data_dir=tmp / "data", inbox_dir=out, warehouse_url=url)
    results = ingest_files(files, warehouse_url=url, run_period=MONTH, settings=settings, workers=2)
    return Month(out, results, files, settings)


def _query(url: str, sql: str, params: tuple | None = None) -> list[tuple]:
    from ntp_core.warehouse import connect

    with connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def _expected(out: Path) -> dict[str, dict[tuple, int]]:
    """By source:_totals.csv -> {(period, province, capital, component, block, measure, fund): VND}"""
    by: dict[str, dict[tuple, int]] = defaultdict(dict)
    with open(out / "expected_totals.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (
                r["period"],
                r["province_code"],
                r["capital_type"],
                r["component_key"],
                r["plan_block"],
                r["measure"],
                r["fund_source"],
            )
            by[r["source"]][key] = int(r["value_vnd"])
    return by


def _nonzero(rows: list[tuple]) -> dict[tuple, int]:
    return {tuple(r[:-1]): int(r[-1]) for r in rows if r[-1] != 0}


def _loaded_province_cells(url: str) -> dict[tuple, int]:
    rows = _query(
        url,
        "select to_char(c.period, 'YYYY-MM'), c.province_code, c.capital_type, c.component_key, "
        "c.plan_block, c.measure, c.fund_source, sum(c.value) from raw.province_report_cells c "
        "join audit.files f using (file_id) where f.status = 'loaded' and c.component_key <> 'TOTAL' "
        "and c.fund_source <> 'TOTAL' and c.measure <> 'disbursement_rate_pct' "
        "group by 1, 2, 3, 4, 5, 6, 7",
    )
    for r in rows:
        assert r[-1] == int(r[-1]), f"a province figure is not whole VND: {r}"
    return _nonzero(rows)


def _loaded_treasury(url: str) -> dict[tuple, int]:
    code_to_key = {c.treasury_code: c.component_key for c in components()}
    rows = _query(
        url,
        "select to_char(t.period, 'YYYY-MM'), t.ma_tinh, t.loai_von, t.ma_ctmt, "
        "case when t.nam_kh = extract(year from t.period) then 'current' else 'carryover' end, "
        "t.nguon_von, sum(t.du_toan_giao), sum(t.luy_ke_thanh_toan) from raw.treasury_lines t "
        "join audit.files f using (file_id) where f.status = 'loaded' group by 1, 2, 3, 4, 5, 6",
    )
    out: list[tuple] = []
    for period, prov, cap, ctmt, block, fund, alloc, disb in rows:
        key = code_to_key[ctmt]
        out.append((period, prov, cap, key, block, "allocated", fund, alloc))
        out.append((period, prov, cap, key, block, "disbursed_cumulative", fund, disb))
    return _nonzero(out)


def _loaded_plan(url: str) -> dict[tuple, int]:
    code_to_key = {c.treasury_code: c.component_key for c in components()}
    rows = _query(
        url,
        "select p.ma_tinh, p.loai_von, p.ma_ctmt, p.nguon_von, sum(p.ke_hoach_giao) "
        "from raw.plan_assignments p join audit.files f using (file_id) where f.status = 'loaded' "
        "and p.nam_kh = %s group by 1, 2, 3, 4",
        (MONTH.year,),
    )
    return _nonzero(
        [
            (f"{MONTH:%Y-%m}", prov, cap, code_to_key[ctmt], "current", "plan_assigned", fund, v)
            for prov, cap, ctmt, fund, v in rows
        ]
    )


def _diff(got: dict[tuple, int], want: dict[tuple, int]) -> list:
    keys = sorted(set(got) | set(want))
    return [(k, got.get(k), want.get(k)) for k in keys if got.get(k) != want.get(k)][:10]


# -- messy output at its highest level ------------------------------------------------------------


@pytest.fixture(scope="module")
def messy(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Month:
    return _ingest_month(warehouse_url, tmp_path_factory.mktemp("messy"), seed=11, messy=3, plant_rate=0.0)


def test_every_messy_file_loads(messy: Month):
    bad = [(r.path, r.error_message) for r in messy.results if r.status not in ("loaded", "superseded")]
    assert not bad


def test_the_corrected_re_delivery_supersedes_its_first_version(messy: Month, warehouse_url: str):
    # results report the status at each file's commit; the manifest has the final order
    status = dict(_query(warehouse_url, "select original_name, status from audit.files"))
    revisions = [p.name for p in messy.files if "thay_the" in p.name]
    assert revisions, "the generator wrote no corrected re-delivery at this seed"
    assert all(status[name] == "loaded" for name in revisions)
    superseded = sorted(n for n, s in status.items() if s == "superseded")
    assert superseded == sorted(n.replace("_thay_the", "") for n in revisions)


def test_messy_province_figures_equal_the_generator_to_the_dong(messy: Month, warehouse_url: str):
    want = _expected(messy.out)["province"]
    got = _loaded_province_cells(warehouse_url)
    assert want, "the generator wrote no province totals"
    assert _diff(got, want) == []


def test_messy_treasury_sums_equal_the_generator_to_the_dong(messy: Month, warehouse_url: str):
    want = _expected(messy.out)["treasury"]
    got = _loaded_treasury(warehouse_url)
    assert want
    assert _diff(got, want) == []


def test_messy_plan_file_equals_the_generator(messy: Month, warehouse_url: str):
    want = _expected(messy.out)["plan_file"]
    assert want
    assert _diff(_loaded_plan(warehouse_url), want) == []


def test_messy_variants_are_reported_in_the_manifest(messy: Month, warehouse_url: str):
    """Fixes that change what is loaded (dropped duplicates, padded codes, total lines) are never silent."""
    notes = " | ".join(
        m
        for (m,) in _query(
            warehouse_url,
            "select error_message from audit.files where kind <> 'province_workbook' and error_message is not null",
        )
    )
    raw = "".join(p.read_bytes().decode("utf-8", "replace") for p in messy.files if p.suffix == ".csv")
    if "Tổng cộng" in raw or "Tong cong" in raw:
        assert "total line" in notes
    assert _query(warehouse_url, "select count(*) from audit.files where status = 'quarantined'") == [(0,)]


# -- broken files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Month:
    return _ingest_month(warehouse_url, tmp_path_factory.mktemp("broken"), seed=5, messy=1, plant_rate=0.0, broken=True)


def _broken_list(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "broken_files.csv", encoding="utf-8") as f:
        return {Path(r["file"]).name: r for r in csv.DictReader(f)}


def test_each_broken_file_is_quarantined_precisely(broken: Month, warehouse_url: str):
    expected = _broken_list(broken.out)
    assert len(expected) >= 20
    rows = {
        r[0]: r[1:]
        for r in _query(
            warehouse_url,
            "select original_name, status, error_code, error_sheet, error_row, error_column, "
            "error_message, row_count from audit.files",
        )
    }
    problems = []
    for name, exp in expected.items():
        got = rows.get(name)
        if got is None:
            problems.append((name, "not in the manifest"))
            continue
        status, code, sheet, row, column, message, count = got
        want = (
            "quarantined",
            exp["expected_error_code"],
            exp["expected_sheet"] or sheet,
            int(exp["expected_row"]) if exp["expected_row"] else row,
            exp["expected_column"] or column,
            0,
        )
        if (status, code, sheet, row, column, count) != want:
            problems.append((name, (status, code, sheet, row, column), want, message))
        elif name not in (message or "") or f"[{code}]" not in message:
            problems.append((name, "message does not name the file and the code", message))
    assert problems == [], "\n".join(map(repr, problems))


def test_broken_files_leave_no_rows_and_a_report_each(broken: Month, warehouse_url: str):
    expected = _broken_list(broken.out)
    leaked = _query(
        warehouse_url,
        "select f.original_name from audit.files f where f.status = 'quarantined' and ("
        "exists (select 1 from raw.province_report_cells c where c.file_id = f.file_id) or "
        "exists (select 1 from raw.treasury_lines t where t.file_id = f.file_id) or "
        "exists (select 1 from raw.plan_assignments p where p.file_id = f.file_id))",
    )
    assert leaked == []
    reports = list(broken.settings.quarantine_dir.rglob("*.error.json"))
    assert len(reports) == len(expected)


def test_good_files_of_a_broken_month_still_load(broken: Month, warehouse_url: str):
    expected = _broken_list(broken.out)
    good = [r for r in broken.results if Path(r.path).name not in expected]
    assert good and all(r.status in ("loaded", "superseded") for r in good), [
        (r.path, r.error_message) for r in good if r.status not in ("loaded", "superseded")
    ]
    want = _expected(broken.out)
    assert _diff(_loaded_province_cells(warehouse_url), want["province"]) == []
    assert _diff(_loaded_treasury(warehouse_url), want["treasury"]) == []


def test_broken_files_name_their_province_when_it_could_be_read(broken: Month, warehouse_url: str):
    """The manifest records the province of a quarantined file whenever its content names one before (or
    besides) the failure — a bad unit line, no period line, a month not started, a missing column group, a
    broken CSV header with a readable first line — as the ground truth expects. Only a path-like name is
    rejected before the content is read."""
    expected = _broken_list(broken.out)
    with open(broken.out / "ground_truth.csv", encoding="utf-8") as f:
        truth = {
            Path(r["file"]).name: r["province_code"] or None
            for r in csv.DictReader(f)
            if Path(r["file"]).name in expected
        }
    got = dict(
        _query(warehouse_url, "select original_name, province_code from audit.files where status = 'quarantined'")
    )
    unread = {name for name, exp in expected.items() if exp["expected_error_code"] == "unsafe_file_name"}
    want = {name: (None if name in unread else province) for name, province in truth.items()}
    assert {name: got.get(name) for name in want} == want
    readable = ("unknown_unit", "unknown_period", "missing_columns", "future_period", "bad_csv_header")
    assert {exp["expected_error_code"] for name, exp in expected.items() if want[name]} >= set(readable)


# -- planted unknown Treasury codes (NTP-C02 lines) -------------------------------------------------


@pytest.fixture(scope="module")
def planted(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Month:
    return _ingest_month(warehouse_url, tmp_path_factory.mktemp("planted"), seed=3, messy=0, plant_rate=0.02)


def test_planted_unknown_codes_are_set_aside_and_the_extract_loads(planted: Month, warehouse_url: str):
    with open(planted.out / "ground_truth.csv", encoding="utf-8") as f:
        truth = [r for r in csv.DictReader(f) if r["rule_id"] == "NTP-C02" and "ma_ctmt" in r["note"]]
    assert truth, "the generator planted no unknown Treasury code at this seed"
    got = _query(
        warehouse_url,
        "select f.original_name, f.status, count(r.*), min(r.raw_value), max(r.raw_value) "
        "from audit.rejected_lines r join audit.files f using (file_id) group by 1, 2",
    )
    assert sorted(g[0] for g in got) == sorted(Path(t["file"]).name for t in truth)
    for name, status, n, lo, hi in got:
        assert (status, lo, hi) == ("loaded", "99990", "99990"), name
        assert n == 2  # the generator's note: 2 lines
    want = _expected(planted.out)["treasury"]
    assert _diff(_loaded_treasury(warehouse_url), want) == []
