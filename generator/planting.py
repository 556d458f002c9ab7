"""Planted discrepancies: edits to one year's figures and reports so that each quality rule fires.

Each plant targets its own (base province, leaf, fund) key or province-month, so plants do not mask each
other. Every planted delta is at least max(20,000,000 VND, 1 % of the figure), i.e. ≥ 20 × the
cross-source tolerance. What actually fires (including unavoidable side effects, e.g. a 1000× figure is
also an allocation mismatch) is decided by the reference checker in `truth.py` on the final data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from generator.layout import members, slots
from generator.model import MILLION, Year
from generator.report import B_CUR, M_ALLOC, M_DISB, M_PLAN, ProvinceReport, rate
from generator.tables import truth_row

LINE_RULES = ("A01", "A02", "A03", "A04", "I01", "I02", "I03", "I04", "T01", "T02", "D01", "D02", "D03")


def planted_rules(broken: bool) -> frozenset[str]:
    """The rules whose ground truth the generator writes: the line rules it plants, a missing report
    (NTP-C01), an unknown reference (NTP-C02) and, with the broken-file corpus, an unreadable file (NTP-F01).
    A catalogue rule outside this set is not scored for recall on generated data, only for silence."""
    return frozenset({f"NTP-{r}" for r in LINE_RULES} | {"NTP-C01", "NTP-C02"} | ({"NTP-F01"} if broken else set()))


UNKNOWN_CTMT = "99990"
UNKNOWN_COMPONENT = ("3.9", "Dự án 3.9: Hỗ trợ thí điểm mô hình sinh kế mới (chưa có trong danh mục)")


def delta_for(value: int, rng: np.random.Generator) -> int:
    base = max(20 * MILLION, abs(int(value)) // 100)
    return int((base + int(rng.integers(0, 5)) * MILLION) // MILLION + 1) * MILLION


@dataclass
class PlantBook:
    """What was planted in one year, and the hooks the writers call."""

    year: int
    report_edits: dict[tuple[date, str], list[Callable[[ProvinceReport], None]]] = field(default_factory=dict)
    missing_workbooks: set[tuple[date, str]] = field(default_factory=set)
    missing_treasury: set[tuple[date, str]] = field(default_factory=set)
    rejected: dict[tuple[date, str], str] = field(default_factory=dict)  # C02 workbooks -> note
    unknown_lines: set[tuple[date, str]] = field(default_factory=set)
    planted: list[tuple[str, date | None, str, str]] = field(default_factory=list)  # rule, period, code, what

    def edit_report(self, rep: ProvinceReport, style: object) -> bool:
        for edit in self.report_edits.get((rep.period, rep.province.province_code), []):
            edit(rep)
        if (rep.period, rep.province.province_code) in self.rejected:
            sh = rep.sheets["SN"]
            sh.unknown_rows.append((sh.layout.row_of("GNBV.DA3.TDA2"), *UNKNOWN_COMPONENT))
            return False
        return True

    def workbook_missing(self, d: date, code: str) -> bool:
        return (d, code) in self.missing_workbooks

    def treasury_missing(self, d: date, code: str) -> bool:
        return (d, code) in self.missing_treasury

    def extra_lines(self, d: date, name: str, reporting: dict[str, str]) -> list[list[str]]:
        rows = []
        for dd, code in sorted(self.unknown_lines):
            if dd == d and name in (code, "toanquoc"):
                for j, amount in enumerate((850 * MILLION, 420 * MILLION)):
                    rows.append(
                        [
                            d.strftime("%Y%m"),
                            f"{int(code) * 100 + 11:04d}",
                            code,
                            UNKNOWN_CTMT,
                            "NSTW",
                            "SN",
                            str(d.year),
                            f"1{code}99{j:02d}",
                            "Ban Quản lý dự án tỉnh",
                            str(amount),
                            str(amount // 10),
                            str(amount // 4),
                        ]
                    )
        return rows

    def truth_rows(self, states: list) -> list[dict[str, str]]:
        out = []
        by_period = {s.period: s for s in states}
        for (d, code), note in sorted(self.rejected.items()):
            st = by_period[d]
            out.append(truth_row("NTP-C02", d, code, file=st.files.get((code, "workbook"), ""), note=note))
        for d, code in sorted(self.unknown_lines):
            st = by_period[d]
            if (code, "treasury") in st.files:
                out.append(
                    truth_row(
                        "NTP-C02",
                        d,
                        code,
                        file=st.files[(code, "treasury")],
                        note=f"unknown ma_ctmt {UNKNOWN_CTMT} on 2 lines (set aside, not loaded)",
                    )
                )
        return out


def plant_year(
    fig: Year, months: list[date], expected: dict[date, tuple[str, ...]], seed: int, plant_rate: float
) -> PlantBook:
    rng = np.random.default_rng([seed & 0xFFFFFFFF, months[0].year, 77])
    book = PlantBook(months[0].year)
    ents = fig.province.entities
    pm = [(d, c) for d in months for c in expected[d]]
    n_c = max(1, round(plant_rate * len(pm)))
    order = rng.permutation(len(pm))
    c_cells: set[tuple[date, str]] = set()
    kinds = ("wb", "tr", "c02wb", "c02tr")
    for i, j in enumerate(order[: n_c * len(kinds)]):
        d, code = pm[int(j)]
        kind = kinds[i % len(kinds)]
        c_cells.add((d, code))
        if kind == "wb":
            book.missing_workbooks.add((d, code))
        elif kind == "tr":
            book.missing_treasury.add((d, code))
        elif kind == "c02wb":
            book.rejected[(d, code)] = f"unknown component name '{UNKNOWN_COMPONENT[1]}' on Biểu 01b; file rejected"
        else:
            book.unknown_lines.add((d, code))
        book.planted.append((kind, d, code, ""))
    n_keys = sum(int((fig.province.plan[[ents.index(e) for e in members(c, d)]].sum(0) > 0).sum()) for d, c in pm)
    n_line = max(len(LINE_RULES), round(plant_rate * n_keys))
    used: set[tuple[int, int, int]] = set()
    planter = _Planter(fig, months, expected, rng, book, used, c_cells)
    for i in range(n_line):
        planter.plant(LINE_RULES[i % len(LINE_RULES)], i)
    return book


class _Planter:
    def __init__(
        self,
        fig: Year,
        months: list[date],
        expected: dict,
        rng: np.random.Generator,
        book: PlantBook,
        used: set,
        c_cells: set,
    ) -> None:
        self.fig, self.months, self.expected, self.rng = fig, months, expected, rng
        self.book, self.used, self.c_cells = book, used, c_cells
        self.ents = fig.province.entities
        self.n_s = len(slots())

    def _group(self, e: int) -> list[int]:
        """Base provinces sharing a report with `e` in any generated month (the merger group)."""
        out = {e}
        for d in self.months:
            for c in self.expected[d]:
                mem = [self.ents.index(x) for x in members(c, d) if x in self.ents]
                if e in mem:
                    out.update(mem)
        return sorted(out)

    def _candidate(self, need_prev: bool = False, months: list[date] | None = None):
        """A random (month, reporting code, member index, slot, fund) on an unused key."""
        pool = months or self.months
        for _ in range(200):
            d = pool[int(self.rng.integers(len(pool)))]
            if not self.expected[d]:
                continue
            code = self.expected[d][int(self.rng.integers(len(self.expected[d])))]
            if (d, code) in self.c_cells:
                continue
            prev = date(d.year, d.month - 1, 1) if d.month > 1 else None
            if need_prev and (
                prev not in self.months
                or (prev, code) in self.c_cells
                or any((prev, c) in self.c_cells for c in self.expected.get(prev, ()))
            ):
                continue
            mem = [self.ents.index(x) for x in members(code, d) if x in self.ents]
            s = int(self.rng.integers(self.n_s))
            f = int(self.rng.integers(2))
            group = sorted({g for e in mem for g in self._group(e)})
            if any((g, s, f) in self.used for g in group):
                continue
            e = max(mem, key=lambda x: int(self.fig.province.plan[x, s, f]))
            return d, code, mem, e, s, f, group
        return None

    def plant(self, rule: str, i: int) -> None:
        for _ in range(30):
            if getattr(self, f"_{rule.lower()}")(i):
                self.book.planted.append((rule, None, "", ""))
                return

    def _take(self, group: list[int], s: int, f: int) -> None:
        for g in group:
            self.used.add((g, s, f))

    # --- per-month cross-source plants ------------------------------------------------------------
    def _a01(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        m, t = d.month - 1, self.fig.treasury
        a, dd = int(t.alloc[m, mem, s, f].sum()), int(t.disb[m, mem, s, f].sum())
        delta = delta_for(a, self.rng)
        if a < 1000 * MILLION or t.alloc[m, e, s, f] - t.disb[m, e, s, f] < 3 * delta or a - dd < 3 * delta:
            return False
        t.alloc[m, e, s, f] -= delta
        self._take(group, s, f)
        return True

    def _a02(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        m, t = d.month - 1, self.fig.treasury
        cur = int(t.disb[m, mem, s, f].sum())
        prev = int(t.disb[m - 1, mem, s, f].sum()) if m > 0 else 0
        delta = delta_for(cur, self.rng)
        if cur == 0 or t.disb[m, e, s, f] < 3 * delta or cur - prev < 3 * delta:
            return False
        t.disb[m, e, s, f] -= delta
        self._take(group, s, f)
        return True

    # --- whole-year plants -----------------------------------------------------------------------------
    def _a03(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        p = int(self.fig.province.plan[mem, s, f].sum())
        if p < 1000 * MILLION:
            return False
        self.fig.plan_file[e, s, f] += delta_for(p, self.rng)
        self._take(group, s, f)
        return True

    def _a04(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        p, t = self.fig.province, self.fig.treasury
        if i % 2 == 0:  # Treasury-only line all year
            if p.plan[group, s, f].any() or p.co_alloc[:, group, s, f].any():
                return False
            amount = int(self.rng.integers(300, 900)) * MILLION
            t.alloc[:, e, s, f] = amount
            t.disb[:, e, s, f] = (amount * np.linspace(0.05, 0.8, 12)).astype(np.int64)
        else:  # province-only line all year: the Treasury never booked it
            if p.plan[group, s, f].sum() < 500 * MILLION:
                return False
            for arr in (t.alloc, t.disb, t.co_alloc, t.co_disb):
                arr[:, group, s, f] = 0
        self._take(group, s, f)
        return True

    def _i01(self, i: int) -> bool:
        last = max(self.months)
        c = self._candidate(months=[last])
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        m = d.month - 1
        a, dd = (
            int(self.fig.province.alloc[m, mem, s, f].sum()),
            int(self.fig.province.disb[m, mem, s, f].sum()),
        )
        if a < 1000 * MILLION:
            return False
        bump = a - dd + delta_for(a, self.rng)
        for fig in (self.fig.province, self.fig.treasury):
            fig.disb[m, e, s, f] += bump
        self._take(group, s, f)
        return True

    def _i02(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        m = d.month - 1
        p, a = int(self.fig.province.plan[mem, s, f].sum()), int(self.fig.province.alloc[m, mem, s, f].sum())
        if p < 1000 * MILLION:
            return False
        bump = p - a + delta_for(p, self.rng)
        for fig in (self.fig.province, self.fig.treasury):
            fig.alloc[m, e, s, f] += bump
        self._take(group, s, f)
        return True

    def _t01(self, i: int) -> bool:
        months = [d for d in self.months if d.month <= 9]
        if not months:
            return False
        c = self._candidate(need_prev=True, months=months)
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        m = d.month - 1
        pm = [self.ents.index(x) for x in members(code, date(d.year, d.month - 1, 1)) if x in self.ents]
        prev = int(self.fig.province.disb[m - 1, pm, s, f].sum())
        cur = int(self.fig.province.disb[m, mem, s, f].sum())
        delta = delta_for(prev, self.rng)
        cut = cur - prev + delta
        if prev < 5 * delta or self.fig.province.disb[m, e, s, f] < cut + 5 * MILLION:
            return False
        for fig in (self.fig.province, self.fig.treasury):
            fig.disb[m, e, s, f] -= cut
        self._take(group, s, f)
        return True

    def _d01(self, i: int) -> bool:
        if not any(d.month >= 4 for d in self.months):
            return False
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        p = int(self.fig.province.plan[group, s, f].sum())
        if p < 2000 * MILLION:
            return False
        short = max(20 * MILLION, (p * 3 // 100) // MILLION * MILLION)
        margin = max(2 * MILLION, p // 200)
        if self.fig.province.alloc[3, e, s, f] < short:
            return False
        for fig in (self.fig.province, self.fig.treasury):
            fig.alloc[3:, e, s, f] -= short
            for m in range(12):  # keep disbursement below the reduced allocation (no I01 side effect)
                excess = int(fig.disb[m, group, s, f].sum()) - (int(fig.alloc[m, group, s, f].sum()) - margin)
                if excess > 0:
                    fig.disb[m, e, s, f] = max(int(fig.disb[m, e, s, f]) - excess, 0)
        self._take(group, s, f)
        return True

    def _d02(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        p = int(self.fig.province.plan[e, s, f])
        if p == 0:
            return False
        amount = max(200 * MILLION, (p // 10) // MILLION * MILLION)
        cum = (amount * np.linspace(0.05, 0.5, 12)).astype(np.int64)
        for fig in (self.fig.province, self.fig.treasury):
            fig.co_alloc[:, e, s, f, 2] = amount
            fig.co_disb[:, e, s, f, 2] = cum
        self._take(group, s, f)
        return True

    def _d03(self, i: int) -> bool:
        if not any(d.month >= 10 for d in self.months):
            return False
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        if self.fig.province.plan[group, s, f].sum() < 1000 * MILLION:
            return False
        for fig in (self.fig.province, self.fig.treasury):
            slow = fig.disb[:, group, s, f] * 6 // 10
            fig.disb[:, group, s, f] = np.where(slow < 5 * MILLION, 0, slow)
        self._take(group, s, f)
        return True

    # --- report-level plants (the workbook as written) -----------------------------------------------
    def _report_edit(self, edit: Callable[[ProvinceReport], bool]) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        holder: dict[str, bool] = {}

        def run(rep: ProvinceReport) -> None:
            holder["ok"] = edit(rep)

        self.book.report_edits.setdefault((d, code), []).append(run)
        self._take(group, s, f)
        return True

    def _i03(self, i: int) -> bool:
        rng = self.rng
        cap = ("DTPT", "SN")[i % 2]
        variant = (i // 13) % 2

        def edit(rep: ProvinceReport) -> bool:
            sh = rep.sheets[cap]
            v = sh.values()
            rows = [
                r
                for r, comp in enumerate(sh.layout.components)
                if (variant == 1 or sh.layout.children[comp.component_key]) and v[r, B_CUR, M_ALLOC].all()
            ]
            if not rows:
                return False
            r = rows[int(rng.integers(len(rows)))]
            if variant == 0:
                f = int(rng.integers(2))
                sh.parent_deltas.append((r, B_CUR, M_ALLOC, f, delta_for(int(v[r, B_CUR, M_ALLOC, f]), rng)))
            else:
                total = int(v[r, B_CUR, M_ALLOC].sum())
                sh.total_overrides[(r, B_CUR, M_ALLOC)] = total + delta_for(total, rng)
            return True

        return self._report_edit(edit)

    def _i04(self, i: int) -> bool:
        rng = self.rng
        cap = ("DTPT", "SN")[i % 2]

        def edit(rep: ProvinceReport) -> bool:
            sh = rep.sheets[cap]
            v = sh.values()
            rows = [r for r in range(len(sh.layout.components)) if v[r, B_CUR, M_PLAN].sum() > 0]
            if not rows:
                return False
            r = rows[int(rng.integers(len(rows)))]
            right = rate(int(v[r, B_CUR, M_PLAN].sum()), int(v[r, B_CUR, M_DISB].sum())) or 0.0
            off = round(float(rng.uniform(0.5, 3.0)), 2)
            sh.rate_overrides[r] = round(right + off if right < 50 else right - off, 2)
            return True

        return self._report_edit(edit)

    def _t02(self, i: int) -> bool:
        c = self._candidate()
        if not c:
            return False
        d, code, mem, e, s, f, group = c
        slot = slots()[s]
        if self.fig.province.plan[mem, s, f].sum() == 0:
            return False

        def run(rep: ProvinceReport) -> None:
            sh = rep.sheets[slot.capital_type]
            r = sh.layout.row_of(slot.component.component_key)
            sh.leaf_overrides[(r, B_CUR, M_ALLOC, f)] = int(sh.leaf[r, B_CUR, M_ALLOC, f]) * 1000

        self.book.report_edits.setdefault((d, code), []).append(run)
        self._take(group, s, f)
        return True
