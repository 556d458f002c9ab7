"""Expected totals: every figure as a loader should find it, in exact VND, per source."""

from __future__ import annotations

import numpy as np

from generator.layout import BLOCKS, FUNDS, MEASURES, sheet, slot_index, slots
from generator.report import ProvinceReport

TOTALS_HEADER = (
    "period",
    "province_code",
    "capital_type",
    "component_key",
    "plan_block",
    "measure",
    "fund_source",
    "source",
    "value_vnd",
)


def province_rows(rep: ProvinceReport) -> list[tuple]:
    """Written province figures (every line present in the sheet), non-zero only."""
    out = []
    period = rep.period.strftime("%Y-%m")
    for cap, sh in rep.sheets.items():
        v = sh.values()
        for i, comp in enumerate(sh.layout.components):
            for b in range(2):
                for m in range(3):
                    for f in range(2):
                        val = int(v[i, b, m, f])
                        if val:
                            out.append(
                                (
                                    period,
                                    rep.province.province_code,
                                    cap,
                                    comp.component_key,
                                    BLOCKS[b],
                                    MEASURES[m],
                                    FUNDS[f],
                                    "province",
                                    val,
                                )
                            )
    return out


def key_sums(
    alloc: np.ndarray, disb: np.ndarray, co_alloc: np.ndarray, co_disb: np.ndarray
) -> dict[tuple[int, int, int, int], int]:
    """{(slot, fund, block, measure): value} from [S,F] and [S,F,K] arrays, non-zero only."""
    out = {}
    for (s, f), v in np.ndenumerate(alloc):
        if v:
            out[(s, f, 0, 1)] = int(v)
    for (s, f), v in np.ndenumerate(disb):
        if v:
            out[(s, f, 0, 2)] = int(v)
    for (s, f), v in np.ndenumerate(co_alloc.sum(axis=-1)):
        if v:
            out[(s, f, 1, 1)] = int(v)
    for (s, f), v in np.ndenumerate(co_disb.sum(axis=-1)):
        if v:
            out[(s, f, 1, 2)] = int(v)
    return out


def source_rows(period: str, code: str, sums: dict[tuple[int, int, int, int], int], source: str) -> list[tuple]:
    sl = slots()
    return [
        (
            period,
            code,
            sl[s].capital_type,
            sl[s].component.component_key,
            BLOCKS[b],
            MEASURES[m],
            FUNDS[f],
            source,
            v,
        )
        for (s, f, b, m), v in sorted(sums.items())
    ]


def plan_file_rows(period: str, code: str, plan: np.ndarray) -> list[tuple]:
    sl = slots()
    return [
        (
            period,
            code,
            sl[s].capital_type,
            sl[s].component.component_key,
            "current",
            "plan_assigned",
            FUNDS[f],
            "plan_file",
            int(v),
        )
        for (s, f), v in np.ndenumerate(plan)
        if v
    ]


__all__ = [
    "TOTALS_HEADER",
    "province_rows",
    "key_sums",
    "source_rows",
    "plan_file_rows",
    "sheet",
    "slot_index",
]
