"""ntp_core/heap.py: once `freeze_survivors()` is installed, what survives a full collection is frozen (later
full collections do not walk it again), while the garbage that collection found is still freed. Each case runs
in a fresh interpreter, so that the test process's own collector is left as it was."""

from __future__ import annotations

import json
import subprocess
import sys

from ntp_core.settings import PROJECT_ROOT

CHECK = """
import gc, json, sys
from ntp_core.heap import freeze_survivors

kept = [[i] for i in range(50_000)]
if sys.argv[1] == "on":
    freeze_survivors()
    freeze_survivors()  # idempotent: one callback
ring = []
ring.append(ring)  # a reference cycle, garbage once dropped
del ring
freed = gc.collect()
frozen = gc.get_freeze_count()
later = [[i] for i in range(1_000)]
gc.collect()
print(json.dumps({"freed": freed, "frozen": frozen, "frozen_later": gc.get_freeze_count(),
                  "callbacks": len(gc.callbacks)}))
"""


def _run(mode: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, mode], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_survivors_of_a_full_collection_are_frozen_and_garbage_still_freed() -> None:
    on = _run("on")
    assert on["freed"] >= 1  # the cycle: freed by the collection, before its survivors were frozen
    assert on["frozen"] >= 50_000  # every kept list, and the rest of the interpreter's objects
    assert on["frozen_later"] >= on["frozen"] + 1_000  # the next full collection froze what was made since
    assert on["callbacks"] == 1


def test_without_it_nothing_is_frozen() -> None:
    off = _run("off")
    assert off["freed"] >= 1
    assert off["frozen"] == off["frozen_later"] == 0
    assert off["callbacks"] == 0
