"""Published figures on a generated year with planted discrepancies: books of record, statuses, coverage.

One year of three provinces (two of them merged into one in 2025, so the merged view sums two units) with
`plant_rate` 0.02: unit mix-ups (NTP-T02), parent lines that do not sum (NTP-I03), falling cumulatives
(NTP-T01), a missing workbook and a missing Treasury extract (NTP-C01), a rejected workbook. Generated and
ingested once, built once; every test only reads. The expected published totals are computed here from the
generator's expected totals and ground truth, not from the models.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

MONTHS = [date(2024, m, 1) for m in range(1, 13)]
PROVINCES = "11,48,49"
#: docs/quality-rules.md: the rules whose finding makes the flagged figure unusable as a number.
SUSPECT_RULES = {"NTP-T01", "NTP-T02", "NTP-I03"}
MEASURES = ("plan_assigned", "allocated", "disbursed_cumulative")


def query(url: str, sql: str, params=()) -> list[tuple]:
    from ntp_core import warehouse

    with warehouse.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def published(warehouse_url: str, dbt, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated year, ingested by the real loader (quarantines included) and built once by dbt."""
    from generator import generate
    from ingestion.load import ingest_file
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    out = tmp_path_factory.mktemp("generated-planted")
    generate(out, MONTHS, provinces=PROVINCES, seed=5, plant_rate=0.02)
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        year, month = map(int, folder.name.split("-"))
        for path in sorted(folder.iterdir()):
            ingest_file(path, warehouse_url=warehouse_url, run_period=date(year, month, 1))
    # The whole project, unit tests included: the monthly DAG leaves them out (dbt's advice for production
    # builds), so this build is where they run.
    dbt("build")
    return out


def test_every_unit_test_of_the_project_passes(published: Path, dbt):
    """The unit tests (`unit_tests:` in the models' YAML, expected rows written by hand) all ran in the
    fixture's build and passed: one result per unit test that build's manifest defines."""
    defined = set(json.loads((dbt.target / "manifest.json").read_text(encoding="utf-8"))["unit_tests"])
    results = json.loads((dbt.target / "run_results.json").read_text(encoding="utf-8"))["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(defined) >= 8
    assert ran == dict.fromkeys(defined, "pass")


def test_every_table_is_analyzed_inside_its_own_build_step(published: Path, dbt, warehouse_url: str):
    """Each table, incremental model and seed gets its planner statistics from its post-hook (macros/statistics.sql),
    within the step that built it, before the models that read it are planned: PostgreSQL records a manual
    ANALYZE in `last_analyze` (autovacuum's go to `last_autoanalyze`)."""
    from datetime import datetime

    nodes = json.loads((dbt.target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    results = json.loads((dbt.target / "run_results.json").read_text(encoding="utf-8"))["results"]
    steps = {}
    for r in results:
        node = nodes.get(r["unique_id"], {})
        if node.get("resource_type") == "seed" or (
            node.get("resource_type") == "model" and node["config"]["materialized"] in ("table", "incremental")
        ):
            (execute,) = [t for t in r["timing"] if t["name"] == "execute"]
            steps[(node["schema"], node["alias"])] = tuple(
                datetime.fromisoformat(execute[k].replace("Z", "+00:00")) for k in ("started_at", "completed_at")
            )
    assert len(steps) >= 21  # 4 tables, 10 incremental models and 7 seeds
    analyzed = dict(
        ((schema, name), at)
        for schema, name, at in query(
            warehouse_url,
            "select schemaname, relname, last_analyze from pg_stat_user_tables where last_analyze is not null",
        )
    )
    outside = {
        key: analyzed.get(key)
        for key, (start, end) in steps.items()
        if not start <= analyzed.get(key, start.replace(year=1)) <= end
    }
    assert outside == {}


def books_of_record(out: Path) -> tuple[dict, dict]:
    """Published totals per (period, program, plan block, measure) from the generator's files, by the rules of
    docs/warehouse.md; and the planted facts the tests rely on."""
    truth = read_csv(out / "ground_truth.csv")
    no_workbook = {
        (r["period"], r["province_code"]) for r in truth if r["rule_id"] == "NTP-C01" and "workbook" in r["note"]
    }
    no_extract = {
        (r["period"], r["province_code"]) for r in truth if r["rule_id"] == "NTP-C01" and "Treasury" in r["note"]
    }
    flagged = {
        (
            r["period"],
            r["province_code"],
            r["component_key"],
            r["fund_source"],
            r["capital_type"],
            r["plan_block"],
            r["measure"],
            "treasury" if r["note"].lower().startswith("treasury") else "province",
        )
        for r in truth
        if r["rule_id"] in SUSPECT_RULES
    }
    values: dict[tuple, int] = {}
    lines: dict[tuple, set] = defaultdict(set)
    plan_file_months = set()
    for r in read_csv(out / "expected_totals.csv"):
        key = (
            r["period"],
            r["province_code"],
            r["component_key"],
            r["fund_source"],
            r["capital_type"],
            r["plan_block"],
        )
        values[(*key, r["measure"], r["source"])] = int(r["value_vnd"])
        lines[(r["period"], r["province_code"], r["capital_type"])].add(key)
        if r["source"] == "plan_file":
            plan_file_months.add((r["period"], r["province_code"]))
    totals: dict[tuple, int] = defaultdict(int)

    def figure(key: tuple, measure: str, source: str) -> int | None:
        """A source's figure on a key: None when its file is not loaded or the figure is flagged as suspect."""
        month = key[:2]
        if (*key, measure, source) in flagged:
            return None
        if month in (no_workbook if source == "province" else no_extract):
            return None
        return values.get((*key, measure, source), 0)  # a loaded file without the line: 0

    def first(key: tuple, measure: str) -> int | None:
        return next((v for s in ("treasury", "province") if (v := figure(key, measure, s)) is not None), None)

    for keys in lines.values():
        components = {k[2] for k in keys}
        for key in keys:
            component, block = key[2], key[5]
            if any(c.startswith(component + ".") for c in components):  # a parent: roll-ups add leaves only
                continue
            if key[:2] in plan_file_months and block == "current":
                plan = values.get((*key, "plan_assigned", "plan_file"), 0)
            else:
                plan = figure(key, "plan_assigned", "province")
            for measure, value in (
                ("plan_assigned", plan),
                ("allocated", first(key, "allocated")),
                ("disbursed_cumulative", first(key, "disbursed_cumulative")),
            ):
                if value:
                    totals[(key[0], component.split(".")[0], block, measure)] += value
    planted = {"no_extract": no_extract, "no_workbook": no_workbook, "flagged": flagged}
    return dict(totals), planted


def test_national_published_totals_equal_books_of_record(published: Path, warehouse_url: str):
    expected, planted = books_of_record(published)
    assert planted["no_extract"] and planted["no_workbook"]
    assert any(f[-2] == "allocated" and f[-1] == "province" for f in planted["flagged"])  # a planted unit mix-up
    got = {}
    for period, program, block, plan, alloc, disb in query(
        warehouse_url,
        """
        select to_char(period, 'YYYY-MM'), program_key, plan_block, published_plan_assigned_vnd,
               published_allocated_vnd, published_disbursed_cumulative_vnd
        from marts.mart_disbursement_national""",
    ):
        for measure, value in zip(MEASURES, (plan, alloc, disb), strict=True):
            if value:
                got[(period, program, block, measure)] = int(value)
    assert got == expected
    # the province-reported sums still carry the unit mix-up the published ones leave out
    assert (
        query(
            warehouse_url,
            "select count(*) from marts.mart_disbursement_national "
            "where province_allocated_vnd > 10 * published_allocated_vnd",
        )[0][0]
        > 0
    )


def test_no_suspect_figure_is_summed(published: Path, warehouse_url: str):
    """A figure flagged by an open finding of a suspect-making rule is never the published one, and the marts
    sum nothing but published leaf figures."""
    flagged = query(
        warehouse_url,
        """
        select f.rule_id, f.measure, f.subject, p.published_plan_assigned_source, p.published_allocated_source,
               p.published_disbursed_source
        from marts.fct_findings f
        join reference.ref_rule_catalogue c using (rule_id)
        join marts.fct_published_figures p
            using (period, province_code, component_key, fund_source, capital_type, plan_block)
        where c.makes_figure_suspect and f.status <> 'resolved'""",
    )
    assert {r[0] for r in flagged} >= {"NTP-T02"}
    for rule, measure, subject, plan_src, alloc_src, disb_src in flagged:
        source = "treasury" if subject.startswith("treasury") else "province"
        used = {"plan_assigned": plan_src, "allocated": alloc_src, "disbursed_cumulative": disb_src}[measure]
        assert used != source, (rule, measure, subject)
    # every mart level sums exactly the published leaf figures, never suspect keys' flagged figures
    levels = (
        "mart_disbursement_progress",
        "mart_disbursement_progress__merged",
        "mart_disbursement_regional",
        "mart_disbursement_national",
    )
    leaves = query(
        warehouse_url,
        """
        select period, program_key, plan_block, sum(published_plan_assigned_vnd), sum(published_allocated_vnd),
               sum(published_disbursed_cumulative_vnd), sum(published_disbursed_in_month_vnd)
        from marts.fct_published_figures group by 1, 2, 3 order by 1, 2, 3""",
    )
    for mart in levels:
        assert (
            query(
                warehouse_url,
                f"""
            select period, program_key, plan_block, sum(published_plan_assigned_vnd), sum(published_allocated_vnd),
                   sum(published_disbursed_cumulative_vnd), sum(published_disbursed_in_month_vnd)
            from marts.{mart} group by 1, 2, 3 order by 1, 2, 3""",
            )
            == leaves
        ), mart


def test_coverage_counts_equal_statuses(published: Path, warehouse_url: str):
    _, planted = books_of_record(published)
    coverage = """
        count(*), count(*) filter (where is_agreed), count(*) filter (where is_disputed),
        count(*) filter (where is_suspect), count(*) filter (where is_missing), count(*) filter (where is_explained),
        count(*) filter (where exceeds_plan), count(distinct province_code),
        count(distinct province_code) filter (where is_disputed),
        count(distinct province_code) filter (where is_suspect),
        count(distinct province_code) filter (where is_missing)"""
    from_keys = query(
        warehouse_url,
        f"select period, program_key, plan_block, {coverage} from marts.fct_published_figures "
        "group by 1, 2, 3 order by 1, 2, 3",
    )
    national = query(
        warehouse_url,
        """
        select period, program_key, plan_block, keys_total, keys_agreed, keys_disputed, keys_suspect, keys_missing,
               keys_explained, keys_exceeding_plan, provinces_total, provinces_disputed, provinces_suspect,
               provinces_missing
        from marts.mart_disbursement_national order by 1, 2, 3""",
    )
    assert national == from_keys
    assert sum(r[6] for r in national) > 0 and sum(r[7] for r in national) > 0  # suspect and missing keys exist
    # agreed = none of the other statuses; the agreed share is the agreed keys' part of the published amount
    assert query(
        warehouse_url,
        """
        select count(*) from marts.mart_disbursement_national
        where keys_agreed > keys_total - greatest(keys_disputed, keys_suspect, keys_missing)
           or provinces_agreed > provinces_total
           or agreed_share_allocated_pct is distinct from round(100.0 * agreed_allocated_vnd
                                                                / nullif(published_allocated_vnd, 0), 2)""",
    ) == [(0,)]
    # the province-months marked missing are exactly those the generator left without a workbook or extract
    missing = {
        (p, c)
        for p, c in query(
            warehouse_url,
            "select distinct to_char(period, 'YYYY-MM'), province_code "
            "from marts.fct_published_figures where is_missing",
        )
    }
    assert missing == planted["no_extract"] | planted["no_workbook"]
    # no response table yet: nothing is explained
    assert query(warehouse_url, "select count(*) from marts.fct_published_figures where is_explained") == [(0,)]


def test_missing_extract_is_published_from_the_province_unless_suspect(published: Path, warehouse_url: str):
    _, planted = books_of_record(published)
    rows = query(
        warehouse_url,
        """
        select to_char(period, 'YYYY-MM'), province_code, published_allocated_source, published_disbursed_source,
               province_allocated_suspect, province_disbursed_suspect, published_allocated_vnd,
               published_disbursed_cumulative_vnd, province_allocated_vnd, province_disbursed_cumulative_vnd,
               publication_status
        from marts.fct_published_figures
        where province_report_loaded and not treasury_extract_loaded""",
    )
    assert {(r[0], r[1]) for r in rows} == planted["no_extract"]
    for _, _, a_src, d_src, a_sus, d_sus, a, d, p_a, p_d, status in rows:
        assert (a_src, a) == (("none", None) if a_sus else ("province", p_a or 0))
        assert (d_src, d) == (("none", None) if d_sus else ("province", p_d or 0))
        assert status in ("missing", "suspect")


def test_merged_view_agrees_with_the_unmerged_one(published: Path, warehouse_url: str):
    cols = """sum(published_plan_assigned_vnd), sum(published_allocated_vnd), sum(published_disbursed_cumulative_vnd),
              sum(published_disbursed_in_month_vnd), sum(published_allocated_with_plan_vnd), sum(keys_total),
              sum(keys_agreed), sum(keys_disputed), sum(keys_suspect), sum(keys_missing), sum(keys_exceeding_plan),
              sum(provinces_missing), sum(plan_assigned_vnd), sum(province_allocated_vnd),
              sum(treasury_allocated_vnd)"""
    merged = query(
        warehouse_url,
        f"""select period, province_code_2025, program_key, plan_block, {cols}
            from marts.mart_disbursement_progress__merged group by 1, 2, 3, 4 order by 1, 2, 3, 4""",
    )
    unmerged = query(
        warehouse_url,
        f"""select period, province_code_2025, program_key, plan_block, {cols}
            from marts.mart_disbursement_progress group by 1, 2, 3, 4 order by 1, 2, 3, 4""",
    )
    assert merged == unmerged
    assert {r[1] for r in merged} == {"11", "48"}  # Quảng Nam (49) is followed under Đà Nẵng (48)


def test_no_rate_above_plan_without_a_finding(published: Path, warehouse_url: str):
    """A published rate above 100 % counts the keys above plan, and each of those carries an open finding: on the
    key (NTP-A01, A02, A04, I01, I02) or, for a province-month lacking a source, NTP-C01."""
    for mart in ("mart_disbursement_progress", "mart_disbursement_regional", "mart_disbursement_national"):
        assert query(
            warehouse_url,
            f"""select count(*) from marts.{mart}
                where (allocation_rate_pct > 100 or disbursement_rate_pct > 100) and keys_exceeding_plan = 0""",
        ) == [(0,)], mart
    unexplained = query(
        warehouse_url,
        """
        select p.period, p.province_code, p.component_key from marts.fct_published_figures p
        where p.exceeds_plan and not exists (
            select 1 from marts.fct_findings f
            where f.status <> 'resolved' and f.period = p.period and f.province_code = p.province_code and (
                f.rule_id = 'NTP-C01'
                or f.rule_id in ('NTP-A01', 'NTP-A02', 'NTP-A04', 'NTP-I01', 'NTP-I02')
                   and (f.component_key, f.fund_source, f.capital_type, f.plan_block)
                     = (p.component_key, p.fund_source, p.capital_type, p.plan_block)))""",
    )
    assert unexplained == []
    assert query(warehouse_url, "select count(*) from marts.fct_published_figures where exceeds_plan")[0][0] > 0
