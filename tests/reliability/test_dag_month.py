"""R1, R2, R4 and the BI half of R5 through the real `ntp_monthly` DAG (`ntp run`, i.e. `airflow dags test`).

One module-scoped scenario on a private NTP_DATA_DIR and embedded PostgreSQL (the session warehouse is
never touched), three DAG runs of report month 2024-02 shared by every test here:

* run A — two provinces' real reports, the generator's `--broken` corpus (27 files) and 14 more bad inputs
  written by `support.EXTRA_CASES`: R1;
* run B — the same inbox again, plus an identical copy of one extract under another name: R2;
* run C — a corrected workbook for the month arrives (the generator's `_thay_the` re-delivery): R4.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import errors

from ntp_core.reference import rule_catalogue
from ntp_core.settings import PROJECT_ROOT

from . import support

pytestmark = pytest.mark.slow

NTP = str(Path(sys.executable).parent / "ntp")
MONTH = "2024-02"
BI_PASSWORD = "bi-reliability-test-only"  # a throwaway role password, set by the administrator step
DUPLICATE_SOURCE = "KBNN_12_202402.csv"
DUPLICATE_COPY = "KBNN_12_202402_gui_lai.csv"
REVISION = "BC_NTP_12_lai_chau_202402_thay_the.xlsx"
FIRST_VERSION = "BC_NTP_12_lai_chau_202402.xlsx"
GOOD_FILES = (
    "BC_NTP_11_dien_bien_202402.xlsx",
    FIRST_VERSION,
    "KBNN_11_202402.csv",
    DUPLICATE_SOURCE,
    "KHV_giao_2024.csv",
)

#: The generator's --broken corpus for this scenario (province 11, February 2024), as broken_files.csv
#: lists it; a test checks the two lists agree, so a new generator case shows up here.
GENERATOR_CASES = (
    "BC_NTP_11_cat_ngan_202402.xlsx",
    "BC_NTP_11_khong_phai_excel_202402.xlsx",
    "BC_NTP_11_html_202402.xls",
    "BC_NTP_11_bom_nen_202402.xlsx",
    "BC_NTP_11_o_xa_202402.xlsx",
    "BC_NTP_11_khai_thieu_202402.xlsx",
    "BC_NTP_11_rong_202402.xlsx",
    "KBNN_11_rong_202402.csv",
    "BC_NTP_11_thieu_cot_202402.xlsx",
    "BC_NTP_99_ha_tay_202402.xlsx",
    "BC_NTP_11_hang_la_202402.xlsx",
    "BC_NTP_11_so_loi_202402.xlsx",
    "BC_NTP_11_cong_thuc_202402.xlsx",
    "BC_NTP_11_khong_ky_202402.xlsx",
    "BC_NTP_11_tuong_lai_202402.xlsx",
    "BC_NTP_11_don_vi_202402.xlsx",
    "..\\..\\BC_NTP_11_202402.xlsx",
    "KBNN_11_sai_cot_202402.csv",
    "KBNN_11_tab_202402.csv",
    "KBNN_99_202402.csv",
    "KBNN_11_so_loi_202402.csv",
    "KBNN_11_tuong_lai_202402.csv",
    "KBNN_11_qua_lon_202402.csv",
    "KBNN_11_am_202402.csv",
    "KBNN_11_ky_loi_202402.csv",
    "KHV_giao_sai_cot_2024.csv",
    "KBNN_11_nhi_phan_202402.csv",
)
EXTRA_CASES = tuple(c[0] for c in support.EXTRA_CASES)
REFERENCE_CODES = ("unknown_province", "unknown_component")


@dataclass
class Run:
    returncode: int
    stdout: str
    log: str
    marts: dict
    raw: dict
    findings: list[dict] = field(default_factory=list)


@dataclass
class Scenario:
    gen: Path
    inbox: Path
    data: Path
    url: str
    runs: dict[str, Run]


def _findings(url: str) -> list[dict]:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        if not conn.execute("select to_regclass('marts.fct_findings')").fetchone()[0]:
            return []
        return cur.execute("select * from marts.fct_findings").fetchall()


def _run(data: Path, inbox: Path, url: str) -> Run:
    env = support.private_env(data, NTP_BI_PASSWORD=BI_PASSWORD)
    proc = subprocess.run(
        [NTP, "run", "--period", MONTH, "--inbox", str(inbox)],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    log_path = data / "logs" / f"ntp_monthly-{MONTH}.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    return Run(
        proc.returncode,
        proc.stdout + proc.stderr,
        log,
        support.marts_checksums(url),
        support.raw_fingerprint(url),
        _findings(url),
    )


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    from generator import generate

    base = tmp_path_factory.mktemp("rel-dag")
    gen, inbox, data = base / "gen", base / "inbox", base / "data"
    generate(
        gen,
        [date(2024, 2, 1), date(2024, 3, 1)],
        provinces=["11", "12"],
        scale="small",
        seed=5,
        messy=1,
        plant_rate=0.0,
        broken=True,
    )
    assert (gen / "2024-03" / REVISION).exists(), "the generator no longer writes the expected revision"
    shutil.copytree(gen / MONTH, inbox / MONTH)
    support.write_extra_cases(inbox / MONTH / "extra")
    server = support.start_private_server(data)
    try:
        url = server.url()
        # The administrator's one-time step gives ntp_bi its password (the DAG never creates roles).
        from ntp_core import warehouse

        warehouse.init(server.admin_url(), url, bi_password=BI_PASSWORD)
        runs = {"A": _run(data, inbox, url)}
        # R2: the identical extract delivered a second time, under another name.
        (inbox / "resent").mkdir()
        shutil.copy2(inbox / MONTH / DUPLICATE_SOURCE, inbox / "resent" / DUPLICATE_COPY)
        runs["B"] = _run(data, inbox, url)
        # R4: the province's corrected workbook for the month arrives later.
        (inbox / "late").mkdir()
        shutil.copy2(gen / "2024-03" / REVISION, inbox / "late" / REVISION)
        runs["C"] = _run(data, inbox, url)
        yield Scenario(gen, inbox, data, url, runs)
    finally:
        server.stop()


def _files(url: str) -> dict[str, dict]:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return {r["original_name"]: r for r in cur.execute("select * from audit.files")}


# -- every run finished -------------------------------------------------------------------------------


@pytest.mark.parametrize("run", ["A", "B", "C"])
def test_the_dag_run_finished_successfully(scenario: Scenario, run: str):
    r = scenario.runs[run]
    assert r.returncode == 0 and "success" in r.stdout, r.stdout[-4000:]


# -- R1: bad-input corpus -----------------------------------------------------------------------------


def test_the_corpus_is_the_generators_plus_the_suites(scenario: Scenario):
    with open(scenario.gen / "broken_files.csv", encoding="utf-8") as f:
        listed = {Path(r["file"]).name for r in csv.DictReader(f)}
    assert listed == set(GENERATOR_CASES)
    assert len(set(GENERATOR_CASES) | set(EXTRA_CASES)) == len(GENERATOR_CASES) + len(EXTRA_CASES) >= 25


def _expected(scenario: Scenario, name: str) -> dict:
    if name in EXTRA_CASES:
        _, _, code, row, column = next(c for c in support.EXTRA_CASES if c[0] == name)
        return {"code": code, "sheet": None, "row": row, "column": column}
    with open(scenario.gen / "broken_files.csv", encoding="utf-8") as f:
        r = next(r for r in csv.DictReader(f) if Path(r["file"]).name == name)
    return {
        "code": r["expected_error_code"],
        "sheet": r["expected_sheet"] or None,
        "row": int(r["expected_row"]) if r["expected_row"] else None,
        "column": r["expected_column"] or None,
    }


def _case_params():
    for name in GENERATOR_CASES + EXTRA_CASES:
        yield pytest.param(name, id=name.encode("unicode_escape").decode())


@pytest.mark.parametrize("name", list(_case_params()))
def test_bad_input_is_quarantined_precisely(scenario: Scenario, name: str):
    """Manifest row with the precise error, a quarantine copy with its report, no raw row, a finding."""
    exp = _expected(scenario, name)
    row = _files(scenario.url).get(name)
    assert row is not None, f"{name!r} was never ingested by the run"
    assert (row["status"], row["error_code"], row["row_count"]) == ("quarantined", exp["code"], 0), row
    for key in ("sheet", "row", "column"):
        if exp[key] is not None:
            assert row[f"error_{key}"] == exp[key], (key, row)
    assert name in row["error_message"] and f"[{exp['code']}]" in row["error_message"]
    # The ingestion task's log names the file with its outcome and the reason.
    first, _, rest = name.partition("\n")  # a name with a line break spans two log lines
    log = scenario.runs["A"].log
    logged = [ln for ln in log.splitlines() if "quarantined: " in ln and first in ln]
    assert logged and (not rest or rest in log), name
    ending = [ln for ln in log.splitlines() if rest and rest in ln] if rest else logged
    assert any(f"[{exp['code']}]" in ln for ln in ending), name
    # The quarantine copy and its .error.json, inside the quarantine folder.
    reports = [
        p
        for p in (scenario.data / "quarantine").rglob("*.error.json")
        if json.loads(p.read_text(encoding="utf-8"))["file"] == name
    ]
    assert len(reports) == 1, reports
    report = json.loads(reports[0].read_text(encoding="utf-8"))
    assert report["code"] == exp["code"] and report["sha256"] == row["sha256"]
    copy = reports[0].with_name(reports[0].name[: -len(".error.json")])
    assert copy.is_file() and copy.parent.parent == scenario.data / "quarantine"
    if row["size_bytes"]:
        from ingestion.archive import sha256_of

        assert sha256_of(copy) == row["sha256"]
    # No partial rows.
    fid = row["file_id"]
    leaked = support.query(
        scenario.url,
        "select (select count(*) from raw.province_report_cells where file_id = %(f)s) + "
        "(select count(*) from raw.treasury_lines where file_id = %(f)s) + "
        "(select count(*) from raw.plan_assignments where file_id = %(f)s) + "
        "(select count(*) from audit.rejected_lines where file_id = %(f)s)",
        {"f": fid},
    )
    assert leaked == [(0,)]
    # A finding in the marts names the file (NTP-C02 for an unresolved reference, else NTP-F01).
    rule = "NTP-C02" if exp["code"] in REFERENCE_CODES else "NTP-F01"
    found = [f for f in scenario.runs["A"].findings if f["source_file"] == name and f["rule_id"] == rule]
    assert len(found) == 1, [(f["rule_id"], f["source_file"]) for f in scenario.runs["A"].findings]
    assert found[0]["severity"] == "error" and exp["code"] in found[0]["detail"]


def test_the_months_good_files_loaded(scenario: Scenario):
    files = _files(scenario.url)
    for name in GOOD_FILES:
        assert name in files, name
        assert files[name]["status"] in ("loaded", "superseded") and files[name]["row_count"] > 0, files[name]
    facts = support.query(
        scenario.url,
        "select province_code, reporting_source, count(*) from marts.fct_ntp_monthly "
        "where period = %s group by 1, 2 order by 1, 2",
        (date(2024, 2, 1),),
    )
    assert [(p, s) for p, s, _ in facts] == [
        ("11", "province"),
        ("11", "treasury"),
        ("12", "province"),
        ("12", "treasury"),
    ], facts
    assert (scenario.data / "reports" / MONTH / "alert.html").exists()


def test_no_row_in_raw_without_an_accepted_file(scenario: Scenario):
    orphans = support.query(
        scenario.url,
        """
        select 'cells', count(*) from raw.province_report_cells c
            where not exists (select 1 from audit.files f where f.file_id = c.file_id
                              and f.status in ('loaded', 'superseded'))
        union all
        select 'treasury', count(*) from raw.treasury_lines t
            where not exists (select 1 from audit.files f where f.file_id = t.file_id
                              and f.status in ('loaded', 'superseded'))
        union all
        select 'plan', count(*) from raw.plan_assignments p
            where not exists (select 1 from audit.files f where f.file_id = p.file_id
                              and f.status in ('loaded', 'superseded'))""",
    )
    assert all(n == 0 for _, n in orphans), orphans


# -- R2: idempotency ----------------------------------------------------------------------------------


def test_running_the_month_again_leaves_the_marts_identical(scenario: Scenario):
    a, b = scenario.runs["A"].marts, scenario.runs["B"].marts
    assert {"fct_ntp_monthly", "fct_findings", "mart_disbursement_progress"} <= set(a)
    assert a["fct_ntp_monthly"][0] > 0 and a["fct_findings"][0] > 0
    assert b == a


def test_running_the_month_again_adds_no_raw_row(scenario: Scenario):
    assert scenario.runs["B"].raw == scenario.runs["A"].raw
    dupes = support.query(
        scenario.url,
        """
        select count(*) from (select file_id, source_line from raw.treasury_lines group by 1, 2
                              having count(*) > 1) d
        union all
        select count(*) from (select file_id, sheet, source_row, source_column, plan_block, measure,
                                     fund_source from raw.province_report_cells group by 1, 2, 3, 4, 5, 6, 7
                              having count(*) > 1) d
        union all
        select count(*) from (select sha256 from audit.files group by 1 having count(*) > 1) d""",
    )
    assert dupes == [(0,), (0,), (0,)]


def test_an_identical_file_under_another_name_is_a_duplicate(scenario: Scenario):
    assert f"duplicate: {scenario.inbox / 'resent' / DUPLICATE_COPY}" in scenario.runs["B"].log
    assert DUPLICATE_COPY not in _files(scenario.url)


# -- R4: a corrected workbook for the month -----------------------------------------------------------


def test_the_correction_supersedes_the_first_version_and_both_stay_in_raw(scenario: Scenario):
    files = _files(scenario.url)
    first, fixed = files[FIRST_VERSION], files[REVISION]
    assert (first["status"], first["version"]) == ("superseded", 1)
    assert (fixed["status"], fixed["version"]) == ("loaded", 2)
    counts = dict(
        support.query(
            scenario.url,
            "select file_id, count(*) from raw.province_report_cells where file_id = any(%s) group by 1",
            ([first["file_id"], fixed["file_id"]],),
        )
    )
    assert counts.get(first["file_id"], 0) > 0 and counts.get(fixed["file_id"], 0) > 0


def _expected_province_figures(gen: Path, province: str) -> dict[tuple, int]:
    out = {}
    with open(gen / "expected_totals.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["source"] == "province" and r["period"] == MONTH and r["province_code"] == province:
                key = (r["capital_type"], r["component_key"], r["plan_block"], r["measure"], r["fund_source"])
                out[key] = int(r["value_vnd"])
    return out


def test_the_marts_carry_the_corrected_figures(scenario: Scenario):
    fixed_id = _files(scenario.url)[REVISION]["file_id"]
    rows = support.query(
        scenario.url,
        """
        select capital_type, component_key, plan_block, fund_source, file_id,
               plan_assigned_vnd, allocated_vnd, disbursed_cumulative_vnd
        from marts.fct_ntp_monthly
        where period = '2024-02-01' and province_code = '12' and reporting_source = 'province'
          and fund_source in ('NSTW', 'NSDP')""",
    )
    assert rows and {r[4] for r in rows} == {fixed_id}
    want = _expected_province_figures(scenario.gen, "12")
    got = {}
    for cap, comp, block, fund, _, plan, alloc, disb in rows:
        for measure, v in (("plan_assigned", plan), ("allocated", alloc), ("disbursed_cumulative", disb)):
            if v:
                got[(cap, comp, block, measure, fund)] = int(v)
    want = {
        k: v
        for k, v in want.items()
        if k[3] in ("plan_assigned", "allocated", "disbursed_cumulative")
        and k[4] in ("NSTW", "NSDP")
        and k[1] in {g[1] for g in got}
    }
    assert got == want
    assert scenario.runs["C"].marts["fct_ntp_monthly"] != scenario.runs["B"].marts["fct_ntp_monthly"]


def _wrong_figure(scenario: Scenario) -> dict[str, str]:
    """The generator's ground truth for the revision: the one figure the first version got wrong."""
    with open(scenario.gen / "ground_truth.csv", encoding="utf-8") as f:
        (row,) = [r for r in csv.DictReader(f) if r["rule_id"] == "REVISION" and r["file"].endswith(REVISION)]
    assert row["component_key"] and row["delta_vnd"], row
    return row


def _on_the_wrong_figure(scenario: Scenario, run: str, rule: str | None = None) -> list[dict]:
    """The findings of `run` about the wrong figure's line, as the ground truth names it."""
    truth = _wrong_figure(scenario)
    return [
        f
        for f in scenario.runs[run].findings
        if f["period"] == date(2024, 2, 1)
        and f["province_code"] == truth["province_code"]
        and (f["capital_type"], f["component_key"], f["fund_source"])
        == (truth["capital_type"], truth["component_key"], truth["fund_source"])
        and f["plan_block"] in (truth["plan_block"], None)
        and (rule is None or f["rule_id"] == rule)
    ]


def test_the_wrong_figure_raised_the_finding_the_truth_predicts(scenario: Scenario):
    truth = _wrong_figure(scenario)
    (before,) = [f for f in _on_the_wrong_figure(scenario, "B", "NTP-A02") if f["measure"] == truth["measure"]]
    assert before["status"] in ("new", "persisting")
    assert int(before["province_value_vnd"]) == int(truth["province_value_vnd"])
    # The Treasury recorded the right figure (the truth's expected value) up to A02's tolerance, so the finding's
    # delta is the truth's wrong-minus-right up to that tolerance (max(tolerance_vnd, tolerance_pct % of the larger)).
    (a02,) = [r for r in rule_catalogue() if r.rule_id == "NTP-A02"]
    right, treasury = int(truth["expected_vnd"]), int(before["treasury_value_vnd"])
    tolerance = max(a02.tolerance_vnd, a02.tolerance_pct / 100 * max(abs(right), abs(treasury)))
    assert abs(treasury - right) <= tolerance
    assert abs(int(before["delta_vnd"]) - int(truth["delta_vnd"])) <= tolerance


def test_the_findings_the_correction_fixed_are_resolved(scenario: Scenario):
    truth = _wrong_figure(scenario)
    (before,) = [f for f in _on_the_wrong_figure(scenario, "B", "NTP-A02") if f["measure"] == truth["measure"]]
    after = {f["finding_key"]: f for f in scenario.runs["C"].findings}
    assert before["finding_key"] in after, "the finding vanished instead of being resolved"
    assert (after[before["finding_key"]]["status"], after[before["finding_key"]]["resolved_by"]) == (
        "resolved",
        "revision",
    )
    # nothing about the corrected line stays open
    assert [f for f in _on_the_wrong_figure(scenario, "C") if f["status"] != "resolved"] == []


# -- R5: the BI role, as the DAG's dbt run configures it ------------------------------------------------


@pytest.fixture(scope="module")
def bi(scenario: Scenario) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(scenario.url)
    parts.update(user="ntp_bi", password=BI_PASSWORD)
    return psycopg.conninfo.make_conninfo(**parts)


def test_bi_role_reads_every_mart(scenario: Scenario, bi: str):
    tables = list(scenario.runs["C"].marts)
    assert len(tables) >= 8
    with psycopg.connect(bi) as conn:
        for table in tables:
            conn.execute(f"select * from marts.{table} limit 1").fetchall()


@pytest.mark.parametrize(
    "sql",
    [
        "select * from raw.treasury_lines limit 1",
        "select * from raw.province_report_cells limit 1",
        "select * from raw.plan_assignments limit 1",
        "select * from audit.files limit 1",
        "select * from audit.rejected_lines limit 1",
        "select * from staging.stg_treasury__lines limit 1",
        "select * from reference.ref_components limit 1",
        "select * from quality.rule_ntp_a01__allocation_mismatch limit 1",
        "insert into marts.dim_month select * from marts.dim_month limit 1",
        "update marts.fct_findings set status = 'resolved'",
        "delete from marts.fct_ntp_monthly",
        "truncate marts.fct_findings",
        "alter table marts.dim_month add column x int",
        "create table marts.bi_scratch (x int)",
        "create table public.bi_scratch (x int)",
        "create schema bi_scratch",
        "drop table marts.dim_month",
        "create role bi_other login",
        "select pg_read_file('postgresql.conf')",
        "copy marts.dim_month to '/tmp/bi_dump.csv'",
        "create temporary table bi_scratch (x int)",
    ],
)
def test_bi_role_is_refused(bi: str, sql: str):
    """Refused for lack of the privilege, not because a schema is missing (every schema named exists)."""
    with psycopg.connect(bi) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(sql)


def test_bi_role_cannot_log_in_without_its_password(scenario: Scenario, bi: str):
    parts = psycopg.conninfo.conninfo_to_dict(bi)
    parts["password"] = "wrong"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(psycopg.conninfo.make_conninfo(**parts)).close()
