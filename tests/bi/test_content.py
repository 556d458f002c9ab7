"""The BI content as code, without a database: bi/ compiles into Superset's bundle, the dbt exposures name the
dashboards and their marts, and the mart columns are described in English and Vietnamese."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from ntp.bi_bundle import LANGS, Content, superset_uri

ROOT = Path(__file__).resolve().parents[2]
MARTS = ROOT / "dbt_project" / "models" / "marts"
CONTENT = Content()
#: Vietnamese letters that plain English never uses (the Vietnamese half of a description must have some).
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùýĐ]", re.IGNORECASE)
#: Models whose every column carries "English — Vietnamese." (the marts not listed here are being converted).
BILINGUAL = ("dim_component", "dim_funding", "dim_month", "dim_province", "fct_ntp_monthly", "fct_reconciliation")


def model_columns(name: str) -> list[dict]:
    (model,) = yaml.safe_load((MARTS / f"{name}.yml").read_text(encoding="utf-8"))["models"]
    return model["columns"]


@pytest.mark.parametrize("model", BILINGUAL)
def test_every_column_is_described_in_english_and_vietnamese(model: str):
    columns = model_columns(model)
    assert columns
    for column in columns:
        text = column.get("description", "").strip()
        english, sep, vietnamese = text.rpartition(" — ")
        assert sep and english and vietnamese, f"{model}.{column['name']}: no 'English — Vietnamese.': {text!r}"
        assert re.search(r"[A-Za-z]{3,}", english) and not english.startswith(("e.g.",)), (model, column["name"])
        assert VIETNAMESE.search(vietnamese), f"{model}.{column['name']}: no Vietnamese after the dash: {text!r}"


def test_a_description_without_vietnamese_is_caught():
    """The check above fails on the kind of description it exists to catch."""
    for bad in ("Program name in English.", "Display order — Sort order.", "Tên chương trình (tiếng Việt)."):
        english, sep, vietnamese = bad.rpartition(" — ")
        assert not (sep and english and VIETNAMESE.search(vietnamese)), bad


def test_marts_persist_their_docs_to_postgres():
    project = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    marts = project["models"]["ntp_warehouse"]["marts"]
    assert marts["+persist_docs"] == {"relation": True, "columns": True}


def test_one_exposure_per_dashboard_with_the_marts_it_reads():
    exposures = yaml.safe_load((ROOT / "dbt_project" / "models" / "exposures.yml").read_text(encoding="utf-8"))
    by_slug = {e["url"].rstrip("/").rsplit("/", 1)[1]: e for e in exposures["exposures"]}
    assert set(by_slug) == {spec["slug"] for spec in CONTENT.dashboard_specs}
    for spec in CONTENT.dashboard_specs:
        exposure = by_slug[spec["slug"]]
        assert exposure["type"] == "dashboard"
        datasets = {c["dataset"] for c in spec["charts"]} | {f["dataset"] for f in spec.get("filters", [])}
        read = {t for d in datasets for t in re.findall(r"\bmarts\.(\w+)", CONTENT.datasets[d]["sql"])}
        assert {re.fullmatch(r"ref\('(\w+)'\)", r).group(1) for r in exposure["depends_on"]} == read, spec["slug"]


#: docs/warehouse.md, "Books of record": the dataset column a chart reads → the mart column it must be.
PUBLISHED = {
    "plan_vnd": "published_plan_assigned_vnd",
    "allocated_vnd": "published_allocated_vnd",
    "allocated_with_plan_vnd": "published_allocated_with_plan_vnd",
    "disbursed_vnd": "published_disbursed_cumulative_vnd",
    "disbursed_with_plan_vnd": "published_disbursed_with_plan_vnd",
    "agreed_disbursed_vnd": "agreed_disbursed_cumulative_vnd",
    "treasury_disbursed_vnd": "treasury_disbursed_cumulative_vnd",
    "province_reported_vnd": "province_disbursed_cumulative_vnd",
}


def figure_columns(sql: str) -> dict[str, str]:
    """`alias.mart_column as name` pairs of a dataset's SQL: name → mart column."""
    return {name: column for column, name in re.findall(r"\b\w+\.(\w+)\s+as\s+(\w+)\b", sql)}


def test_datasets_read_only_the_marts_and_published_figures():
    on_progress_marts = 0
    for name, dataset in CONTENT.datasets.items():
        sql = dataset["sql"]
        assert not re.search(r"\b(raw|audit|staging|reference|quality)\.\w", sql), name
        declared = {c["name"] for c in dataset["columns"]}
        assert all(c["vi"] and c["en"] for c in dataset["columns"]), name
        if not re.search(r"\bmarts\.mart_disbursement_", sql):
            continue
        on_progress_marts += 1
        aliases = figure_columns(sql)
        assert {"plan_vnd", "disbursed_vnd", "disbursed_with_plan_vnd"} <= declared, name
        for column in declared & set(PUBLISHED):
            assert aliases.get(column) == PUBLISHED[column], (name, column, aliases.get(column))
        # the unfiltered province-reported sums are read only under their own names
        assert not {v for k, v in aliases.items() if k not in ("province_reported_vnd",)} & {
            "plan_assigned_vnd",
            "province_allocated_vnd",
            "province_disbursed_cumulative_vnd",
        }, name
    assert on_progress_marts == 5


def test_a_dataset_on_reported_figures_is_caught():
    """The check above fails on the kind of dataset it exists to catch (the province-reported sums as figures)."""
    bad = "select n.plan_assigned_vnd as plan_vnd, n.province_disbursed_cumulative_vnd as disbursed_vnd from x as n"
    aliases = figure_columns(bad)
    assert aliases == {"plan_vnd": "plan_assigned_vnd", "disbursed_vnd": "province_disbursed_cumulative_vnd"}
    assert any(aliases[c] != PUBLISHED[c] for c in aliases)


def test_every_measure_reads_published_figures_or_says_which_source():
    """Rates divide published figures only; a reported sum is named after its source in both languages."""
    for key, metric in CONTENT.metrics.items():
        used = set(re.findall(r"\b(\w+_vnd)\b", metric["sql"]))
        for column in used:
            assert column in PUBLISHED or column == "disbursed_delta_vnd", (key, column)
        if used & {"treasury_disbursed_vnd", "province_reported_vnd", "disbursed_delta_vnd"}:
            assert re.search(r"KBNN|[Tt]ỉnh", metric["vi"]) and re.search(r"Treasury|Province", metric["en"]), key
    assert "sum(disbursed_with_plan_vnd) / nullif(sum(plan_vnd), 0)" in CONTENT.metrics["rate"]["sql"]


def test_the_bundle_is_superset_import_format_without_a_password():
    bundle = CONTENT.bundle(superset_uri("warehouse", 5432, "ntp", "ntp_bi"), {"province": "Tỉnh Điện Biên"})
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        files = {n.split("/", 1)[1]: yaml.safe_load(zf.read(n)) for n in zf.namelist()}
    assert files["metadata.yaml"]["type"] == "assets"
    (database,) = [v for k, v in files.items() if k.startswith("databases/")]
    assert database["sqlalchemy_uri"] == "postgresql+psycopg2://ntp_bi:XXXXXXXXXX@warehouse:5432/ntp"
    assert database["allow_dml"] is False
    datasets = {v["uuid"]: v for k, v in files.items() if k.startswith("datasets/")}
    charts = {v["uuid"]: v for k, v in files.items() if k.startswith("charts/")}
    dashboards = [v for k, v in files.items() if k.startswith("dashboards/")]
    assert len(datasets) == len(CONTENT.datasets) * len(LANGS)
    assert len(dashboards) == len(CONTENT.dashboard_specs) * len(LANGS)
    for chart in charts.values():
        assert chart["dataset_uuid"] in datasets
        columns = {c["column_name"] for c in datasets[chart["dataset_uuid"]]["columns"]}
        params = chart["params"]
        used = set(params.get("groupby", [])) | set(params.get("all_columns", [])) | {params.get("x_axis")} - {None}
        used |= {f["subject"] for f in params["adhoc_filters"]}
        assert used <= columns, (chart["slice_name"], used - columns)
    for dashboard in dashboards:
        parts = [c for c in dashboard["position"].values() if isinstance(c, dict)]
        in_layout = [c["meta"]["uuid"] for c in parts if c["type"] == "CHART"]
        assert in_layout and all(u in charts for u in in_layout)
        titles = [charts[u]["slice_name"] for u in in_layout]
        assert len(set(titles)) == len(titles)
    assert "password" not in bundle.decode("latin-1").lower().replace("passwords", "")


def test_superset_environment_is_pinned():
    lines = [
        line.strip()
        for line in (ROOT / "bi" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    pins = dict(line.split("==", 1) for line in lines)
    assert pins["apache-superset"] == "6.1.0"
    assert tuple(int(x) for x in pins["flask-caching"].split(".")[:2]) < (2, 4)
    assert {"rich", "cachetools", "psycopg2-binary"} <= set(pins)
