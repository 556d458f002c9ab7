"""Great Expectations (GX Core 1.x) validation of loaded files' rows, one GX run per suite for many files.

Suites are JSON files under `expectations/suites/` (one per raw table); `$name` placeholders in a
`value_set` are filled from the reference data. GX is imported inside the function only: importing it
is slow and must never happen when a DAG file is parsed.
"""

from __future__ import annotations

import io
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from psycopg import sql

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
    """The rows of the given files for one suite, with their `file_id`, in one frame.

    Columns that are all `not null` (every column the suites read today) come as CSV from `COPY` and are
    parsed by pandas' C reader, text as text and numbers exactly: on a national month's
    235 k Treasury lines 0.3 s against 0.6 s for the rows as Python tuples, with an equal frame. A suite
    naming a nullable column gets the rows as tuples, where NULL stays distinct from an empty text."""
    import pandas as pd  # noqa: PLC0415 - pandas and GX load only to validate, not to read a suite

    cols = ["file_id", *frame_columns(spec)]
    # in each file's order of loading (ctid), so that a file's first unexpected values are the same each time
    query = sql.SQL("select {} from {} where file_id = any({}) order by file_id, ctid").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(".").join(map(sql.Identifier, spec["table"].split("."))),
        sql.Literal(file_ids),
    )
    types = dict(
        conn.execute(
            "select attname, format_type(atttypid, null) from pg_attribute where attrelid = %s::regclass "
            "and attname = any(%s) and attnotnull and not attisdropped",
            (spec["table"], cols),
        ).fetchall()
    )
    if len(types) == len(cols):
        data = io.BytesIO()
        with conn.cursor() as cur, cur.copy(sql.SQL("copy ({}) to stdout (format csv)").format(query)) as copy:
            for chunk in copy:
                data.write(chunk)
        data.seek(0)
        dtypes = {c: _CSV_DTYPES.get(types[c], str) for c in cols}
        df = pd.read_csv(data, names=cols, dtype=dtypes, na_filter=False)
        for c in cols:
            if types[c] == "numeric":  # Python's own parsing: exact, and NaN and ±Infinity as numeric writes them
                df[c] = df[c].map(float)
    else:
        with conn.cursor() as cur:
            cur.execute(query)
            df = pd.DataFrame(cur.fetchall(), columns=cols)
    if "measure" in df.columns:  # amounts and rates are judged apart (DERIVED)
        values = pd.to_numeric(df["value"].astype(float))
        is_rate = df["measure"] == "disbursement_rate_pct"
        df["amount_vnd"] = values.where(~is_rate)
        df["rate_pct"] = values.where(is_rate)
    for c in df.columns:
        if isinstance(df[c].dtype, pd.StringDtype):
            # codes repeat across a month's rows: GX's checks, its null counts and its fingerprint of the
            # frame then work on each distinct code once, and on integer codes per row
            df[c] = df[c].astype("category")
    return df


#: How pandas reads a `not null` column of these types from CSV (`numeric`: as text, then parsed by Python;
#: any other type: as text).
_CSV_DTYPES = {"bigint": "int64", "integer": "int64", "smallint": "int64"}

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


def _all_indexes(result) -> list:
    """Every unexpected row's index in the frame. GX gives them all with `COMPLETE` (the values of the first
    200 only: great_expectations.constants.MAX_RESULT_RECORDS); should it ever give fewer than it counts,
    the rows past them could not be told to a file, and the month is not judged on a partial list."""
    res = result.result or {}
    indexes = res["unexpected_index_list"]
    if res.get("unexpected_count", 0) > len(indexes):
        raise RuntimeError(
            f"GX listed {len(indexes)} of {res['unexpected_count']} unexpected rows of "
            f"{result.expectation_config.type}: the files' own outcomes cannot be told apart"
        )
    return indexes


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
    # every unexpected row's index, of which GX lists the values of the first 200 only: a file's count is
    # taken from the indexes, its first values from GX's list or, past it, from the frame
    unexpected: dict[int, int] = {int(f): 0 for f in sizes.index}
    partial: dict[int, list] = {int(f): [] for f in sizes.index}
    listed = res.get("unexpected_list", [])
    for k, index in enumerate(_all_indexes(result)):
        f = int(file_of.loc[index])
        unexpected[f] += 1
        if len(partial[f]) < 10:
            value = listed[k] if k < len(listed) else _frame_value(df, index, column)
            partial[f].append(_plain(value, column))
    if column and exp["type"] != "expect_column_values_to_not_be_null":
        considered = df[column].notna().groupby(df["file_id"]).sum()  # GX leaves missing values out
    else:
        considered = sizes
    mostly = kwargs.get("mostly")
    out = {}
    for f, n in sizes.items():
        bad, rows = unexpected[int(f)], int(considered.get(f, 0))
        ok = bad == 0 if mostly is None else rows == 0 or (rows - bad) / rows >= mostly
        out[int(f)] = (ok, f"{bad} unexpected of {int(n)}", partial[int(f)])
    return out


def _frame_value(df, index, column: str | None) -> Any:
    """A row's value of `column` in the frame, as a plain Python value (as GX lists them)."""
    if column is None:
        return None
    value = df.at[index, column]
    return value.item() if hasattr(value, "item") else value


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
