"""The figures model: one plan year of true VND figures for every base (pre-merger) province.

Everything is modelled on the 63 pre-merger provinces; from July 2025 a merged province reports the sum of
its predecessors, which keeps cumulative figures continuous across the merger. Random streams are keyed by
(seed, year, province) so a subset of provinces gets the same figures as in a national run.

The clean curves are shaped so that no quality rule fires on clean data (see docs/generator.md):
allocation reaches exactly the plan in April; current-year disbursement reaches ≥ 80 % in October, ≥ 88 %
in November and ≥ 96.5 % in December (the D03 linear projection then stays ≥ 100 %); carried-over capital
disburses slowly and its deadline (31 December of plan year + 2) never passes inside the data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from generator.layout import FUNDS, carryover_deadline, slots
from ntp_core import reference

MILLION = 1_000_000
#: Offsets of carried-over plan years: nam_kh = year - 1, year - 2, and year - 3 (only planted, for D02).
CARRY_OFFSETS = (1, 2, 3)

# Annual NSTW envelopes in billion VND, per (program, capital type).
ENVELOPE_BN = {
    ("NTM", "DTPT"): 8_000,
    ("NTM", "SN"): 2_500,
    ("GNBV", "DTPT"): 4_500,
    ("GNBV", "SN"): 6_500,
    ("DTTS", "DTPT"): 11_000,
    ("DTTS", "SN"): 8_000,
}
# Region weights (NTM, GNBV, DTTS) and the local (NSĐP) counterpart share of NSTW.
REGION_PROFILE = {
    "Trung du và miền núi phía Bắc": ((1.2, 3.0, 4.0), 0.08),
    "Tây Nguyên": ((1.0, 2.0, 3.0), 0.10),
    "Bắc Trung Bộ và duyên hải miền Trung": ((1.1, 1.5, 1.2), 0.12),
    "Đồng bằng sông Cửu Long": ((1.2, 0.8, 0.5), 0.15),
    "Đồng bằng sông Hồng": ((0.6, 0.2, 0.1), 0.60),
    "Đông Nam Bộ": ((0.4, 0.2, 0.15), 0.80),
}
# The poorest mountainous provinces (Hà Giang, Cao Bằng, Lào Cai, Điện Biên, Lai Châu, Sơn La).
POOREST = {"02": 1.9, "04": 1.5, "10": 1.3, "11": 1.24, "12": 1.7, "14": 1.6}
PROGRAMS = ("NTM", "GNBV", "DTTS")

# Cumulative current-year disbursement as a share of plan, end of each month (before per-line jitter).
DISB_CURVE = {
    "DTPT": (0.008, 0.020, 0.045, 0.09, 0.16, 0.26, 0.36, 0.46, 0.58, 0.80, 0.88, 0.965),
    "SN": (0.004, 0.012, 0.030, 0.06, 0.11, 0.18, 0.26, 0.35, 0.47, 0.795, 0.875, 0.96),
}
CARRY_CURVE = (0.01, 0.03, 0.06, 0.10, 0.15, 0.22, 0.30, 0.38, 0.46, 0.55, 0.63, 0.72)
MIN_AMOUNT = 5 * MILLION  # smaller cumulative amounts are written as zero (avoids rounding to zero)


@dataclass
class YearFigures:
    """True VND figures of one source for one plan year. Axes: month (0..11), base province, slot, fund."""

    year: int
    entities: tuple[str, ...]
    plan: np.ndarray  # [E, S, F]
    alloc: np.ndarray  # [12, E, S, F]
    disb: np.ndarray  # [12, E, S, F]
    co_alloc: np.ndarray  # [12, E, S, F, K]  K = CARRY_OFFSETS
    co_disb: np.ndarray  # [12, E, S, F, K]

    def copy(self) -> YearFigures:
        return replace(
            self,
            plan=self.plan.copy(),
            alloc=self.alloc.copy(),
            disb=self.disb.copy(),
            co_alloc=self.co_alloc.copy(),
            co_disb=self.co_disb.copy(),
        )

    def eindex(self, code: str) -> int:
        return self.entities.index(code)


@dataclass
class Year:
    """Both sources of one plan year plus the plan-assignment file's figures (may differ where planted)."""

    province: YearFigures
    treasury: YearFigures
    plan_file: np.ndarray  # [E, S, F]


def _rng(seed: int, *parts: int) -> np.random.Generator:
    return np.random.default_rng([seed & 0xFFFFFFFF, *parts])


def _profile(seed: int, code: str) -> tuple[np.ndarray, float]:
    """Persistent (across years) program weights and NSĐP share of a province."""
    prov = reference.provinces_63()
    p = next(x for x in prov if x.province_code == code)
    weights, nsdp = REGION_PROFILE.get(p.region or "", ((1.0, 1.0, 1.0), 0.2))
    r = _rng(seed, 7, int(code))
    w = np.array(weights) * np.exp(r.normal(0.0, 0.25, 3)) * POOREST.get(code, 1.0)
    if code in ("01", "79"):  # Hà Nội, TP HCM: little central money, much local money
        w *= 0.5
        nsdp = 2.0
    return w, nsdp * float(np.exp(r.normal(0.0, 0.2)))


def _weight_sums(seed: int) -> np.ndarray:
    return np.sum([_profile(seed, p.province_code)[0] for p in reference.provinces_63()], axis=0)


def build_year(seed: int, year: int, entities: tuple[str, ...]) -> Year:
    """Clean figures of `year` for the base provinces `entities` (any subset of the 63 codes)."""
    sl = slots()
    n_e, n_s, n_f = len(entities), len(sl), len(FUNDS)
    plan = np.zeros((n_e, n_s, n_f), np.int64)
    alloc = np.zeros((12, n_e, n_s, n_f), np.int64)
    disb = np.zeros((12, n_e, n_s, n_f), np.int64)
    co_alloc = np.zeros((12, n_e, n_s, n_f, len(CARRY_OFFSETS)), np.int64)
    co_disb = np.zeros_like(co_alloc)
    wsum = _weight_sums(seed)
    # clean data only carries over plan years whose disbursement deadline is not passed within `year`
    carry_ok = [carryover_deadline(year - o) >= date(year, 12, 31) for o in CARRY_OFFSETS[:2]]
    for ei, code in enumerate(entities):
        w, nsdp_share = _profile(seed, code)
        r = _rng(seed, year, int(code), 1)
        year_factor = r.uniform(0.9, 1.1, 3)
        rich = w[2] < 0.3
        for pi, prog in enumerate(PROGRAMS):
            for cap in ("DTPT", "SN"):
                idx = [s.index for s in sl if s.capital_type == cap and s.component.program == prog]
                shares = r.gamma(3.0, 1.0, len(idx))
                drop = r.random(len(idx)) < (0.5 if (rich and prog != "NTM") else 0.1)
                if drop.all():
                    drop[int(np.argmax(shares))] = False
                shares[drop] = 0.0
                shares /= shares.sum()
                total = ENVELOPE_BN[(prog, cap)] * 1e9 * w[pi] / wsum[pi] * year_factor[pi]
                for si, share in zip(idx, shares, strict=True):
                    nstw = total * share
                    nsdp = nstw * nsdp_share * r.uniform(0.6, 1.4)
                    for fi, amount in enumerate((nstw, nsdp)):
                        plan[ei, si, fi] = int(amount // MILLION) * MILLION if amount >= 200 * MILLION else 0
        # allocation: 60-85 % in January, 92-99 % in March, exactly the plan from April
        jan = r.uniform(0.60, 0.85, (n_s, n_f))
        feb = jan + (0.95 - jan) * r.uniform(0.3, 1.0, (n_s, n_f))
        mar = np.maximum(feb, r.uniform(0.92, 0.99, (n_s, n_f)))
        p = plan[ei]
        for m, frac in enumerate((jan, feb, mar)):
            a = (p * frac // MILLION).astype(np.int64) * MILLION
            alloc[m, ei] = np.where(p > 0, np.maximum(a, MILLION), 0)
        alloc[3:, ei] = p
        # disbursement: per-line jitter of the early months, a year-end surge that never falls short
        for si, s in enumerate(sl):
            curve = np.array(DISB_CURVE[s.capital_type])
            for fi in range(n_f):
                if p[si, fi] == 0:
                    continue
                u = r.uniform(0.7, 1.3)
                frac = curve.copy()
                frac[:9] *= u
                frac[9:] += r.uniform(0.0, 0.025, 3)
                frac = np.maximum.accumulate(np.minimum(frac, 0.995))
                d = np.floor(p[si, fi] * frac).astype(np.int64)
                disb[:, ei, si, fi] = np.where(d < MIN_AMOUNT, 0, d)
                # carried-over capital: about a third of the plan, from one or two earlier years
                if r.random() < 0.8:
                    co = int(p[si, fi] * r.uniform(0.3, 0.55) // MILLION) * MILLION
                    first = int(co * r.uniform(0.6, 1.0) // MILLION) * MILLION
                    parts = (first, co - first) if co - first >= 100 * MILLION else (co, 0)
                    if not carry_ok[1]:  # year - 2 capital would be past its deadline: keep it in year - 1
                        parts = (co, 0)
                    if not carry_ok[0]:
                        parts = (0, 0)
                    for k, amount in enumerate(parts):
                        if amount < 100 * MILLION:
                            continue
                        co_alloc[:, ei, si, fi, k] = amount
                        cfrac = np.array(CARRY_CURVE) * r.uniform(0.7, 1.2)
                        cd = np.floor(amount * cfrac).astype(np.int64)
                        co_disb[:, ei, si, fi, k] = np.where(cd < MIN_AMOUNT, 0, cd)
    figs = YearFigures(year, tuple(entities), plan, alloc, disb, co_alloc, co_disb)
    return Year(province=figs, treasury=figs.copy(), plan_file=plan.copy())
