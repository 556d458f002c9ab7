"""Per-model results of the monthly `dbt build`, for operators and for the benchmarks.

The monthly DAG builds the whole dbt project in one invocation (one task); dbt's `run_results.json` says
what happened to every model, test, seed and unit test. `record` is the Cosmos callback that turns it into
a table in the task log (slowest first), an XCom (`dbt_results`) and a file kept per month under
`$NTP_DATA_DIR/logs/dbt/<YYYY-MM>.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ntp_core.settings import load

XCOM_KEY = "dbt_results"
# What a node that did its job reports: a model or seed "success", a test "pass", an exposure "no-op" (a build
# has nothing to run for it).
FINE = ("success", "pass", "no-op")


def summarise(run_results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per executed node: unique_id, resource type, name, status, seconds, rows affected; slowest first."""
    rows = []
    for r in run_results.get("results", []):
        unique_id = r.get("unique_id", "")
        kind, _, rest = unique_id.partition(".")
        rows.append(
            {
                "unique_id": unique_id,
                "resource_type": kind,
                "name": rest.split(".", 1)[-1] if rest else unique_id,
                "status": str(r.get("status")),
                "seconds": round(float(r.get("execution_time") or 0.0), 3),
                "rows_affected": (r.get("adapter_response") or {}).get("rows_affected"),
                "failures": r.get("failures"),
                "message": r.get("message") if str(r.get("status")) not in FINE else None,
            }
        )
    rows.sort(key=lambda row: row["seconds"], reverse=True)
    return rows


def results_path(period: str) -> Path:
    return load().data_dir / "logs" / "dbt" / f"{period}.json"


def format_table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'seconds':>8}  {'status':8}  {'type':9}  node"]
    for r in rows:
        lines.append(f"{r['seconds']:8.2f}  {r['status']:8}  {r['resource_type']:9}  {r['name']}")
    return "\n".join(lines)


def record(project_dir: str, context: Any = None, **_: Any) -> list[dict[str, Any]]:
    """Cosmos callback after the monthly `dbt build`: log, push and keep the per-node results."""
    path = Path(project_dir) / "target" / "run_results.json"
    if not path.exists():
        print(f"no dbt run results at {path}")
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))
    rows = summarise(raw)
    period = None
    if context is not None:
        ti = context["ti"]
        period = ti.xcom_pull(task_ids="resolve_period")
        ti.xcom_push(key=XCOM_KEY, value=rows)
    other = [r for r in rows if r["status"] not in FINE]
    print(f"dbt build: {len(rows)} node(s), {len(other)} failed, warned or skipped; slowest first:")
    print(format_table(rows))
    if period:
        out = results_path(str(period))
        out.parent.mkdir(parents=True, exist_ok=True)
        elapsed = raw.get("elapsed_time")
        out.write_text(json.dumps({"period": period, "elapsed_s": elapsed, "nodes": rows}, indent=1), "utf-8")
    return rows
