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


def test_datasets_read_only_the_marts_and_name_their_figures_on_one_line():
    for name, dataset in CONTENT.datasets.items():
        sql = dataset["sql"]
        assert not re.search(r"\b(raw|audit|staging|reference|quality)\.\w", sql), name
        figures = [line for line in sql.splitlines() if line.rstrip().endswith("-- figures")]
        assert len(figures) <= 1, name
        declared = {c["name"] for c in dataset["columns"]}
        if figures:
            assert {"plan_vnd", "disbursed_vnd"} <= declared, name
        assert all(c["vi"] and c["en"] for c in dataset["columns"]), name


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
