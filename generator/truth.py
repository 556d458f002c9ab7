"""Ground truth: the findings a perfect checker produces on what was delivered, and the output tables.

Rather than trusting that a planted change fires exactly one rule, the run's final state (accepted
workbooks as written, Treasury sums, plan file) goes through this reference checker, which implements the
rule definitions of docs/generator.md. Planted changes and their side effects are therefore all listed,
and clean data is checked to produce nothing.
"""

from __future__ import annotations

from datetime import date, timedelta

from generator.layout import (
    MEASURES,
    carryover_deadline,
    reporting_province,
    slot_index,
    slots,
    tolerance,
)
from generator.model import CARRY_OFFSETS
from generator.report import B_CUR, ProvinceReport, rate
from generator.tables import BROKEN_HEADER, TRUTH_HEADER, truth_row, write_table
from generator.totals import TOTALS_HEADER
from ntp_core import reference
from ntp_core.periods import add_months


def after_allocation_deadline(d: date) -> bool:
    """Report month `d` ends after its plan year's allocation deadline (`ref_deadlines.csv`, kind
    `allocation`); a year the seed does not list has no deadline, as in the dbt rule."""
    deadline = reference.deadlines("allocation").get(d.year)
    return deadline is not None and month_end(d) > deadline


def months_to_year_end_deadline(plan_year: int) -> int | None:
    """Months of execution of a plan year up to its year-end disbursement deadline (`ref_deadlines.csv`, kind
    `year_end_disbursement`: 31 January of the next year = 13); None when the seed does not list the year."""
    deadline = reference.deadlines("year_end_disbursement").get(plan_year)
    return None if deadline is None else (deadline.year - plan_year) * 12 + deadline.month


def month_end(d: date) -> date:
    return add_months(d, 1) - timedelta(days=1)


def leaf_values(rep: ProvinceReport) -> dict[tuple[int, int, int, int], int]:
    """{(slot, fund, block, measure): VND} of the leaf lines as written."""
    idx = slot_index()
    out = {}
    for cap, sh in rep.sheets.items():
        v = sh.values()
        for key in sh.layout.leaves:
            r = sh.layout.row_of(key)
            s = idx[(cap, key)]
            for b in range(2):
                for m in range(3):
                    for f in range(2):
                        if v[r, b, m, f]:
                            out[(s, f, b, m)] = int(v[r, b, m, f])
    return out


def _t02(x: int, y: int) -> bool:
    if not x or not y:
        return False
    r = max(abs(x), abs(y)) / min(abs(x), abs(y))
    return any(lo <= r <= hi for lo, hi in reference.UNIT_SCALE_BANDS)


def _prev_values(prev, code: str, d: date, kind: str) -> dict | None:
    """Last month's figures of `code` from one source; across the merger, the predecessors' sum."""
    if prev is None:
        return None
    codes = (
        [p.province_code for p in reference.predecessors(code)] if prev.period < reference.MERGER_DATE <= d else [code]
    )
    out: dict = {}
    for c in codes:
        if kind == "province":
            if c not in prev.reports:
                return None
            vals = leaf_values(prev.reports[c])
        else:
            if c not in prev.treasury:
                return None
            vals = {(s, f, b, m): v for (s, f, b, m), v in prev.treasury[c].items()}
        for k, v in vals.items():
            out[k] = out.get(k, 0) + v
    return out


def check_month(state, prev) -> list[dict[str, str]]:
    d = state.period
    found: list[dict[str, str]] = []
    n_s = len(slots())
    for code in state.expected:
        wb_file = state.files.get((code, "workbook"), "")
        tr_file = state.files.get((code, "treasury"), "")
        rep = state.reports.get(code)
        tr = state.treasury.get(code)
        if rep is None:
            found.append(truth_row("NTP-C01", d, code, file=wb_file, note="no accepted provincial workbook"))
        if tr is None:
            found.append(truth_row("NTP-C01", d, code, file=tr_file, note="no Treasury extract lines"))
        pvals = leaf_values(rep) if rep is not None else {}
        pf = state.plan_file.get(code)
        prev_p = _prev_values(prev, code, d, "province") if rep is not None else None
        prev_t = _prev_values(prev, code, d, "treasury") if tr is not None else None
        for s in range(n_s):
            for f in range(2):
                for b in range(2):
                    pv = [pvals.get((s, f, b, m), 0) for m in range(3)]
                    tv = [0, tr.get((s, f, b, 1), 0), tr.get((s, f, b, 2), 0)] if tr is not None else None
                    found.extend(
                        _line_rules(d, code, s, f, b, rep is not None, pv, tv, pf, prev_p, prev_t, wb_file, tr_file)
                    )
        if tr is not None:
            for (s, f, k), (alloc, cum) in sorted(state.treasury_by_year.get(code, {}).items()):
                y = d.year - CARRY_OFFSETS[k]
                if month_end(d) > carryover_deadline(y) and cum < alloc - tolerance("NTP-D02", alloc, cum):
                    found.append(
                        truth_row(
                            "NTP-D02",
                            d,
                            code,
                            s,
                            f,
                            1,
                            "disbursed_cumulative",
                            tv=cum,
                            exp=alloc,
                            file=tr_file,
                            note=f"nam_kh={y}; deadline {carryover_deadline(y)}",
                        )
                    )
        if rep is not None:
            found.extend(_sheet_rules(d, code, rep, wb_file))
    return found


def _line_rules(
    d: date,
    code: str,
    s: int,
    f: int,
    b: int,
    has_rep: bool,
    pv: list[int],
    tv: list[int] | None,
    pf,
    prev_p: dict | None,
    prev_t: dict | None,
    wb_file: str,
    tr_file: str,
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    p_plan, p_alloc, p_disb = pv
    both = has_rep and tv is not None
    pfv = int(pf[s, f]) if (pf is not None and b == B_CUR) else 0
    if both:
        assert tv is not None
        prov_any = bool(p_alloc or p_disb)
        tr_any = bool(tv[1] or tv[2])
        if prov_any != tr_any:
            side = "province only" if prov_any else "Treasury only"
            out.append(
                truth_row(
                    "NTP-A04",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "",
                    pv=p_alloc,
                    tv=tv[1],
                    file=wb_file if prov_any else tr_file,
                    note=f"{side}: allocated {p_alloc}/{tv[1]}, disbursed {p_disb}/{tv[2]}",
                )
            )
        elif prov_any:
            for rule, mi in (("NTP-A01", 1), ("NTP-A02", 2)):
                if abs(pv[mi] - tv[mi]) > tolerance(rule, pv[mi], tv[mi]):
                    out.append(
                        truth_row(
                            rule,
                            d,
                            code,
                            s,
                            f,
                            b,
                            MEASURES[mi],
                            pv=pv[mi],
                            tv=tv[mi],
                            exp=tv[mi],
                            file=wb_file,
                        )
                    )
            for mi in (1, 2):
                if _t02(pv[mi], tv[mi]):
                    out.append(
                        truth_row(
                            "NTP-T02",
                            d,
                            code,
                            s,
                            f,
                            b,
                            MEASURES[mi],
                            pv=pv[mi],
                            tv=tv[mi],
                            exp=tv[mi],
                            file=wb_file,
                            note="province vs Treasury",
                        )
                    )
    if has_rep:
        if p_disb - p_alloc > tolerance("NTP-I01", p_disb, p_alloc):
            out.append(
                truth_row(
                    "NTP-I01",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "disbursed_cumulative",
                    pv=p_disb,
                    exp=p_alloc,
                    file=wb_file,
                    note="province",
                )
            )
        if p_alloc - p_plan > tolerance("NTP-I02", p_alloc, p_plan):
            out.append(
                truth_row(
                    "NTP-I02",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "allocated",
                    pv=p_alloc,
                    exp=p_plan,
                    file=wb_file,
                    note="province: allocated > plan assigned in the report",
                )
            )
        elif pfv and p_alloc - pfv > tolerance("NTP-I02", p_alloc, pfv):
            out.append(
                truth_row(
                    "NTP-I02",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "allocated",
                    pv=p_alloc,
                    exp=pfv,
                    file=wb_file,
                    note="province: allocated > plan-file plan",
                )
            )
        if b == B_CUR and pf is not None and abs(p_plan - pfv) > tolerance("NTP-A03", p_plan, pfv):
            out.append(truth_row("NTP-A03", d, code, s, f, b, "plan_assigned", pv=p_plan, exp=pfv, file=wb_file))
        if b == B_CUR and after_allocation_deadline(d) and p_alloc < p_plan - tolerance("NTP-D01", p_alloc, p_plan):
            out.append(truth_row("NTP-D01", d, code, s, f, b, "allocated", pv=p_alloc, exp=p_plan, file=wb_file))
        to_deadline = months_to_year_end_deadline(d.year)
        if (
            b == B_CUR
            and d.month >= reference.D03_FIRST_MONTH
            and to_deadline is not None
            and p_plan > 0
            and p_disb * to_deadline < d.month * p_plan
        ):
            out.append(
                truth_row(
                    "NTP-D03",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "disbursed_cumulative",
                    pv=p_disb,
                    exp=p_plan,
                    file=wb_file,
                    note=f"projected {p_disb * to_deadline / d.month / p_plan * 100:.2f} % of plan by 31/1",
                )
            )
        if prev_p is not None:
            last = [prev_p.get((s, f, b, m), 0) for m in range(3)]
            if p_disb < last[2] - tolerance("NTP-T01", p_disb, last[2]):
                out.append(
                    truth_row(
                        "NTP-T01",
                        d,
                        code,
                        s,
                        f,
                        b,
                        "disbursed_cumulative",
                        pv=p_disb,
                        exp=last[2],
                        file=wb_file,
                        note="province",
                    )
                )
            for mi in range(3):
                if _t02(pv[mi], last[mi]):
                    out.append(
                        truth_row(
                            "NTP-T02",
                            d,
                            code,
                            s,
                            f,
                            b,
                            MEASURES[mi],
                            pv=pv[mi],
                            exp=last[mi],
                            file=wb_file,
                            note="province vs last month",
                        )
                    )
    if tv is not None:
        if tv[2] - tv[1] > tolerance("NTP-I01", tv[1], tv[2]):
            out.append(
                truth_row(
                    "NTP-I01",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "disbursed_cumulative",
                    tv=tv[2],
                    exp=tv[1],
                    file=tr_file,
                    note="Treasury",
                )
            )
        if pfv and tv[1] - pfv > tolerance("NTP-I02", tv[1], pfv):
            out.append(
                truth_row(
                    "NTP-I02",
                    d,
                    code,
                    s,
                    f,
                    b,
                    "allocated",
                    tv=tv[1],
                    exp=pfv,
                    file=tr_file,
                    note="Treasury: allocated > plan-file plan",
                )
            )
        if prev_t is not None:
            last = [0, prev_t.get((s, f, b, 1), 0), prev_t.get((s, f, b, 2), 0)]
            if tv[2] < last[2] - tolerance("NTP-T01", tv[2], last[2]):
                out.append(
                    truth_row(
                        "NTP-T01",
                        d,
                        code,
                        s,
                        f,
                        b,
                        "disbursed_cumulative",
                        tv=tv[2],
                        exp=last[2],
                        file=tr_file,
                        note="Treasury",
                    )
                )
            for mi in (1, 2):
                if _t02(tv[mi], last[mi]):
                    out.append(
                        truth_row(
                            "NTP-T02",
                            d,
                            code,
                            s,
                            f,
                            b,
                            MEASURES[mi],
                            tv=tv[mi],
                            exp=last[mi],
                            file=tr_file,
                            note="Treasury vs last month",
                        )
                    )
    return out


def _sheet_rules(d: date, code: str, rep: ProvinceReport, wb_file: str) -> list[dict[str, str]]:
    out = []
    for cap, sh in rep.sheets.items():
        lay = sh.layout
        v = sh.values()
        for i, comp in enumerate(lay.components):
            kids = lay.children[comp.component_key]
            if kids:
                total = sum(v[lay.row_of(k)] for k in kids)
                for b in range(2):
                    for m in range(3):
                        for f in range(2):
                            if v[i, b, m, f] != total[b, m, f]:
                                out.append(
                                    truth_row(
                                        "NTP-I03",
                                        d,
                                        code,
                                        None,
                                        f,
                                        b,
                                        MEASURES[m],
                                        pv=int(v[i, b, m, f]),
                                        exp=int(total[b, m, f]),
                                        file=wb_file,
                                        capital_type=cap,
                                        component_key=comp.component_key,
                                        note="parent line differs from the sum of its direct children",
                                    )
                                )
        for (r, b, m), written in sorted(sh.total_overrides.items()):
            expect = int(v[r, b, m].sum())
            if written != expect:
                out.append(
                    truth_row(
                        "NTP-I03",
                        d,
                        code,
                        None,
                        None,
                        b,
                        MEASURES[m],
                        pv=written,
                        exp=expect,
                        file=wb_file,
                        capital_type=cap,
                        component_key=lay.components[r].component_key,
                        fund_source="",
                        note="Tổng số differs from NSTW + NSĐP",
                    )
                )
        for r, written_rate in sorted(sh.rate_overrides.items()):
            row_v = v[r] if r >= 0 else sh.total(v)
            expected_rate = rate(int(row_v[B_CUR, 0].sum()), int(row_v[B_CUR, 2].sum()))
            if expected_rate is None or abs(written_rate - expected_rate) > 0.1 + 1e-9:
                out.append(
                    truth_row(
                        "NTP-I04",
                        d,
                        code,
                        None,
                        None,
                        B_CUR,
                        "disbursement_rate",
                        file=wb_file,
                        capital_type=cap,
                        component_key=lay.components[r].component_key if r >= 0 else "",
                        fund_source="",
                        note=f"written {written_rate:.2f} %, computed {expected_rate} %",
                    )
                )
    return out


def ground_truth(states: list, book_rows: list[dict[str, str]]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    by_period = {s.period: s for s in states}
    for s in states:
        prev_period = date(s.period.year, s.period.month - 1, 1) if s.period.month > 1 else None
        rows.extend(check_month(s, by_period.get(prev_period)))
    rows.extend(book_rows)
    rows.sort(
        key=lambda r: (
            r["period"],
            r["province_code"],
            r["rule_id"],
            r["capital_type"],
            r["component_key"],
            r["fund_source"],
            r["plan_block"],
            r["measure"],
            r["note"],
        )
    )
    return rows


def write_outputs(out, result) -> None:
    write_table(out / "ground_truth.csv", TRUTH_HEADER, ([r[h] for h in TRUTH_HEADER] for r in result.ground_truth))
    write_table(out / "expected_totals.csv", TOTALS_HEADER, sorted(result.totals))
    if result.broken:
        write_table(out / "broken_files.csv", BROKEN_HEADER, ([r[h] for h in BROKEN_HEADER] for r in result.broken))


__all__ = ["ground_truth", "write_outputs", "reporting_province"]
