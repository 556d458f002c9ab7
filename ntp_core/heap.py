"""Python's cyclic garbage collector in a process that runs a month: what survived a full collection is frozen.

A month run by `ntp run` is one process (`airflow dags test`) that ends with Airflow, its API app, GX,
pandas and dbt loaded: several million objects, nearly all of them kept until the process ends. Python runs
a full collection each time the objects that survived the younger generations reach a quarter of the old
ones, and each full collection walks every object again, so as imports and dbt's manifest grow the heap each
costs more: twelve a national month, the last ones ≈ 0.5 s each, one of them Cosmos' explicit
`gc.collect()` after every dbt invocation. While one runs, both dbt threads wait (it holds the interpreter
lock), so the nodes running then take half a second longer.

`freeze_survivors()` moves what survives each full collection into the permanent generation
(`gc.freeze()`, as Airflow's executors do before they fork): the next full collection walks only what was
made since. Reference counting still frees every object that is no longer referenced; only a reference
cycle reaching a frozen object stays in memory until the process ends, which is why this is for processes
that run one month or one task and end (≈ 1.5 % more peak memory on a national month).
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def freeze_survivors() -> None:
    """From now on in this process, freeze what survives each full collection (module docstring). Idempotent."""
    if _freeze_after_full_collection not in gc.callbacks:
        gc.callbacks.append(_freeze_after_full_collection)
