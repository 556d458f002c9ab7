"""Great Expectations (GX Core 1.x) validation of one loaded file's rows.

Suites are JSON files under `expectations/suites/` (one per raw table); `$name` placeholders in a
`value_set` are filled from the reference data. GX is imported inside the function only: importing it
is slow and must never happen when a DAG file is parsed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ntp_core.reference import components, provinces_34, provinces_63
from ntp_core.warehouse import connect

SUITES_DIR = Path(__file__).with_name("suites")
SUITE_OF_KIND = {
    "province_workbook": "province_report_cells",
    "treasury_extract": "treasury_lines",
    "plan_assignment": "plan_assignments",
}


@dataclass
class BatchValidation:
    success: bool
    failures: list[dict[str, Any]] = field(default_factory=list)
    suite: str | None = None
    evaluated: int = 0


@cache
def _placeholders() -> dict[str, list[str]]:
    p63 = [p.province_code for p in provinces_63()]
    p34 = [p.province_code for p in provinces_34()]
    return {
        "component_keys_and_total": sorted([c.component_key for c in components()] + ["TOTAL"]),
        "treasury_codes": sorted(c.treasury_code for c in components()),
        "province_codes": sorted(set(p63) | set(p34)),
        "province_codes_all": sorted(set(p63) | set(p34)),
    }


def load_suite(name: str) -> dict[str, Any]:
    spec = json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for exp in spec["expectations"]:
        vs = exp["kwargs"].get("value_set")
        if isinstance(vs, str) and vs.startswith("$"):
            exp["kwargs"]["value_set"] = _placeholders()[vs[1:]]
    return spec


def _frame(conn, spec: dict[str, Any], file_id: int):
    import pandas as pd  # noqa: PLC0415 - pandas and GX load only to validate, not to read a suite

    cols = spec["columns"]
    with conn.cursor() as cur:
        cur.execute(f"select {', '.join(cols)} from {spec['table']} where file_id = %s", (file_id,))
        df = pd.DataFrame(cur.fetchall(), columns=cols)
    if "value" in df.columns:  # amounts and rates are judged apart
        values = pd.to_numeric(df["value"].astype(float))
        is_rate = df["measure"] == "disbursement_rate_pct"
        df["amount_vnd"] = values.where(~is_rate)
        df["rate_pct"] = values.where(is_rate)
    for c in ("du_toan_giao", "thanh_toan_trong_ky", "luy_ke_thanh_toan", "ke_hoach_giao"):
        if c in df.columns:
            df[c] = df[c].astype("int64")
    return df


def _gx_validate(df, spec: dict[str, Any]):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # noqa: PLC0415 - GX takes seconds to import: only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: PLC0415

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    suite = gx.ExpectationSuite(name=spec["name"])
    for exp in spec["expectations"]:
        config = ExpectationConfiguration(type=exp["type"], kwargs=exp["kwargs"], meta=exp.get("meta", {}))
        suite.add_expectation_configuration(config)
    suite = context.suites.add(suite)
    asset = context.data_sources.add_pandas("ntp_raw").add_dataframe_asset(spec["name"])
    batch = asset.add_batch_definition_whole_dataframe("file").get_batch(batch_parameters={"dataframe": df})
    return batch.validate(suite, result_format="SUMMARY")


def _describe(result) -> tuple[str, str, bool, str, dict]:
    cfg = result.expectation_config
    column = cfg.kwargs.get("column")
    name = f"{cfg.type}({column})" if column else cfg.type
    res = result.result or {}
    observed = res.get("observed_value")
    if observed is None and "unexpected_count" in res:
        observed = f"{res['unexpected_count']} unexpected of {res.get('element_count')}"
    severity = (cfg.meta or {}).get("severity", "critical")
    details = {
        "kwargs": {k: v for k, v in cfg.kwargs.items() if k != "value_set"},
        "partial_unexpected_list": res.get("partial_unexpected_list", [])[:10],
        "why": (cfg.meta or {}).get("why"),
    }
    return name, severity, bool(result.success), "" if observed is None else str(observed), details


def validate_file_batch(file_id: int, warehouse_url: str) -> BatchValidation:
    """Validate the raw rows of one loaded file with its suite; store one row per expectation in
    audit.validation_results (replacing an earlier validation of the same file); return the failures.
    `success` is False when a critical expectation fails; warnings are returned as failures too."""
    with connect(warehouse_url) as conn:
        row = conn.execute("select kind, status from audit.files where file_id = %s", (file_id,)).fetchone()
        if row is None:
            raise ValueError(f"no file {file_id} in audit.files")
        kind, status = row
        if status == "quarantined" or kind not in SUITE_OF_KIND:
            return BatchValidation(True, [], None, 0)
        spec = load_suite(SUITE_OF_KIND[kind])
        df = _frame(conn, spec, file_id)
        outcome = _gx_validate(df, spec)
        failures: list[dict[str, Any]] = []
        rows = []
        for result in outcome.results:
            name, severity, ok, observed, details = _describe(result)
            rows.append((file_id, spec["name"], name, ok, severity, observed, json.dumps(details, default=str)))
            if not ok:
                failures.append({"expectation": name, "severity": severity, "observed": observed, **details})
        with conn.transaction():
            conn.execute("delete from audit.validation_results where file_id = %s", (file_id,))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into audit.validation_results (file_id, suite, expectation, success, "
                    "severity, observed, details) values (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
    success = not any(f["severity"] == "critical" for f in failures)
    return BatchValidation(success, failures, spec["name"], len(rows))
