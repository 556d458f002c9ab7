"""Great Expectations (GX Core 1.x) validation of loaded files' rows, one GX run per suite for many files.

Suites are JSON files under `expectations/suites/` (one per raw table); `$name` placeholders in a
`value_set` are filled from the reference data. GX is imported inside the function only: importing it
is slow and must never happen when a DAG file is parsed.
"""

from __future__ import annotations

import json
import logging
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


#: Columns of the frame derived from the raw `value` by its `measure`: amounts and rates are judged apart.
DERIVED = {"amount_vnd": ("value", "measure"), "rate_pct": ("value", "measure")}


def frame_columns(spec: dict[str, Any]) -> list[str]:
    """The raw columns a suite's expectations read, in the order they are first named (a derived column
    brings the raw columns it is made of): only those are fetched, as the frame of a national month's
    Treasury lines is ≈ 300 k rows and every column costs its fetch, its frame and GX's fingerprint."""
    wanted: dict[str, None] = {}
    for exp in spec["expectations"]:
        kwargs = exp["kwargs"]
        for column in [kwargs.get("column"), *kwargs.get("column_list", [])]:
            if column:
                wanted.update(dict.fromkeys(DERIVED.get(column, (column,))))
    return [c for c in wanted if c != "file_id"]


def _frame(conn, spec: dict[str, Any], file_ids: list[int]):
    """The rows of the given files for one suite, with their `file_id`, in one frame."""
    import pandas as pd  # noqa: PLC0415 - pandas and GX load only to validate, not to read a suite

    cols = ["file_id", *frame_columns(spec)]
    with conn.cursor() as cur:
        cur.execute(
            f"select {', '.join(cols)} from {spec['table']} where file_id = any(%s) order by file_id", (file_ids,)
        )
        df = pd.DataFrame(cur.fetchall(), columns=cols)
    if "measure" in df.columns:  # amounts and rates are judged apart (DERIVED)
        values = pd.to_numeric(df["value"].astype(float))
        is_rate = df["measure"] == "disbursement_rate_pct"
        df["amount_vnd"] = values.where(~is_rate)
        df["rate_pct"] = values.where(is_rate)
    for c in ("du_toan_giao", "thanh_toan_trong_ky", "luy_ke_thanh_toan", "ke_hoach_giao"):
        if c in df.columns:
            df[c] = df[c].astype("int64")
    return df


#: Judged per file from the frame's group sizes, not by GX on the month's frame (whose row count is the month's).
ROW_COUNT = "expect_table_row_count_to_be_between"


def _month_expectation(exp: dict[str, Any]) -> dict[str, Any]:
    """A batch's expectation restated for the frame of many batches: uniqueness is within each file."""
    if exp["type"] == "expect_column_values_to_be_unique":
        return {
            **exp,
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": ["file_id", exp["kwargs"]["column"]]},
        }
    return exp


def _gx_context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # GX's import logs ≈ 200 lines at INFO about its own API docs ("Skipping registering function …"), a
    # quarter of a month's task log, of no use to anyone running it.
    logging.getLogger("great_expectations._docs_decorators").setLevel(logging.WARNING)
    import great_expectations as gx  # noqa: PLC0415 - GX takes seconds to import: only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context


def _gx_validate(context, df, spec: dict[str, Any]):
    """One GX validation of `df` against the suite's row-level expectations, keyed by the suite's order."""
    import great_expectations as gx  # noqa: PLC0415 - as above
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: PLC0415

    suite = gx.ExpectationSuite(name=spec["name"])
    for i, exp in enumerate(spec["expectations"]):
        if exp["type"] == ROW_COUNT:
            continue
        exp = _month_expectation(exp)
        meta = {**exp.get("meta", {}), "ntp_index": i}
        suite.add_expectation_configuration(ExpectationConfiguration(type=exp["type"], kwargs=exp["kwargs"], meta=meta))
    suite = context.suites.add(suite)
    asset = context.data_sources.add_or_update_pandas(f"ntp_raw_{spec['name']}").add_dataframe_asset(spec["name"])
    batch = asset.add_batch_definition_whole_dataframe("month").get_batch(batch_parameters={"dataframe": df})
    # COMPLETE: every unexpected row's index, so that each file gets its own outcome.
    outcome = batch.validate(suite, result_format="COMPLETE")
    return {int(r.expectation_config.meta["ntp_index"]): r for r in outcome.results}


def _plain(value: Any, column: str | None) -> Any:
    if isinstance(value, dict) and column:  # a compound (file_id, column) value: the column's
        value = value.get(column)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _per_file(exp: dict[str, Any], result, df, file_ids: list[int]) -> dict[int, tuple[bool, str, list]]:
    """(success, observed, first unexpected values) of one expectation for each of `file_ids` (rows in `df`)."""
    sizes = df.groupby("file_id").size().reindex(file_ids, fill_value=0)
    kwargs = exp["kwargs"]
    if exp["type"] == ROW_COUNT:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return {
            int(f): ((low is None or n >= low) and (high is None or n <= high), str(int(n)), [])
            for f, n in sizes.items()
        }
    if result is None:  # no rows at all: nothing unexpected
        return {int(f): (True, "0 unexpected of 0", []) for f in sizes.index}
    res = result.result or {}
    if "unexpected_index_list" not in res:  # GX could not evaluate it: every file gets the same outcome
        why = str((result.exception_info or {}).get("exception_message", ""))
        return {int(f): (bool(result.success), why, []) for f in sizes.index}
    column = kwargs.get("column")
    file_of = df["file_id"]
    unexpected: dict[int, list] = {int(f): [] for f in sizes.index}
    for index, value in zip(res["unexpected_index_list"], res.get("unexpected_list", []), strict=False):
        unexpected[int(file_of.loc[index])].append(_plain(value, column))
    if column and exp["type"] != "expect_column_values_to_not_be_null":
        considered = df[column].notna().groupby(df["file_id"]).sum()  # GX leaves missing values out
    else:
        considered = sizes
    mostly = kwargs.get("mostly")
    out = {}
    for f, n in sizes.items():
        bad, rows = len(unexpected[int(f)]), int(considered.get(f, 0))
        ok = bad == 0 if mostly is None else rows == 0 or (rows - bad) / rows >= mostly
        out[int(f)] = (ok, f"{bad} unexpected of {int(n)}", unexpected[int(f)][:10])
    return out


def validate_batches(file_ids: list[int], warehouse_url: str) -> dict[int, BatchValidation]:
    """Validate the raw rows of many loaded files with their suites: one GX validation per suite over all
    the files' rows, judged per file (each file's own unexpected rows, row count and `mostly`), as if each
    file were validated alone. Stores one row per file and expectation in audit.validation_results
    (replacing earlier validations of those files) and returns each file's outcome: `success` is False
    when a critical expectation fails; warnings are returned as failures too."""

    ids = sorted({int(f) for f in file_ids})
    outcomes: dict[int, BatchValidation] = {}
    rows = []
    with connect(warehouse_url) as conn:
        known = {
            fid: (kind, status)
            for fid, kind, status in conn.execute(
                "select file_id, kind, status from audit.files where file_id = any(%s)", (ids,)
            )
        }
        missing = [f for f in ids if f not in known]
        if missing:
            raise ValueError(f"no file {missing} in audit.files")
        by_suite: dict[str, list[int]] = {}
        for fid, (kind, status) in known.items():
            if status == "quarantined" or kind not in SUITE_OF_KIND:
                outcomes[fid] = BatchValidation(True, [], None, 0)
            else:
                by_suite.setdefault(SUITE_OF_KIND[kind], []).append(fid)
        context = _gx_context() if by_suite else None
        for suite_name, suite_ids in sorted(by_suite.items()):
            spec = load_suite(suite_name)
            df = _frame(conn, spec, suite_ids)
            results = _gx_validate(context, df, spec) if len(df) else {}
            judged = [
                (exp, _per_file(exp, results.get(i), df, suite_ids)) for i, exp in enumerate(spec["expectations"])
            ]
            for fid in suite_ids:
                failures: list[dict[str, Any]] = []
                evaluated = 0
                for exp, per_file in judged:
                    ok, observed, partial = per_file[fid]
                    column = exp["kwargs"].get("column")
                    name = f"{exp['type']}({column})" if column else exp["type"]
                    severity = (exp.get("meta") or {}).get("severity", "critical")
                    details = {
                        "kwargs": {k: v for k, v in exp["kwargs"].items() if k != "value_set"},
                        "partial_unexpected_list": partial,
                        "why": (exp.get("meta") or {}).get("why"),
                    }
                    rows.append((fid, spec["name"], name, ok, severity, observed, json.dumps(details, default=str)))
                    evaluated += 1
                    if not ok:
                        failures.append({"expectation": name, "severity": severity, "observed": observed, **details})
                success = not any(f["severity"] == "critical" for f in failures)
                outcomes[fid] = BatchValidation(success, failures, spec["name"], evaluated)
        with conn.transaction():
            conn.execute("delete from audit.validation_results where file_id = any(%s)", (ids,))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into audit.validation_results (file_id, suite, expectation, success, "
                    "severity, observed, details) values (%s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
    return outcomes


def validate_file_batch(file_id: int, warehouse_url: str) -> BatchValidation:
    """Validate the raw rows of one loaded file with its suite (`validate_batches` of one file)."""
    return validate_batches([file_id], warehouse_url)[int(file_id)]
