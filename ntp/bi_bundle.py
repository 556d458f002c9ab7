"""The BI content as code: compile `bi/` (datasets, measures, dashboards) into Superset's import bundle.

`bi/datasets/*.yml` are SQL datasets on the `marts` schema, `bi/metrics.yml` the named measures,
`bi/dashboards/*.yml` the dashboards. Each dashboard is produced twice, with Vietnamese labels (the
default) and with English labels (slug suffix `-en`), from the same definitions. The bundle is Superset's
own v1 export format (a ZIP of `metadata.yaml`, `databases/`, `datasets/`, `charts/`, `dashboards/`), imported
through its REST API (`/api/v1/assets/import/`), which overwrites earlier versions: the files in `bi/` are the
only source of truth. UUIDs are derived from names, so a re-import updates the same objects.

The warehouse connection is the read-only role `ntp_bi`; its password is never in the bundle: the importer
passes it next to it (`passwords` form field).
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from ntp_core.settings import PROJECT_ROOT

BI_DIR = PROJECT_ROOT / "bi"
LANGS = ("vi", "en")
NAMESPACE = uuid.UUID("0b6c3f0e-7f43-4f8e-9a55-6e74702d6269")
DATABASE_FILE = "databases/ntp_warehouse.yaml"
DATABASE_NAME = "Kho dữ liệu NTP (ntp_bi)"
VIZ_TYPES = {
    "table": "table",
    "raw_table": "table",
    "line": "echarts_timeseries_line",
    "bar": "echarts_timeseries_bar",
    "big_number": "big_number_total",
}


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _localise(name: str, lang: str) -> str:
    return name.format(lang=lang, suffix="" if lang == "vi" else "_en")


@dataclass(frozen=True)
class Chart:
    """One chart of one dashboard in one language: its Superset form data and its query."""

    key: str
    lang: str
    title: str
    dataset: str
    viz: str
    form_data: dict[str, Any]
    query: dict[str, Any]

    @property
    def uuid(self) -> str:
        return _uuid("chart", self.key, self.lang)

    def query_context(self, datasource_id: int) -> dict[str, Any]:
        """The body of POST /api/v1/chart/data for this chart against the imported dataset."""
        datasource = {"id": datasource_id, "type": "table"}
        return {
            "datasource": datasource,
            "force": False,
            "queries": [self.query],
            "form_data": {**self.form_data, "datasource": f"{datasource_id}__table"},
            "result_format": "json",
            "result_type": "full",
        }


@dataclass(frozen=True)
class Dashboard:
    slug: str
    lang: str
    title: str
    charts: list[Chart]
    config: dict[str, Any]

    @property
    def uuid(self) -> str:
        return _uuid("dashboard", self.slug, self.lang)


class Content:
    """Everything under `bi/`, loaded once."""

    def __init__(self, root: Path = BI_DIR):
        self.root = root
        self.datasets = {d["name"]: d for d in (_load(p) for p in sorted((root / "datasets").glob("*.yml")))}
        self.metrics: dict[str, dict[str, str]] = _load(root / "metrics.yml")
        self.filters: dict[str, dict[str, str]] = _load(root / "filters.yml")
        self.dashboard_specs = [_load(p) for p in sorted((root / "dashboards").glob("*.yml"))]

    # -- names -------------------------------------------------------------------------------
    @staticmethod
    def dataset_table(name: str, lang: str) -> str:
        return f"{name}_{lang}"

    @staticmethod
    def dataset_uuid(name: str, lang: str) -> str:
        return _uuid("dataset", name, lang)

    # -- charts ------------------------------------------------------------------------------
    def _metric(self, key: str, lang: str) -> dict[str, Any]:
        m = self.metrics[key]
        return {
            "expressionType": "SQL",
            "sqlExpression": m["sql"],
            "label": m[lang],
            "hasCustomLabel": True,
            "optionName": f"metric_{key}",
        }

    def _filters(self, keys: list[str]) -> tuple[list[dict], list[dict]]:
        adhoc, query = [], []
        for key in keys:
            f = self.filters[key]
            adhoc.append(
                {
                    "clause": "WHERE",
                    "expressionType": "SIMPLE",
                    "subject": f["column"],
                    "operator": f["op"],
                    "comparator": f.get("value"),
                    "filterOptionName": f"filter_{key}",
                }
            )
            query.append({"col": f["column"], "op": f["op"], **({"val": f["value"]} if "value" in f else {})})
        return adhoc, query

    def chart(self, spec: dict[str, Any], lang: str) -> Chart:
        viz = spec["viz"]
        metrics = [self._metric(k, lang) for k in spec.get("metrics", [])]
        groupby = [_localise(c, lang) for c in spec.get("groupby", [])]
        adhoc, filters = self._filters(spec.get("filters", []))
        fmt = self.metrics[spec["metrics"][0]].get("format", ",.1f") if spec.get("metrics") else None
        form: dict[str, Any] = {
            "viz_type": VIZ_TYPES[viz],
            "adhoc_filters": adhoc,
            "time_range": "No filter",
            "row_limit": 10000,
            "extra_form_data": {},
            "dashboards": [],
        }
        query: dict[str, Any] = {
            "filters": filters,
            "extras": {"having": "", "where": ""},
            "time_range": "No filter",
            "row_limit": 10000,
            "applied_time_extras": {},
            "annotation_layers": [],
            "url_params": {},
            "custom_params": {},
            "custom_form_data": {},
        }
        if viz == "table":
            sort = spec.get("sort")
            sort_metric = None
            if sort:
                sort_metric = (
                    self._metric(sort["metric"], lang)
                    if "metric" in sort
                    else {
                        "expressionType": "SQL",
                        "sqlExpression": sort["sql"],
                        "label": "sort",
                        "hasCustomLabel": True,
                    }
                )
            form.update(
                query_mode="aggregate",
                groupby=groupby,
                metrics=metrics,
                order_desc=not (sort or {}).get("ascending", False),
                timeseries_limit_metric=sort_metric,
                table_timestamp_format="%d/%m/%Y",
                server_pagination=False,
                show_cell_bars=True,
                include_search=True,
                column_config={
                    m["label"]: {"d3NumberFormat": self.metrics[k].get("format", ",.1f")}
                    for k, m in zip(spec.get("metrics", []), metrics, strict=True)
                },
            )
            orderby = [[sort_metric, (sort or {}).get("ascending", False)]] if sort_metric else [[metrics[0], False]]
            query.update(columns=groupby, metrics=metrics, orderby=orderby)
        elif viz == "raw_table":
            columns = [_localise(c, lang) for c in spec["columns"]]
            form.update(
                query_mode="raw",
                all_columns=columns,
                order_by_cols=[json.dumps([_localise(c, lang), asc]) for c, asc in spec.get("order_by", [])],
                column_config={c: {"d3NumberFormat": ",d"} for c in columns if c.endswith("_vnd")},
                table_timestamp_format="%d/%m/%Y",
                server_pagination=False,
                include_search=True,
            )
            orderby = [[_localise(c, lang), asc] for c, asc in spec.get("order_by", [])]
            query.update(columns=columns, metrics=[], orderby=orderby)
        elif viz in ("line", "bar"):
            x = spec["x"]
            temporal = x == "period"
            form.update(
                x_axis=x,
                metrics=metrics,
                groupby=groupby,
                rich_tooltip=True,
                show_legend=True,
                legendOrientation="top",
                y_axis_format=fmt,
                truncate_metric=True,
                x_axis_time_format="%m/%Y",
                tooltipTimeFormat="%m/%Y",
            )
            axis: dict[str, Any] = {"columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}
            if temporal:
                form["time_grain_sqla"] = "P1M"
                axis["timeGrain"] = "P1M"
            if viz == "bar":
                form.update(
                    orientation="horizontal" if not temporal else "vertical",
                    x_axis_sort=metrics[0]["label"] if not groupby else None,
                    x_axis_sort_asc=not groupby,
                    stack="Stack" if spec.get("stacked") else None,
                    show_value=not groupby,
                )
            if viz == "line":
                form.update(markerEnabled=True, markerSize=6)
            query.update(
                columns=[axis, *groupby],
                metrics=metrics,
                orderby=[[metrics[0], False]],
                series_columns=groupby,
            )
        elif viz == "big_number":
            form.update(metric=metrics[0], y_axis_format=fmt, subheader="", header_font_size=0.4)
            query.update(columns=[], metrics=metrics, orderby=[])
        else:
            raise ValueError(f"unknown chart type {viz!r} in {spec['key']}")
        return Chart(spec["key"], lang, spec["title"][lang], spec["dataset"], viz, form, query)

    # -- dashboards --------------------------------------------------------------------------
    def dashboards(self) -> list[Dashboard]:
        out = []
        for spec in self.dashboard_specs:
            for lang in LANGS:
                slug = spec["slug"] if lang == "vi" else f"{spec['slug']}-en"
                charts = [self.chart(c, lang) for c in spec["charts"]]
                out.append(Dashboard(slug, lang, spec["title"][lang], charts, spec))
        return out

    def _position(self, dash: Dashboard) -> dict[str, Any]:
        pos: dict[str, Any] = {
            "DASHBOARD_VERSION_KEY": "v2",
            "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
            "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
            "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dash.title}},
        }
        rows: list[list[tuple[str, dict]]] = []
        note = dash.config.get("note", {}).get(dash.lang)
        if note:
            rows.append([("MARKDOWN-note", {"type": "MARKDOWN", "meta": {"width": 12, "height": 18, "code": note}})])
        current: list[tuple[str, dict]] = []
        used = 0
        for i, (chart, spec) in enumerate(zip(dash.charts, dash.config["charts"], strict=True)):
            width = spec.get("width", 6)
            if used + width > 12:
                rows.append(current)
                current, used = [], 0
            meta = {"width": width, "height": spec.get("height", 50), "chartId": i + 1, "uuid": chart.uuid}
            current.append((f"CHART-{chart.key}", {"type": "CHART", "meta": {**meta, "sliceName": chart.title}}))
            used += width
        if current:
            rows.append(current)
        for r, row in enumerate(rows, start=1):
            row_id = f"ROW-{r}"
            pos["GRID_ID"]["children"].append(row_id)
            pos[row_id] = {
                "type": "ROW",
                "id": row_id,
                "children": [cid for cid, _ in row],
                "parents": ["ROOT_ID", "GRID_ID"],
                "meta": {"background": "BACKGROUND_TRANSPARENT"},
            }
            for cid, comp in row:
                pos[cid] = {"id": cid, "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id], **comp}
        return pos

    def filter_default_sql(self, dashboard_filter: dict[str, Any]) -> str:
        """The query giving a dashboard filter's default value: the first value of its column in its dataset."""
        dataset = self.datasets[dashboard_filter["dataset"]]
        column = dashboard_filter["column"]
        return f"select min({column}) from (\n{dataset['sql']}\n) as dataset where {column} is not null"

    def _native_filters(self, dash: Dashboard, defaults: dict[str, str]) -> list[dict[str, Any]]:
        out = []
        for f in dash.config.get("filters", []):
            value = defaults.get(f["key"])
            mask: dict[str, Any] = {"extraFormData": {}, "filterState": {}, "ownState": {}}
            if value is not None:
                # An explicit default, applied on load (Superset 6.1 shows a "first item" default without
                # applying it to the charts until Apply is clicked).
                mask["extraFormData"] = {"filters": [{"col": f["column"], "op": "IN", "val": [value]}]}
                mask["filterState"] = {"value": [value], "label": value}
            out.append(
                {
                    "id": f"NATIVE_FILTER-{f['key']}",
                    "name": f["title"][dash.lang],
                    "filterType": "filter_select",
                    "type": "NATIVE_FILTER",
                    "targets": [
                        {"datasetUuid": self.dataset_uuid(f["dataset"], dash.lang), "column": {"name": f["column"]}}
                    ],
                    "controlValues": {
                        "enableEmptyFilter": True,
                        "defaultToFirstItem": False,
                        "multiSelect": False,
                        "searchAllOptions": False,
                        "inverseSelection": False,
                    },
                    "defaultDataMask": mask,
                    "cascadeParentIds": [],
                    "scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                    "description": "",
                }
            )
        return out

    # -- the bundle --------------------------------------------------------------------------
    def files(self, bi_uri_without_password: str, defaults: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
        """Superset's v1 export files (path → content) for the database URI given (password masked) and the
        dashboard filters' default values (filter key → value)."""
        database_uuid = _uuid("database", "ntp_warehouse")
        files: dict[str, dict[str, Any]] = {
            "metadata.yaml": {
                "version": "1.0.0",
                "type": "assets",
                "timestamp": datetime.now(UTC).isoformat(),
            },
            DATABASE_FILE: {
                "database_name": DATABASE_NAME,
                "sqlalchemy_uri": bi_uri_without_password,
                "cache_timeout": None,
                "expose_in_sqllab": True,
                "allow_run_async": False,
                "allow_ctas": False,
                "allow_cvas": False,
                "allow_dml": False,
                "allow_file_upload": False,
                "extra": {"metadata_params": {}, "engine_params": {}, "schemas_allowed_for_csv_upload": []},
                "uuid": database_uuid,
                "version": "1.0.0",
            },
        }
        for name, ds in self.datasets.items():
            for lang in LANGS:
                table = self.dataset_table(name, lang)
                files[f"datasets/ntp_warehouse/{table}.yaml"] = {
                    "table_name": table,
                    "main_dttm_col": next((c["name"] for c in ds["columns"] if c.get("dttm")), None),
                    "description": ds.get("description"),
                    "schema": "marts",
                    "sql": ds["sql"],
                    "params": None,
                    "template_params": None,
                    "filter_select_enabled": True,
                    "extra": None,
                    "uuid": self.dataset_uuid(name, lang),
                    "metrics": [],
                    "columns": [
                        {
                            "column_name": c["name"],
                            "verbose_name": c[lang],
                            "type": c["type"],
                            "is_dttm": bool(c.get("dttm")),
                            "is_active": True,
                            "groupby": True,
                            "filterable": True,
                            "expression": None,
                            "description": None,
                            "python_date_format": None,
                            "extra": None,
                        }
                        for c in ds["columns"]
                    ],
                    "version": "1.0.0",
                    "database_uuid": database_uuid,
                }
        for dash in self.dashboards():
            for chart in dash.charts:
                files[f"charts/{chart.key}_{chart.lang}.yaml"] = {
                    "slice_name": chart.title,
                    "description": None,
                    "viz_type": chart.form_data["viz_type"],
                    "params": chart.form_data,
                    "query_context": None,
                    "cache_timeout": None,
                    "uuid": chart.uuid,
                    "version": "1.0.0",
                    "dataset_uuid": self.dataset_uuid(chart.dataset, chart.lang),
                }
            files[f"dashboards/{dash.slug}.yaml"] = {
                "dashboard_title": dash.title,
                "description": None,
                "css": "",
                "slug": dash.slug,
                "uuid": dash.uuid,
                "published": True,
                "position": self._position(dash),
                "metadata": {
                    "color_scheme": "supersetColors",
                    "refresh_frequency": 0,
                    "expanded_slices": {},
                    "label_colors": {},
                    "timed_refresh_immune_slices": [],
                    "cross_filters_enabled": False,
                    "default_filters": "{}",
                    "chart_configuration": {},
                    "native_filter_configuration": self._native_filters(dash, defaults or {}),
                },
                "version": "1.0.0",
            }
        return files

    def bundle(self, bi_uri_without_password: str, defaults: dict[str, str] | None = None) -> bytes:
        """The ZIP Superset imports: every file under one top folder, as its own exports are."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path, content in self.files(bi_uri_without_password, defaults).items():
                zf.writestr(f"ntp_bi/{path}", yaml.safe_dump(content, allow_unicode=True, sort_keys=False))
        return buf.getvalue()


def superset_uri(host: str, port: int, database: str, user: str) -> str:
    """The SQLAlchemy URI Superset stores, with the password masked as its exports do."""
    return f"postgresql+psycopg2://{quote(user, safe='')}:XXXXXXXXXX@{host}:{port}/{quote(database, safe='')}"
