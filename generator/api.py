"""`generate()`: the whole sample-data run, month by month, deterministic for a seed."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from generator import broken as broken_mod
from generator import planting, truth
from generator import totals as tot
from generator.layout import FUNDS, members, reporting_province, slots
from generator.messy import Style, csv_style, workbook_style
from generator.model import Year, build_year
from generator.report import ProvinceReport, assemble
from generator.tables import TRUTH_HEADER
from generator.treasury import HEADER, PLAN_HEADER, line_rows, month_lines, plan_lines, plan_rows, write_csv
from generator.workbook import decimals_for, report_date, strip_diacritics, write_workbook
from ntp_core import reference
from ntp_core.periods import add_months, period_range

AMOUNT_COLS = (9, 10, 11)


@dataclass
class GenerationResult:
    out_dir: Path
    files: list[Path] = field(default_factory=list)
    ground_truth: list[dict[str, str]] = field(default_factory=list)
    totals: list[tuple] = field(default_factory=list)
    broken: list[dict[str, str]] = field(default_factory=list)
    ground_truth_extra: list[dict[str, str]] = field(default_factory=list)  # revisions, broken files


@dataclass
class MonthState:
    """What a perfect loader would hold for one month after reading every delivered file."""

    period: date
    expected: tuple[str, ...]  # provinces that must report
    reports: dict[str, ProvinceReport] = field(default_factory=dict)  # accepted workbooks
    treasury: dict[str, dict] = field(default_factory=dict)  # code -> key sums (accepted extracts)
    treasury_by_year: dict[str, dict] = field(default_factory=dict)  # code -> {(s,f,k): (alloc, cum)}
    plan_file: dict[str, np.ndarray] = field(default_factory=dict)  # code -> [S, F] (when the year has one)
    files: dict[tuple[str, str], str] = field(default_factory=dict)  # (code, kind) -> file name


def resolve_provinces(spec: str | Iterable[str]) -> tuple[set[str], set[str]]:
    """`all` or codes -> (pre-merger codes, post-merger codes) to report."""
    p63 = {p.province_code for p in reference.provinces_63()}
    p34 = {p.province_code for p in reference.provinces_34()}
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            return p63, p34
        codes = [c.strip() for c in spec.split(",") if c.strip()]
    else:
        codes = list(spec)
    codes = [c.zfill(2) for c in codes]
    bad = [c for c in codes if c not in p63 and c not in p34]
    if bad or not codes:
        raise ValueError(f"unknown province code(s): {', '.join(bad) or '(none given)'}")
    s63 = {c for c in codes if c in p63}
    s34 = {c for c in codes if c in p34} | {
        p.successor_code for p in reference.provinces_63() if p.province_code in s63 and p.successor_code
    }
    return s63, s34


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", strip_diacritics(name).lower()).strip("_")


def _mtime(path: Path, when: datetime) -> None:
    ts = when.replace(tzinfo=UTC).timestamp()
    os.utime(path, (ts, ts))


def workbook_name(code: str, province_name: str, period: date, suffix: str = "") -> str:
    return f"BC_NTP_{code}_{slug(province_name)}_{period.strftime('%Y%m')}{suffix}.xlsx"


def generate(
    out_dir: str | Path,
    periods: str | Iterable[date],
    provinces: str | Iterable[str] = "all",
    scale: str | int = "small",
    seed: int = 0,
    messy: int = 0,
    plant_rate: float = 0.0,
    broken: bool = False,
    treasury: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> GenerationResult:
    """Write sample monthly reports under `out_dir` and return what was written and what should be found.

    periods: `YYYY-MM[:YYYY-MM]` or dates; provinces: `all` or GSO codes; scale: small | national | N lines
    per key; treasury: `province` (one extract per province), `national` (one file) or `auto` (national at
    national scale).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    months = period_range(periods) if isinstance(periods, str) else sorted(periods)
    if not months:
        raise ValueError("no report month given")
    if not 0 <= messy <= 3:
        raise ValueError("messy level must be 0..3")
    if not 0.0 <= plant_rate <= 1.0:
        raise ValueError("plant rate must be between 0 and 1")
    if scale not in ("small", "national"):
        scale = int(scale)
    if treasury == "auto":
        treasury = "national" if scale == "national" else "province"
    s63, s34 = resolve_provinces(provinces)
    result = GenerationResult(out)
    states: list[MonthState] = []
    books: list = []
    for year in sorted({d.year for d in months}):
        ymonths = [d for d in months if d.year == year]
        expected = {
            d: tuple(
                p.province_code
                for p in reference.provinces_for(d)
                if p.province_code in (s34 if d >= reference.MERGER_DATE else s63)
            )
            for d in ymonths
        }
        entities = tuple(sorted({e for d in ymonths for c in expected[d] for e in members(c, d)}))
        fig = build_year(seed, year, entities)
        book = planting.plant_year(fig, ymonths, expected, seed, plant_rate) if plant_rate > 0 else None
        if book is not None:
            books.append(book)
        lplan = plan_lines(seed, fig.treasury, scale)
        revision = _revision_target(seed, ymonths, expected, book) if messy >= 1 else None
        # annual plan assignment, in the first generated month's folder
        first = ymonths[0]
        folder = out / first.strftime("%Y-%m")
        folder.mkdir(exist_ok=True)
        pf_path = folder / f"KHV_giao_{year}.csv"
        rng_plan = np.random.default_rng([seed & 0xFFFFFFFF, year, 9])
        write_csv(
            pf_path,
            PLAN_HEADER,
            plan_rows(year, fig.plan_file, entities),
            csv_style(rng_plan, messy) if messy >= 2 else None,
            amount_cols=(5,),
            rng=rng_plan,
        )
        _mtime(pf_path, datetime(first.year, first.month, 2, 8, 0))
        result.files.append(pf_path)
        for d in ymonths:
            nxt = next((x for x in months if x > d), d)
            state = _write_month(
                out,
                d,
                expected[d],
                fig,
                lplan,
                seed,
                messy,
                treasury,
                book,
                result,
                revision if revision and revision[0] == d else None,
                nxt,
            )
            states.append(state)
            if progress:
                progress(f"{d:%Y-%m}: {len(state.reports)} workbooks, {len(state.treasury)} Treasury extracts")
    extra = [r for b in books for r in b.truth_rows(states)] + result.ground_truth_extra
    result.ground_truth = truth.ground_truth(states, extra)
    if broken:
        result.broken = broken_mod.write_broken(out, months, seed, result)
    truth.write_outputs(out, result)
    return result


def _revision_target(seed: int, ymonths: list[date], expected: dict, book) -> tuple[date, str] | None:
    """One corrected re-delivery per year: (report month, province)."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, ymonths[0].year, 55])
    pool = ymonths[:-1] or ymonths
    for _ in range(50):
        d = pool[int(rng.integers(len(pool)))]
        if not expected[d]:
            continue
        code = expected[d][int(rng.integers(len(expected[d])))]
        if book is None or not (book.workbook_missing(d, code) or (d, code) in book.rejected):
            return d, code
    return None


def _write_revision(
    out: Path, rep: ProvinceReport, style: Style, nxt: date, result: GenerationResult, state: MonthState
) -> None:
    """Write a first version with one wrong figure, then the corrected version (later report date).

    The correction goes to the folder of the next generated month (it arrives later), or the same folder
    when the month is the last one generated.
    """
    first = copy.deepcopy(rep)
    sh = first.sheets["DTPT"]
    v = sh.values()
    rows = [sh.layout.row_of(k) for k in sh.layout.leaves if v[sh.layout.row_of(k), 0, 2, 0] > 0]
    wrong: dict[str, str] = {}
    if rows:
        r = rows[0]
        right = int(v[r, 0, 2, 0])
        sh.leaf_overrides[(r, 0, 2, 0)] = right + max(50_000_000, right // 20)
        wrong = {  # the one wrong figure of the first version: what the correction fixes
            "capital_type": "DTPT",
            "component_key": sh.layout.components[r].component_key,
            "plan_block": "current",
            "measure": "disbursed_cumulative",
            "fund_source": "NSTW",
            "province_value_vnd": str(sh.leaf_overrides[(r, 0, 2, 0)]),
            "expected_vnd": str(right),
            "delta_vnd": str(sh.leaf_overrides[(r, 0, 2, 0)] - right),
        }
    path = out / rep.period.strftime("%Y-%m") / rep.file_name
    write_workbook(path, first, style)
    _mtime(path, datetime(rep.report_date.year, rep.report_date.month, rep.report_date.day, 8, 0))
    rep.replaces = rep.report_date
    rep.report_date = date.fromordinal(rep.report_date.toordinal() + 9)
    rep.file_name = rep.file_name.replace(".xlsx", "_thay_the.xlsx")
    folder = out / nxt.strftime("%Y-%m")
    folder.mkdir(exist_ok=True)
    rpath = folder / rep.file_name
    write_workbook(rpath, rep, style)
    _mtime(rpath, datetime(rep.report_date.year, rep.report_date.month, rep.report_date.day, 9, 0))
    result.files.extend([path, rpath])
    code = rep.province.province_code
    state.files[(code, "workbook")] = f"{nxt:%Y-%m}/{rep.file_name}"
    note = (
        f"corrected re-delivery superseding {rep.period:%Y-%m}/{path.name} (report date "
        f"{rep.replaces:%d/%m/%Y}; one ĐTPT disbursement figure was wrong); findings use the corrected file"
    )
    row = dict.fromkeys(TRUTH_HEADER, "")
    row.update(
        rule_id="REVISION",
        period=rep.period.strftime("%Y-%m"),
        province_code=code,
        note=note,
        file=f"{nxt:%Y-%m}/{rep.file_name}",
        **wrong,
    )
    result.ground_truth_extra.append(row)


def _write_month(
    out: Path,
    d: date,
    expected: tuple[str, ...],
    fig: Year,
    lplan,
    seed: int,
    messy: int,
    treasury: str,
    book,
    result: GenerationResult,
    revision: tuple[date, str] | None = None,
    nxt: date | None = None,
) -> MonthState:
    folder = out / d.strftime("%Y-%m")
    folder.mkdir(exist_ok=True)
    label = d.strftime("%Y-%m")
    state = MonthState(d, expected)
    m = d.month - 1
    ents = fig.province.entities
    for code in expected:
        prov = reporting_province(code, d)
        rep = assemble(fig.province, code, d, report_date(seed, d, code), decimals_for(seed, d.year, code), prov)
        rep.file_name = workbook_name(code, prov.short_name, d)
        rng = np.random.default_rng([seed & 0xFFFFFFFF, d.year, d.month, int(code), 8])
        style = workbook_style(rng, messy)
        accepted = True
        if book is not None:
            accepted = book.edit_report(rep, style)
        if revision is not None and revision[1] == code and accepted:
            _write_revision(out, rep, style, nxt or d, result, state)
            state.reports[code] = rep
        elif book is None or not book.workbook_missing(d, code):
            path = folder / rep.file_name
            write_workbook(path, rep, style)
            _mtime(
                path,
                datetime(rep.report_date.year, rep.report_date.month, rep.report_date.day, 8, int(code) % 60),
            )
            result.files.append(path)
            state.files[(code, "workbook")] = f"{label}/{rep.file_name}"
            if accepted:
                state.reports[code] = rep
        result.totals.extend(tot.province_rows(rep) if code in state.reports else [])
    # Treasury
    lines = month_lines(fig.treasury, lplan, m)
    reporting = {e: _reporting_code(e, d) for e in ents}
    tinh_of_line = np.array([reporting[e] for e in ents])[lines.e] if lines.e.size else np.zeros(0, str)
    delivered = [c for c in expected if book is None or not book.treasury_missing(d, c)]
    groups = (
        [(c, tinh_of_line == c) for c in delivered]
        if treasury == "province"
        else [("toanquoc", np.isin(tinh_of_line, delivered))]
    )
    for name, sel in groups:
        rows = line_rows(lines, d, ents, reporting, sel)
        if book is not None:
            rows = rows + book.extra_lines(d, name, reporting)
        path = folder / f"KBNN_{name}_{d:%Y%m}.csv"
        rng = np.random.default_rng([seed & 0xFFFFFFFF, d.year, d.month, 0 if name == "toanquoc" else int(name), 10])
        write_csv(path, HEADER, rows, csv_style(rng, messy), AMOUNT_COLS, rng)
        nxt = add_months(d, 1)
        _mtime(path, datetime(nxt.year, nxt.month, 5, 7, 0))
        result.files.append(path)
        for c in delivered if name == "toanquoc" else [name]:
            state.files[(c, "treasury")] = f"{label}/{path.name}"
    pf = fig.plan_file
    for code in expected:
        idx = [ents.index(e) for e in members(code, d) if e in ents]
        state.plan_file[code] = pf[idx].sum(axis=0)
        result.totals.extend(tot.plan_file_rows(label, code, state.plan_file[code]))
        if code not in delivered:
            continue
        t = fig.treasury
        sums = tot.key_sums(
            t.alloc[m, idx].sum(0), t.disb[m, idx].sum(0), t.co_alloc[m, idx].sum(0), t.co_disb[m, idx].sum(0)
        )
        state.treasury[code] = sums
        per_year = {}
        for (s, f), _ in np.ndenumerate(t.plan[0]):
            for k in range(t.co_alloc.shape[-1]):
                a, paid = int(t.co_alloc[m, idx, s, f, k].sum()), int(t.co_disb[m, idx, s, f, k].sum())
                if a or paid:
                    per_year[(s, f, k)] = (a, paid)
        state.treasury_by_year[code] = per_year
        result.totals.extend(tot.source_rows(label, code, sums, "treasury"))
    return state


def _reporting_code(base: str, d: date) -> str:
    if d >= reference.MERGER_DATE:
        successor = next(p.successor_code for p in reference.provinces_63() if p.province_code == base)
        assert successor is not None  # every pre-merger province has one
        return successor
    return base


__all__ = ["GenerationResult", "generate", "Style", "FUNDS", "slots"]
