"""The reference data of the monthly `dbt build`: built again only when it changed.

The seeds (provinces, components, regions, deadlines, the rule catalogue) and the models that read nothing but
seeds (`dim_province`, `dim_component`, …) are the same every month: they change with the project, not with
the data. Building them and running their tests every month is about a third of the build's nodes (the
national and the small month alike), so the monthly build leaves them out when the warehouse already holds
what the current project would build:

* `plan(manifest_path, project_dir, warehouse_url)` — before the build (`prepare_warehouse`): the reference
  nodes (from dbt's manifest), the project's fingerprint of them, and whether the warehouse's last recorded
  reference build has that fingerprint and every reference relation still exists. If so, the dbt
  `--exclude` names them; otherwise nothing is left out.
* `record(run_results, nodes, fingerprint, warehouse_url)` — after the build (`after_build`, a Cosmos
  callback of `dbt_build`): the fingerprint is written to `audit.reference_builds` only when every reference
  node ran and passed in that build.

The fingerprint covers every file dbt reads to build and test them: the seeds' CSV files, the models' SQL, the
YAML files that declare their columns, contracts and tests, every macro, `dbt_project.yml`, and dbt's
version. Any change there, a new warehouse, or a dropped reference table, and the next month builds them all.
The tests that also read a monthly model (a relationship from a fact to a dimension) stay in every build: the
build runs with `--indirect-selection cautious`, which leaves out only the tests whose every parent is left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ntp_core import warehouse

ALWAYS_EXCLUDED = "resource_type:unit_test"


@dataclass(frozen=True)
class Plan:
    nodes: frozenset[str]  # unique ids of the reference seeds, models and their own tests
    fingerprint: str
    skip: bool  # the warehouse already holds this fingerprint's build
    reason: str

    @property
    def exclude(self) -> str:
        """The build's `--exclude`: the unit tests always; the reference seeds and models when skipped (their
        own tests follow them under cautious indirect selection)."""
        if not self.skip:
            return ALWAYS_EXCLUDED
        names = sorted(uid.split(".")[-1] for uid in self.nodes if uid.startswith(("seed.", "model.")))
        return " ".join([ALWAYS_EXCLUDED, *names])


def reference_nodes(manifest: Mapping[str, Any]) -> frozenset[str]:
    """The seeds, the models that read only seeds or nothing at all (directly or through such models; none
    reads a source) and build the same rows in every run, and the data tests whose every parent is one of
    them."""
    nodes = manifest["nodes"]

    def parents(uid: str) -> list[str]:
        return list(nodes[uid].get("depends_on", {}).get("nodes", []))

    seeds = {uid for uid, n in nodes.items() if n["resource_type"] == "seed"}
    models = {uid for uid, n in nodes.items() if n["resource_type"] == "model" and _same_every_run(n)}
    reference = set(seeds)
    changed = True
    while changed:  # a model joins once all its parents are reference nodes (a DAG: this ends)
        changed = False
        for uid in models - reference:
            if all(p in reference for p in parents(uid)):
                reference.add(uid)
                changed = True
    tests = {
        uid
        for uid, n in nodes.items()
        if n["resource_type"] == "test" and parents(uid) and all(p in reference for p in parents(uid))
    }
    return frozenset(reference | tests)


# What makes a model's result depend on the run rather than on its refs: a variable, the environment, the target,
# the clock, or SQL run while compiling (which may read any table).
_RUN_DEPENDENT = re.compile(
    r"\b(var|env_var)\s*\(|\b(now|clock_timestamp|statement_timestamp|random)\s*\(|current_(date|timestamp)"
    r"|localtime|run_started_at|invocation_id|\bthis\b|is_incremental|\btarget\.|\badapter\.|run_query|statement\s*\(",
    re.IGNORECASE,
)


def _same_every_run(node: Mapping[str, Any]) -> bool:
    """A model that builds the same rows from the same refs in any run (not incremental; no variable,
    environment, target, clock or SQL run while compiling)."""
    return node["config"].get("materialized") != "incremental" and not _RUN_DEPENDENT.search(node.get("raw_code") or "")


def fingerprint(manifest: Mapping[str, Any], project_dir: Path, nodes: Iterable[str]) -> str:
    """SHA-256 of what dbt reads to build and test the reference nodes (see the module's doc)."""
    project_dir = Path(project_dir)
    files: set[Path] = {project_dir / "dbt_project.yml"}
    files |= {p for p in (project_dir / "macros").rglob("*") if p.is_file()}
    for uid in nodes:
        node = manifest["nodes"][uid]
        for key in ("original_file_path", "patch_path"):
            rel = node.get(key)
            if rel:
                files.add(project_dir / rel.split("://", 1)[-1])
    digest = hashlib.sha256()
    digest.update(str(manifest.get("metadata", {}).get("dbt_version", "")).encode())
    digest.update(json.dumps(sorted(nodes)).encode())
    for path in sorted(files):
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()


def built(manifest: Mapping[str, Any], nodes: Iterable[str]) -> frozenset[str]:
    """The nodes a build runs (every one but the ephemeral models, which only exist inside others' SQL)."""
    return frozenset(uid for uid in nodes if manifest["nodes"][uid]["config"].get("materialized") != "ephemeral")


def _relations(manifest: Mapping[str, Any], nodes: Iterable[str]) -> list[tuple[str, str]]:
    out = []
    for uid in nodes:
        node = manifest["nodes"][uid]
        if node["resource_type"] in ("seed", "model"):
            out.append((node["schema"], node.get("alias") or node["name"]))
    return sorted(out)


def plan(manifest_path: Path, project_dir: Path, warehouse_url: str) -> Plan:
    """Whether this build may leave the reference nodes out (see the module's doc)."""
    if not manifest_path.exists():
        return Plan(frozenset(), "", False, f"no dbt manifest at {manifest_path}: building everything")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    every = reference_nodes(manifest)
    fp = fingerprint(manifest, project_dir, every)
    nodes = built(manifest, every)
    with warehouse.connect(warehouse_url) as conn:
        row = conn.execute("select fingerprint from audit.reference_builds order by built_at desc limit 1").fetchone()
        if row is None or row[0] != fp:
            why = "never built in this warehouse" if row is None else "changed since their last build"
            return Plan(nodes, fp, False, f"reference data {why}: building it")
        missing = [
            f"{schema}.{name}"
            for schema, name in _relations(manifest, nodes)
            if conn.execute("select to_regclass(%s)", (f'"{schema}"."{name}"',)).fetchone()[0] is None  # type: ignore[index]
        ]
    if missing:
        return Plan(nodes, fp, False, f"reference relation(s) missing ({', '.join(missing)}): building them")
    return Plan(nodes, fp, True, f"reference data unchanged: {len(nodes)} seed, model and test node(s) left out")


def record(run_results: Mapping[str, Any], nodes: Iterable[str], fp: str, warehouse_url: str) -> bool:
    """Write `fp` as the warehouse's reference build if every node of `nodes` ran and passed in this build."""
    nodes = set(nodes)
    if not nodes or not fp:
        return False
    status = {r.get("unique_id"): str(r.get("status")) for r in run_results.get("results", [])}
    if any(status.get(uid) not in ("success", "pass") for uid in nodes):
        return False
    with warehouse.connect(warehouse_url) as conn:
        conn.execute("insert into audit.reference_builds (fingerprint) values (%s)", (fp,))
    return True


def as_xcom(p: Plan) -> dict[str, Any]:
    return {"exclude": p.exclude, "fingerprint": p.fingerprint, "nodes": sorted(p.nodes), "skip": p.skip}


def after_build(project_dir: str, context: Any = None, **_: Any) -> bool:
    """Cosmos callback after the monthly `dbt build`: record the reference build planned by
    `prepare_warehouse` (its XCom) if this build ran and passed every reference node."""
    if context is None:
        return False
    planned = context["ti"].xcom_pull(task_ids="prepare_warehouse") or {}
    path = Path(project_dir) / "target" / "run_results.json"
    if planned.get("skip") or not path.exists():
        return False
    done = record(
        json.loads(path.read_text(encoding="utf-8")),
        planned.get("nodes") or [],
        planned.get("fingerprint") or "",
        warehouse.url(),
    )
    print(f"reference data {'recorded as built' if done else 'not recorded: not every reference node passed'}")
    return done
