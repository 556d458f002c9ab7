"""How `ingest_files` splits a month's files among its worker processes (guided scheduling)."""

from __future__ import annotations

import heapq
from pathlib import Path

import pytest

from ingestion.load import guided_runs


def _files(n: int) -> list[Path]:
    return [Path(f"BC_NTP_{i:02d}.xlsx") for i in range(n)]


def test_a_national_month_on_two_workers() -> None:
    # by hand: ceil(63/4)=16, ceil(47/4)=12, ceil(35/4)=9, ceil(26/4)=7, ceil(19/4)=5, ceil(14/4)=4,
    # ceil(10/4)=3, ceil(7/4)=2, ceil(5/4)=2, then 1, 1, 1
    runs = guided_runs(_files(63), 2)
    assert [len(r) for r in runs] == [16, 12, 9, 7, 5, 4, 3, 2, 2, 1, 1, 1]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 34, 63, 65, 200])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_file_once_in_order_runs_shrinking_to_one(n: int, workers: int) -> None:
    files = _files(n)
    runs = guided_runs(files, workers)
    assert [f for run in runs for f in run] == files
    sizes = [len(r) for r in runs]
    assert all(s >= 1 for s in sizes)
    assert sizes == sorted(sizes, reverse=True)
    if n:
        assert sizes[-1] == 1


def test_workers_finish_within_one_file_of_each_other() -> None:
    """Two workers that take the next run when free, every file costing the same: the last to finish ends
    at most one file after the first (runs of equal length, 8 of 8 and 7 files, could leave one idle for a
    whole run if the other ran a little slower)."""
    runs = guided_runs(_files(63), 2)
    cost = {0: 1.0, 1: 1.1}  # worker 1 a tenth slower per file
    free = [(0.0, 0), (0.0, 1)]
    for run in runs:
        at, worker = heapq.heappop(free)
        heapq.heappush(free, (at + cost[worker] * len(run), worker))
    ends = sorted(at for at, _ in free)
    assert ends[1] - ends[0] <= max(cost.values())
