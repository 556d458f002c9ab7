"""Superset with the dashboards of bi/, on a warehouse holding one generated month, as a user and as its API sees it.

One Superset server for the module (started as `make bi` starts it: ntp.bi.start and load), connected as the
read-only role ntp_bi. The month is generated with planted discrepancies (a unit mix-up NTP-T02, a parent line
that does not sum NTP-I03, a missing workbook and a missing Treasury extract NTP-C01, a rejected workbook). Every
chart's query runs through Superset's own chart-data API; the national, program and province rates are compared
with the published figures computed here from the generator's expected totals and ground truth by the books of
record (docs/warehouse.md), not from the marts; every dashboard (Vietnamese and English) is opened in Debian's
headless Chromium, which must show every chart title and no error panel.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import requests

from ntp import bi
from ntp.bi_bundle import Content, Dashboard
from ntp_core.settings import load
from tests.bi.browser import Browser

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MONTH = date(2024, 6, 1)
#: Hà Nội, Hà Giang, Cao Bằng, Bắc Kạn, Tuyên Quang, Điện Biên, and Đà Nẵng + Quảng Nam (one province from
#: 1 July 2025: the merger view sums them). With seed 14 and plant_rate 0.02 the planted discrepancies of the month
#: include an NTP-T02 unit mix-up (a province allocation 1000 × the Treasury's) and an NTP-I03 parent line.
PROVINCES = "01,02,04,06,08,11,48,49"
SEED = 14
#: docs/quality-rules.md: the rules whose finding makes the flagged figure unusable as a number.
SUSPECT_RULES = {"NTP-T01", "NTP-T02", "NTP-I03"}
CONTENT = Content()
DASHBOARDS = CONTENT.dashboards()
#: NTP_BI_SCREENSHOTS=<folder>: keep a screenshot of every dashboard as the browser saw it (off by default: time).
SCREENSHOTS = Path(os.environ["NTP_BI_SCREENSHOTS"]) if os.environ.get("NTP_BI_SCREENSHOTS") else None

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def booting(warehouse_url: str) -> Iterator[Future]:
    """Superset started as `make bi` starts it (ntp.bi.start: environment, metadata, admin, web server), in the
    background while the month is generated and dbt builds the marts: starting it reads no warehouse."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(bi.start, load())
        yield future
        if not future.cancel() and future.exception(timeout=600) is None:
            bi.stop(future.result().proc)


@pytest.fixture(scope="module")
def generated(booting: Future, warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated month with planted discrepancies, through the real loader (the rejected workbook quarantined)
    and dbt (seeds and models; ntp_bi gets the password `make bi` would use, as a deployment's dbt runs set it from
    NTP_BI_PASSWORD)."""
    from generator import generate
    from ingestion.load import ingest_file
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    started = time.monotonic()
    out = tmp_path_factory.mktemp("bi-generated")
    generate(out, [MONTH], provinces=PROVINCES, seed=SEED, plant_rate=0.02)
    quarantined = set()
    for path in sorted((out / f"{MONTH:%Y-%m}").iterdir()):
        result = ingest_file(path, warehouse_url=warehouse_url, run_period=MONTH)
        if getattr(result, "status", "loaded") == "quarantined":
            quarantined.add(path.name)
    rejected = {Path(r["file"]).name for r in read_csv(out / "ground_truth.csv") if "file rejected" in r["note"]}
    assert rejected and quarantined == rejected
    print(f"generated and loaded in {time.monotonic() - started:.0f} s")
    target = tmp_path_factory.mktemp("bi-dbt-target")
    parsed = DBT_DIR / "target" / "partial_parse.msgpack"  # `make env` parses the project once: reuse it
    if parsed.exists():
        shutil.copyfile(parsed, target / parsed.name)
    env = dict(
        os.environ,
        **warehouse.libpq_env(warehouse_url),
        NTP_BI_PASSWORD=bi.bi_password(load()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    dbt = [str(Path(sys.executable).parent / "dbt"), "--quiet"]
    where = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target)]
    build = ["build", "--exclude", "resource_type:test", "resource_type:unit_test"]  # seeds and models, one run
    proc = subprocess.run([*dbt, *build, *where], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]
    print(f"dbt seeds and models built at {time.monotonic() - started:.0f} s")
    return out


@pytest.fixture(scope="module")
def server(booting: Future, generated: Path) -> bi.Server:
    started = time.monotonic()
    srv = booting.result(timeout=600)
    print(f"Superset ready {time.monotonic() - started:.0f} s after the marts")
    bi.load(load(), srv)
    print(f"dashboards imported {time.monotonic() - started:.0f} s after the marts")
    return srv


@pytest.fixture(scope="module")
def charts(server) -> dict[str, dict]:
    """Superset's charts by UUID (id, dataset id, title)."""
    found = server.client.get("/api/v1/chart/", q="(columns:!(id,uuid,slice_name,datasource_id),page_size:100)")
    return {c["uuid"]: c for c in found["result"]}


def chart_data(server, charts: dict[str, dict], chart) -> dict:
    res = server.client.post("/api/v1/chart/data", chart.query_context(charts[chart.uuid]["datasource_id"]))
    assert res.status_code == 200, (chart.key, chart.lang, res.text[:1000])
    result = res.json()["result"][0]
    assert not result.get("error"), (chart.key, result["error"])
    return result


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def published_keys(out: Path) -> dict[tuple[str, str, str], dict[str, int | None]]:
    """The published figures of every leaf key of the current plan year, by the books of record of
    docs/warehouse.md, from the generator's files: {(province, program, key) → {measure: figure or None}}.

    Plan: the plan file (it covers every province of the year; a line it does not list is 0). Allocation and
    disbursement: the Treasury extract when loaded (a line it does not carry is 0), else the province's workbook;
    a figure the ground truth flags with a suspect-making rule is skipped, and None when no source is left."""
    truth_rows = read_csv(out / "ground_truth.csv")
    no_workbook = {r["province_code"] for r in truth_rows if r["rule_id"] == "NTP-C01" and "workbook" in r["note"]}
    no_extract = {r["province_code"] for r in truth_rows if r["rule_id"] == "NTP-C01" and "Treasury" in r["note"]}
    flagged = {
        (r["province_code"], r["component_key"], r["fund_source"], r["capital_type"], r["measure"],
         "treasury" if r["note"].lower().startswith("treasury") else "province")
        for r in truth_rows
        if r["rule_id"] in SUSPECT_RULES and r["plan_block"] == "current"
    }  # fmt: skip
    values: dict[tuple, int] = {}
    keys: set[tuple[str, str, str, str]] = set()
    for r in read_csv(out / "expected_totals.csv"):
        if r["plan_block"] == "current":
            key = (r["province_code"], r["component_key"], r["fund_source"], r["capital_type"])
            values[(*key, r["measure"], r["source"])] = int(r["value_vnd"])
            keys.add(key)

    def figure(key: tuple, measure: str, source: str) -> int | None:
        if (*key, measure, source) in flagged or key[0] in (no_workbook if source == "province" else no_extract):
            return None
        return values.get((*key, measure, source), 0)

    out_keys: dict[tuple[str, str, str], dict[str, int | None]] = {}
    for key in keys:
        province, component, _, capital = key
        if any(k[0] == province and k[3] == capital and k[1].startswith(component + ".") for k in keys):
            continue  # a parent line: totals add leaves only
        measures: dict[str, int | None] = {"plan_assigned": values.get((*key, "plan_assigned", "plan_file"), 0)}
        for measure in ("allocated", "disbursed_cumulative"):
            measures[measure] = next(
                (v for source in ("treasury", "province") if (v := figure(key, measure, source)) is not None), None
            )
        out_keys[(province, component.split(".")[0], "|".join(key))] = measures
    return out_keys


def rate(part: int, plan: int) -> float:
    return float((Decimal(100 * part) / Decimal(plan)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def published_rate(keys: dict, measure: str, province: str | None = None, program: str | None = None) -> float:
    """Published measure on the keys with a published plan ÷ published plan, as a percentage (the marts' rate)."""
    chosen = [m for (pr, pg, _), m in keys.items() if province in (None, pr) and program in (None, pg)]
    plan = sum(m["plan_assigned"] or 0 for m in chosen)
    part = sum(m[measure] or 0 for m in chosen if m["plan_assigned"] is not None)
    return rate(part, plan)


def test_every_chart_query_returns_rows(server, charts):
    every = [chart for dashboard in DASHBOARDS for chart in dashboard.charts]
    with ThreadPoolExecutor(4) as pool:  # as a dashboard's page sends them: several at once
        results = list(pool.map(lambda chart: chart_data(server, charts, chart), every))
    for chart, result in zip(every, results, strict=True):
        assert result["rowcount"] > 0 and result["data"], (chart.key, chart.lang)
    assert len(every) == len(charts) == sum(len(d["charts"]) for d in CONTENT.dashboard_specs) * 2


def test_national_rate_is_the_published_one(server, charts, generated: Path):
    keys = published_keys(generated)
    expected = published_rate(keys, "disbursed_cumulative")
    for dashboard in DASHBOARDS:
        for chart in dashboard.charts:
            if chart.key == "national_rate_latest":
                (row,) = chart_data(server, charts, chart)["data"]
                assert list(row.values()) == [expected], chart.lang


def test_program_rates_against_the_deadlines_are_the_published_ones(server, charts, generated: Path):
    """The deadlines table's allocation and disbursement rates per program equal the books of record: the planted
    unit mix-up (a province allocation 1000 × the Treasury's) is not summed, though the province reported it."""
    keys = published_keys(generated)
    truth_rows = read_csv(generated / "ground_truth.csv")
    (mixup,) = [r for r in truth_rows if r["rule_id"] == "NTP-T02" and r["measure"] == "allocated"]
    assert int(mixup["province_value_vnd"]) >= 100 * int(mixup["treasury_value_vnd"])
    assert any(r["rule_id"] == "NTP-I03" for r in truth_rows)
    components = read_csv(DBT_DIR / "seeds" / "ref_components.csv")
    names = {r["component_key"]: r["name_vi"] for r in components if r["level"] == "program"}
    chart = next(c for d in DASHBOARDS if d.lang == "vi" for c in d.charts if c.key == "national_deadlines")
    labels = [m["label"] for m in chart.query["metrics"]]
    rows = chart_data(server, charts, chart)["data"]
    assert len(rows) == 5 * 3  # five deadlines × three programs
    for row in rows:
        program = next(k for k, v in names.items() if v == row["program_name_vi"])
        assert row[labels[0]] == published_rate(keys, "disbursed_cumulative", program=program), program
        assert row[labels[1]] == published_rate(keys, "allocated", program=program), program
    # the province's figure, had it been summed, would have put the program's allocation far above its plan
    program = mixup["component_key"].split(".")[0]
    plan = sum(m["plan_assigned"] or 0 for (_, pg, _), m in keys.items() if pg == program)
    extra = int(mixup["province_value_vnd"]) - int(mixup["treasury_value_vnd"])
    allocation_rate = published_rate(keys, "allocated", program=program)
    assert allocation_rate <= 100 < allocation_rate + 100 * extra / plan


def test_province_ranking_is_the_published_one(server, charts, generated: Path):
    keys = published_keys(generated)
    expected = {code: published_rate(keys, "disbursed_cumulative", province=code) for code in PROVINCES.split(",")}
    names = {r["province_code"]: r["province_name"] for r in bi_rows(server, "province_code, province_name")}
    chart = next(c for d in DASHBOARDS if d.lang == "vi" for c in d.charts if c.key == "provinces_rate_bar")
    data = chart_data(server, charts, chart)["data"]
    got = {row["province_name"]: row[chart.query["metrics"][0]["label"]] for row in data}
    assert got == {names[code]: value for code, value in expected.items()}


def test_coverage_names_the_missing_and_suspect_provinces(server, charts, generated: Path):
    """The national coverage table counts, per program, the provinces lacking a source (the generator's NTP-C01
    province-months) and those with a suspect leaf figure (its NTP-T02 mix-up)."""
    keys = published_keys(generated)
    truth_rows = read_csv(generated / "ground_truth.csv")
    missing = {r["province_code"] for r in truth_rows if r["rule_id"] == "NTP-C01"}
    leaves = {k.split("|")[1] for (_, _, k) in keys}
    suspect = {
        (r["province_code"], r["component_key"].split(".")[0])
        for r in truth_rows
        if r["rule_id"] in SUSPECT_RULES and r["component_key"] in leaves
    }
    assert missing and suspect
    chart = next(c for d in DASHBOARDS if d.lang == "en" for c in d.charts if c.key == "national_coverage")
    labels = {m["optionName"].removeprefix("metric_"): m["label"] for m in chart.query["metrics"]}
    rows = chart_data(server, charts, chart)["data"]
    programs = {p for (_, p, _) in keys}
    assert len(rows) == len(programs)
    for row in rows:
        assert 0 < row[labels["agreed_share"]] < 100  # every program of this month has keys missing a source
        assert row[labels["provinces_missing"]] == len(missing)
        assert row[labels["provinces_total"]] == len({pr for (pr, _, _) in keys})
    assert sum(r[labels["provinces_suspect"]] for r in rows) == len(suspect)


def test_findings_dashboard_shows_only_the_latest_month(server, charts, warehouse_url: str):
    """The findings dashboard's "latest month" filter: with an earlier month's findings in the mart too (a copy of
    this month's, a month earlier), its table by rule and its list still count only this month's findings."""
    from ntp_core import warehouse

    earlier = date(MONTH.year, MONTH.month - 1, 1)
    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        by_status = dict(
            conn.execute(
                "select status, count(*) from marts.fct_findings where period = %s group by status", (MONTH,)
            ).fetchall()
        )
        columns = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'fct_findings' order by ordinal_position"
        ).fetchall()]  # fmt: skip
        copied = ", ".join("%s::date as period" if c == "period" else c for c in columns)
        assert not conn.execute("select 1 from marts.fct_findings where period = %s", (earlier,)).fetchone()
        conn.execute(
            f"insert into marts.fct_findings select {copied} from marts.fct_findings where period = %s",
            (earlier, MONTH),
        )
    try:
        assert sum(by_status.values()) > 0
        dashboard = next(d for d in DASHBOARDS if d.lang == "en" and d.slug.startswith("ntp-phat-hien"))
        chosen = {c.key: c for c in dashboard.charts}

        def data(key: str) -> dict:
            body = chosen[key].query_context(charts[chosen[key].uuid]["datasource_id"])
            res = server.client.post("/api/v1/chart/data", {**body, "force": True})  # not the cached answer
            assert res.status_code == 200, (key, res.text[:1000])
            return res.json()["result"][0]

        by_rule = data("findings_by_rule")
        label = chosen["findings_by_rule"].query["metrics"][0]["label"]
        got: dict[str, int] = {}
        for row in by_rule["data"]:
            got[row["status_en"]] = got.get(row["status_en"], 0) + row[label]
        assert got == by_status
        assert data("findings_list")["rowcount"] == sum(by_status.values())
    finally:
        with warehouse.connect(warehouse_url, autocommit=True) as conn:
            conn.execute("delete from marts.fct_findings where period = %s", (earlier,))


def bi_rows(server, columns: str) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    url = bi.bi_url(server.warehouse_url, bi.bi_password(load()))
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(f"select distinct {columns} from marts.mart_disbursement_progress").fetchall()


def test_superset_reads_the_warehouse_as_the_read_only_role(server):
    """Superset's only connection is ntp_bi: SQL Lab reads the marts and is refused the raw schema."""
    (database,) = server.client.get("/api/v1/database/", q="(columns:!(id,database_name))")["result"]
    uri = server.client.get(f"/api/v1/database/{database['id']}/connection")["result"]["sqlalchemy_uri"]
    assert uri.startswith("postgresql+psycopg2://ntp_bi:XXXXXXXXXX@"), uri  # the password is stored, never shown

    def sql_lab(sql: str):
        body = {"database_id": database["id"], "sql": sql, "runAsync": False, "schema": "marts"}
        return server.client.post("/api/v1/sqllab/execute/", body)

    res = sql_lab("select count(*) as months from marts.dim_month")
    assert res.status_code == 200, res.text[:500]
    assert res.json()["data"] == [{"months": 84}]
    refused = sql_lab("select count(*) from raw.treasury_lines")
    assert refused.status_code != 200 and "permission denied" in refused.text, refused.text[:500]


@pytest.fixture(scope="module")
def browser(server):
    """Chromium logged in to Superset (the login form's POST, then its session cookie in the browser)."""
    http = requests.Session()
    login = bi.Client(server.base, bi.ADMIN, server.paths.admin_password_file.read_text().strip())
    csrf = http.get(
        f"{server.base}/api/v1/security/csrf_token/", headers={"Authorization": login.http.headers["Authorization"]}
    ).json()["result"]
    res = http.post(
        f"{server.base}/login/",
        data={
            "username": bi.ADMIN,
            "password": server.paths.admin_password_file.read_text().strip(),
            "csrf_token": csrf,
        },
        allow_redirects=False,
    )
    assert res.status_code == 302 and res.headers["Location"].startswith("/"), res.status_code
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chromium = Browser()
    chromium.set_cookie("session", http.cookies["session"], server.base)
    yield chromium
    chromium.close()


READY = """(() => {
  const charts = document.querySelectorAll('[data-test="chart-container"]');
  const loading = document.querySelectorAll('[data-test="loading-indicator"], .loading');
  const text = document.body.innerText;
  return charts.length >= %d && loading.length === 0 && !text.includes('Waiting on') && text.includes(%s);
})()"""

ERRORS = """(() => {
  const panels = [...document.querySelectorAll(
    '[class*="alert-error"], [class*="ant-result-error"], [data-test="error-tooltip"], .error-message')];
  const text = document.body.innerText;
  const phrases = ['Unexpected error', 'Data error', 'There was an error', 'Network error', 'No results were returned',
                   'Missing dataset', 'does not exist', 'permission denied'];
  return panels.map(p => p.innerText.slice(0, 200)).concat(phrases.filter(p => text.includes(p)));
})()"""


@pytest.mark.parametrize("dashboard", DASHBOARDS, ids=[d.slug for d in DASHBOARDS])
def test_dashboard_opens_in_a_browser(server, browser, dashboard: Dashboard):
    path = f"/superset/dashboard/{dashboard.slug}/"
    if dashboard is DASHBOARDS[0]:
        browser.goto(server.base + path)  # the first one loads the app (and proves the session cookie works)
    else:
        browser.follow(path)  # the others as from a link inside the app
    ready = READY % (len(dashboard.charts), json.dumps(dashboard.title))
    assert browser.wait_for(ready, 180), "the dashboard's charts never finished loading"
    time.sleep(0.5)  # charts re-render once after the first paint; judge the settled page
    assert browser.wait_for(ready, 60)
    if SCREENSHOTS:
        browser.screenshot(SCREENSHOTS / f"{dashboard.slug}.png")
    text = browser.evaluate("document.body.innerText")
    assert dashboard.title in text
    for chart in dashboard.charts:
        assert chart.title in text, chart.title
    assert browser.evaluate(ERRORS) == []
    assert json.loads(browser.evaluate("JSON.stringify(location.pathname)")).endswith(f"/{dashboard.slug}/")
