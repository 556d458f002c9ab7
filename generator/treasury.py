"""Treasury extract lines and the CSV writers (Treasury extracts, annual plan assignment).

Each reconciliation key (province, component, fund, capital type, plan year) is split over several budget
units (`ma_dvqhns`) with fixed integer weights for the whole year, so that every line's cumulative payment
is monotone and the lines of a key sum *exactly* to the key's figure: line j gets
`v * W_j // T - v * W_(j-1) // T`, which telescopes to `v`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from generator.layout import FUNDS, slots
from generator.messy import CsvStyle, to_cp1258
from generator.model import CARRY_OFFSETS, YearFigures
from ntp_core import reference

HEADER = (
    "ky_bao_cao",
    "ma_kbnn",
    "ma_tinh",
    "ma_ctmt",
    "nguon_von",
    "loai_von",
    "nam_kh",
    "ma_dvqhns",
    "ten_dvqhns",
    "du_toan_giao",
    "thanh_toan_trong_ky",
    "luy_ke_thanh_toan",
)
PLAN_HEADER = ("nam_kh", "ma_tinh", "ma_ctmt", "nguon_von", "loai_von", "ke_hoach_giao")
N_BLOCKS = 1 + len(CARRY_OFFSETS)  # current + carried-over plan years
_UNIT_KINDS = (
    "Ban Quản lý dự án đầu tư xây dựng huyện {p}",
    "Phòng Nông nghiệp và Phát triển nông thôn huyện {p}",
    "Phòng Lao động - Thương binh và Xã hội huyện {p}",
    "Phòng Dân tộc huyện {p}",
    "UBND xã {p}",
    "Trường Phổ thông dân tộc nội trú huyện {p}",
    "Trung tâm Y tế huyện {p}",
    "Phòng Giáo dục và Đào tạo huyện {p}",
    "Phòng Văn hóa và Thông tin huyện {p}",
)
_PLACES = (
    "Tân Lập",
    "Hòa Bình",
    "Thạnh Phú",
    "Quảng Lợi",
    "Phú Xuân",
    "Tân Thành",
    "An Bình",
    "Hưng Long",
    "Đông Sơn",
    "Vĩnh Hòa",
    "Tân Phú",
    "Thành Công",
    "Đồng Tâm",
    "Hòa Thuận",
    "Xuân Lộc",
    "Phước Sơn",
    "Mường Lay",
    "Nậm Pồ",
    "Bảo Lâm",
    "Yên Sơn",
    "Kim Bôi",
    "Ea Súp",
    "Krông Bông",
    "Trà Bồng",
)


def lines_range(scale: str | int) -> tuple[int, int]:
    """Lines per key, inclusive bounds: small 1–3, national 14–38 (≈ 300 k lines a month), N: N/2–3N/2."""
    if scale == "small":
        return 1, 3
    if scale == "national":
        return 14, 38
    n = int(scale)
    if n < 1:
        raise ValueError("scale N must be >= 1")
    return max(1, n // 2), max(1, n + n // 2)


@dataclass
class LinePlan:
    """The Treasury lines of one plan year: which key each line belongs to and its split weights."""

    e: np.ndarray
    s: np.ndarray
    f: np.ndarray
    k: np.ndarray  # 0 current, 1.. carried-over offsets
    lo: np.ndarray
    hi: np.ndarray
    total: np.ndarray
    unit_code: np.ndarray  # str
    unit_name: np.ndarray  # str


def _unit_pool(code: str, size: int) -> tuple[list[str], list[str]]:
    codes = [f"1{code}{j:04d}" for j in range(size)]
    names = []
    for j in range(size):
        kind = _UNIT_KINDS[j % len(_UNIT_KINDS)]
        place = _PLACES[(j // len(_UNIT_KINDS) + int(code)) % len(_PLACES)]
        suffix = "" if j < len(_UNIT_KINDS) * len(_PLACES) else f" ({j})"
        names.append(kind.format(p=place) + suffix)
    return codes, names


def plan_lines(seed: int, fig: YearFigures, scale: str | int) -> LinePlan:
    lo_n, hi_n = lines_range(scale)
    n_s, n_f = len(slots()), len(FUNDS)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("e", "s", "f", "k", "lo", "hi", "t", "uc", "un")}
    active = _active(fig)
    for ei, code in enumerate(fig.entities):
        r = np.random.default_rng([seed & 0xFFFFFFFF, fig.year, int(code), 3])
        grid = n_s * n_f * N_BLOCKS
        counts = r.integers(lo_n, hi_n + 1, grid)
        weights = r.integers(1, 100, (grid, hi_n))
        pool = max(20, 6 * hi_n)
        starts = r.integers(0, pool, grid)
        codes, names = _unit_pool(code, pool)
        codes_a, names_a = np.array(codes), np.array(names)
        cells = np.flatnonzero(active[ei].reshape(-1))
        if cells.size == 0:
            continue
        n = counts[cells]
        rep = np.repeat(cells, n)
        j = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        w = weights[rep, j]
        cw = np.cumsum(w)
        base = np.repeat(np.cumsum(n) - n, n)
        start_cw = np.concatenate([[0], cw])[base]
        hi = cw - start_cw
        lo = hi - w
        tot = np.repeat(np.add.reduceat(w, np.cumsum(n) - n), n)
        s_idx, rest = np.divmod(rep, n_f * N_BLOCKS)
        f_idx, k_idx = np.divmod(rest, N_BLOCKS)
        units = (starts[rep] + j) % pool
        cols["e"].append(np.full(rep.size, ei))
        cols["s"].append(s_idx)
        cols["f"].append(f_idx)
        cols["k"].append(k_idx)
        cols["lo"].append(lo)
        cols["hi"].append(hi)
        cols["t"].append(tot)
        cols["uc"].append(codes_a[units])
        cols["un"].append(names_a[units])

    def cat(key: str, dtype: type = np.int64) -> np.ndarray:
        return np.concatenate(cols[key]) if cols[key] else np.zeros(0, dtype)

    return LinePlan(
        cat("e"), cat("s"), cat("f"), cat("k"), cat("lo"), cat("hi"), cat("t"), cat("uc", str), cat("un", str)
    )


def _stack(fig: YearFigures, arr_cur: np.ndarray, arr_co: np.ndarray) -> np.ndarray:
    """[..., E, S, F] + [..., E, S, F, K] -> [..., E, S, F, 1 + K]."""
    return np.concatenate([arr_cur[..., None], arr_co], axis=-1)


def _active(fig: YearFigures) -> np.ndarray:
    a = _stack(fig, fig.alloc, fig.co_alloc)
    d = _stack(fig, fig.disb, fig.co_disb)
    return ((a != 0) | (d != 0)).any(axis=0)  # [E, S, F, K]


@dataclass
class MonthLines:
    """One month's Treasury lines (all base provinces), as columns."""

    e: np.ndarray
    s: np.ndarray
    f: np.ndarray
    k: np.ndarray
    unit_code: np.ndarray
    unit_name: np.ndarray
    alloc: np.ndarray
    paid: np.ndarray
    cum: np.ndarray


def month_lines(fig: YearFigures, plan: LinePlan, month: int) -> MonthLines:
    """Lines of month index `month` (0..11); a line is listed while its key has any amount."""
    a = _stack(fig, fig.alloc[month], fig.co_alloc[month])
    d = _stack(fig, fig.disb[month], fig.co_disb[month])
    prev = _stack(fig, fig.disb[month - 1], fig.co_disb[month - 1]) if month > 0 else np.zeros_like(d)
    idx = (plan.e, plan.s, plan.f, plan.k)
    ka, kd, kp = a[idx], d[idx], prev[idx]
    keep = (ka != 0) | (kd != 0) | (kp != 0)

    def split(v: np.ndarray) -> np.ndarray:
        return v * plan.hi // plan.total - v * plan.lo // plan.total

    la, ld, lp = split(ka), split(kd), split(kp)
    return MonthLines(
        plan.e[keep],
        plan.s[keep],
        plan.f[keep],
        plan.k[keep],
        plan.unit_code[keep],
        plan.unit_name[keep],
        la[keep],
        (ld - lp)[keep],
        ld[keep],
    )


def kbnn_code(province_code: str) -> str:
    return f"{int(province_code) * 100 + 11:04d}"


def line_rows(
    lines: MonthLines,
    period: date,
    entities: tuple[str, ...],
    reporting: dict[str, str],
    select: np.ndarray | None = None,
) -> list[list[str]]:
    """CSV rows (strings) for the lines (optionally a boolean selection); `reporting`: base -> ma_tinh."""
    sl = slots()
    ctmt = np.array([s.component.treasury_code for s in sl])
    loai = np.array([s.capital_type for s in sl])
    nguon = np.array(FUNDS)
    tinh = np.array([reporting[c] for c in entities])
    nam = np.array([period.year] + [period.year - o for o in CARRY_OFFSETS])
    sel = np.ones(lines.e.size, bool) if select is None else select
    e, s = lines.e[sel], lines.s[sel]
    cols = [
        np.full(e.size, period.strftime("%Y%m")),
        np.array([kbnn_code(t) for t in tinh])[e] if tinh.size else np.zeros(0, str),
        tinh[e],
        ctmt[s],
        nguon[lines.f[sel]],
        loai[s],
        nam[lines.k[sel]].astype(str),
        lines.unit_code[sel],
        lines.unit_name[sel],
        lines.alloc[sel].astype(str),
        lines.paid[sel].astype(str),
        lines.cum[sel].astype(str),
    ]
    return [list(r) for r in zip(*cols, strict=True)]


def _fmt_amount(text: str, style: CsvStyle) -> str:
    if not style.quoted_thousands:
        return text
    neg = text.startswith("-")
    digits = text.lstrip("-")
    sep = "." if style.sep == ";" else ","
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ("-" if neg else "") + sep.join(groups)


def write_csv(
    path: Path,
    header: tuple[str, ...],
    rows: list[list[str]],
    style: CsvStyle | None = None,
    amount_cols: tuple[int, ...] = (),
    rng: np.random.Generator | None = None,
) -> list[list[str]]:
    """Write rows with the style's quirks; returns the rows as delivered (with duplicates, total line)."""
    style = style or CsvStyle()
    out = [list(r) for r in rows]
    if style.strip_zeros and "ma_tinh" in header:
        c = header.index("ma_tinh")
        for r in out:
            r[c] = r[c].lstrip("0") or "0"
    if style.duplicate_share and out and rng is not None:
        n = max(1, int(len(out) * style.duplicate_share))
        start = int(rng.integers(0, max(1, len(out) - n)))
        out = out + [list(r) for r in out[start : start + n]]  # a re-run export appended the same block again
    if style.total_line and amount_cols:
        tot = ["" for _ in header]
        tot[0] = out[0][0] if out else ""
        tot[header.index("ten_dvqhns") if "ten_dvqhns" in header else 1] = "Tổng cộng"
        for c in amount_cols:
            tot[c] = str(sum(int(r[c]) for r in out))
        out.append(tot)
    sep = style.sep
    buf = [sep.join(header)]
    for r in out:
        cells = []
        for i, v in enumerate(r):
            if i in amount_cols and v != "" and style.quoted_thousands:
                cells.append('"' + _fmt_amount(v, style) + '"')
            elif sep in v or '"' in v or "\n" in v:
                cells.append('"' + v.replace('"', '""') + '"')
            else:
                cells.append(v)
        buf.append(sep.join(cells))
    text = "\n".join(buf) + "\n"
    data = to_cp1258(text) if style.encoding == "cp1258" else text.encode("utf-8")
    if style.bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return out


def plan_rows(year: int, plan_file: np.ndarray, entities: tuple[str, ...]) -> list[list[str]]:
    """The annual plan assignment, under the province codes valid in January of `year`."""
    merged = date(year, 1, 1) >= reference.MERGER_DATE
    sl = slots()
    agg: dict[tuple[str, int, int], int] = {}
    for ei, code in enumerate(entities):
        target = code
        if merged:
            successor = next(p.successor_code for p in reference.provinces_63() if p.province_code == code)
            assert successor is not None  # every pre-merger province has one
            target = successor
        for si in range(len(sl)):
            for fi in range(len(FUNDS)):
                v = int(plan_file[ei, si, fi])
                if v:
                    agg[(target, si, fi)] = agg.get((target, si, fi), 0) + v
    rows = []
    for (code, si, fi), v in sorted(agg.items()):
        s = sl[si]
        rows.append([str(year), code, s.component.treasury_code, FUNDS[fi], s.capital_type, str(v)])
    return rows
