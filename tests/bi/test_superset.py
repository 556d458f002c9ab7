"""Superset with the dashboards of bi/, on a warehouse holding one generated month, as a user and as its API sees it.

One Superset server for the module (started exactly as `make bi` starts it: ntp.bi.running), connected as the
read-only role ntp_bi. Every chart's query runs through Superset's own chart-data API; the national and
province rates are compared with the generator's expected totals; every dashboard (Vietnamese and English) is
opened in Debian's headless Chromium, which must show every chart title and no error panel.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import requests

from ntp import bi
from ntp.bi_bundle import Content, Dashboard
from ntp_core.settings import load
from tests.bi.browser import Browser
from tests.dbt.conftest import ingest_generated

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
MONTH = date(2024, 6, 1)
#: Hà Nội, Điện Biên, and Đà Nẵng + Quảng Nam (one province from 1 July 2025: the merger view sums them).
PROVINCES = "01,11,48,49"
CONTENT = Content()
DASHBOARDS = CONTENT.dashboards()
SCREENSHOTS = Path("/tmp") / "ntp-bi-screenshots"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def generated(warehouse_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated month for four provinces, through the real loader and dbt (seeds and models; ntp_bi gets the
    password `make bi` would use, as a deployment's dbt runs set it from NTP_BI_PASSWORD)."""
    from generator import generate
    from ntp_core import warehouse

    with warehouse.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "truncate raw.province_report_cells, raw.treasury_lines, raw.plan_assignments, "
            "audit.files restart identity cascade"
        )
    started = time.monotonic()
    out = tmp_path_factory.mktemp("bi-generated")
    generate(out, [MONTH], provinces=PROVINCES, seed=14)
    ingest_generated(out, warehouse_url)
    print(f"generated and loaded in {time.monotonic() - started:.0f} s")
    target = tmp_path_factory.mktemp("bi-dbt-target")
    env = dict(
        os.environ,
        **warehouse.libpq_env(warehouse_url),
        NTP_BI_PASSWORD=bi.bi_password(load()),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    dbt = [str(Path(sys.executable).parent / "dbt"), "--quiet"]
    where = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target-path", str(target)]
    for step in (["seed"], ["run"]):
        proc = subprocess.run([*dbt, *step, *where], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-4000:]
    print(f"dbt seed + run done at {time.monotonic() - started:.0f} s")
    return out


@pytest.fixture(scope="module")
def server(generated: Path):
    started = time.monotonic()
    with bi.running(load()) as srv:
        print(f"Superset started and dashboards imported in {time.monotonic() - started:.0f} s")
        yield srv


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


def truth(generated: Path) -> dict[tuple[str, str], int]:
    """Σ of the generator's program lines (current plan year, province reports) by (province, measure)."""
    sums: dict[tuple[str, str], int] = defaultdict(int)
    with open(generated / "expected_totals.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            program = r["component_key"].split(".")[0]
            if r["source"] == "province" and r["component_key"] == program and r["plan_block"] == "current":
                sums[(r["province_code"], r["measure"])] += int(r["value_vnd"])
    return sums


def rate(disbursed: int, plan: int) -> float:
    return float((Decimal(100 * disbursed) / Decimal(plan)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def test_every_chart_query_returns_rows(server, charts):
    count = 0
    for dashboard in DASHBOARDS:
        for chart in dashboard.charts:
            result = chart_data(server, charts, chart)
            assert result["rowcount"] > 0 and result["data"], (chart.key, chart.lang)
            count += 1
    assert count == len(charts) == sum(len(d["charts"]) for d in CONTENT.dashboard_specs) * 2


def test_national_rate_is_the_generated_one(server, charts, generated: Path):
    sums = truth(generated)
    plan = sum(v for (_, m), v in sums.items() if m == "plan_assigned")
    disbursed = sum(v for (_, m), v in sums.items() if m == "disbursed_cumulative")
    for dashboard in DASHBOARDS:
        for chart in dashboard.charts:
            if chart.key == "national_rate_latest":
                (row,) = chart_data(server, charts, chart)["data"]
                assert list(row.values()) == [rate(disbursed, plan)], chart.lang


def test_province_ranking_is_the_generated_one(server, charts, generated: Path):
    sums = truth(generated)
    expected = {
        code: rate(sums[(code, "disbursed_cumulative")], sums[(code, "plan_assigned")])
        for code in PROVINCES.split(",")
        if sums[(code, "plan_assigned")]
    }
    names = {r["province_code"]: r["province_name"] for r in bi_rows(server, "province_code, province_name")}
    chart = next(c for d in DASHBOARDS if d.lang == "vi" for c in d.charts if c.key == "provinces_rate_bar")
    data = chart_data(server, charts, chart)["data"]
    got = {row["province_name"]: row[chart.query["metrics"][0]["label"]] for row in data}
    assert got == {names[code]: value for code, value in expected.items()}


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
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
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
    time.sleep(1)  # charts re-render once after the first paint; judge the settled page
    assert browser.wait_for(ready, 60)
    browser.screenshot(SCREENSHOTS / f"{dashboard.slug}.png")
    text = browser.evaluate("document.body.innerText")
    assert dashboard.title in text
    for chart in dashboard.charts:
        assert chart.title in text, chart.title
    assert browser.evaluate(ERRORS) == []
    assert json.loads(browser.evaluate("JSON.stringify(location.pathname)")).endswith(f"/{dashboard.slug}/")
