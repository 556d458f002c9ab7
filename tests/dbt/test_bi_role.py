"""The BI role: reads every mart, is refused on raw, staging and reference, and cannot write anything."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import errors

PASSWORD = "bi-test-only-not-a-secret"


@pytest.fixture(scope="module")
def bi_url(warehouse_url: str, dbt_with_env) -> str:
    """The administrator's one-time step sets the password (as a SCRAM verifier), then dbt builds the marts
    with the password in its environment and debug logging on, as an operator asking for a reset would."""
    from ntp_core import warehouse

    server = warehouse.embedded()
    with psycopg.connect(server.admin_url(), autocommit=True) as admin:
        admin.execute("alter system set log_statement = 'all'")
        admin.execute("select pg_reload_conf()")
    try:
        warehouse.init(server.admin_url(), warehouse_url, bi_password=PASSWORD)
        proc = dbt_with_env("--debug", "build", env_extra={"NTP_BI_PASSWORD": PASSWORD})
    finally:
        with psycopg.connect(server.admin_url(), autocommit=True) as admin:
            admin.execute("alter system reset log_statement")
            admin.execute("select pg_reload_conf()")
    logs = [proc.stdout, proc.stderr, server.log_file.read_text(errors="replace")]
    logs += [p.read_text(errors="replace") for p in (dbt_with_env.target / "logs").rglob("*") if p.is_file()]
    assert "alter role" in logs[2].lower()  # the server did log the role statements...
    assert not [i for i, text in enumerate(logs) if PASSWORD in text]  # ...but never the password
    parts = psycopg.conninfo.conninfo_to_dict(warehouse_url)
    parts.update(user="ntp_bi", password=PASSWORD)
    return psycopg.conninfo.make_conninfo(**parts)


def test_bi_role_reads_every_mart(warehouse_url: str, bi_url: str):
    with psycopg.connect(warehouse_url) as admin:
        tables = [
            r[0] for r in admin.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        ]
    assert {"fct_ntp_monthly", "mart_disbursement_progress", "dim_month", "dim_funding"} <= set(tables)
    with psycopg.connect(bi_url) as bi:
        for table in tables:
            bi.execute(f"select * from marts.{table} limit 1").fetchall()
        assert bi.execute("select count(*) from marts.dim_month").fetchone() == (84,)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from raw.treasury_lines limit 1",
        "select * from raw.province_report_cells limit 1",
        "select * from audit.files limit 1",
        "select * from staging.stg_treasury__lines limit 1",
        "select * from staging.int_province_figures__current limit 1",
        "select * from reference.ref_components limit 1",
        "insert into marts.dim_funding (funding_key, fund_source, capital_type) values ('X.Y', 'X', 'Y')",
        "update marts.dim_month set year = 0",
        "delete from marts.fct_ntp_monthly",
        "truncate marts.dim_month",
        "create table marts.bi_scratch (x int)",
        "create table public.bi_scratch (x int)",
        "create schema bi_scratch",
        "drop table marts.dim_month",
        "create temporary table bi_scratch (x int)",
        "create temporary view bi_scratch as select 1 as x",
    ],
)
def test_bi_role_is_refused(bi_url: str, sql: str):
    """Refused for lack of the privilege (not because a schema is missing: every schema named exists)."""
    with psycopg.connect(bi_url) as bi, pytest.raises(errors.InsufficientPrivilege):
        bi.execute(sql)


def test_no_password_in_the_project():
    """The role's password only ever comes from the environment."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "dbt_project"
    for path in list(root.glob("*.yml")) + list(root.glob("macros/*.sql")):
        text = path.read_text(encoding="utf-8")
        assert PASSWORD not in text
        if "ntp_bi" in text or "bi_role" in text:
            assert "password '" not in text.replace("password '{{", "")


def test_docs_generate_covers_the_marts(bi_url: str, dbt_with_env):
    dbt_with_env("docs", "generate")
    catalog = json.loads((dbt_with_env.target / "catalog.json").read_text())
    manifest = json.loads((dbt_with_env.target / "manifest.json").read_text())
    documented = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in ("fct_ntp_monthly", "mart_disbursement_progress", "dim_month", "dim_province"):
        assert f"model.ntp_warehouse.{name}" in catalog["nodes"]
        cols = documented[name]["columns"]
        assert cols and all(c["description"] for c in cols.values()), name
