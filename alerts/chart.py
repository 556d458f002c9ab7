"""Disbursement progress of one province as inline SVG, written by hand (no JS, no external assets).

X axis: months of the plan year, January … December and January of the next year (the Public Investment
Law deadline for the year's plan). Y axis: cumulative current-year disbursement as % of plan. Lines: the
province's report and the Treasury; a dashed line the linear path to 100 % at the year-end deadline; vertical
markers at the deadlines from the seed (allocation, year-end disbursement, carried-over capital).
"""

from __future__ import annotations

from datetime import date
from html import escape

W, H = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 44, 34
MONTHS = 13  # January … December + January of the next year


def _x(month: float) -> float:
    return LEFT + (month / MONTHS) * (W - LEFT - RIGHT)


def _y(pct: float, top_pct: float) -> float:
    return TOP + (1 - min(pct, top_pct) / top_pct) * (H - TOP - BOTTOM)


def _month_position(d: date, year: int) -> float:
    """Position of a date on the axis: 0 = 1 January of `year`, 13 = 31 January of the next year."""
    months = (d.year - year) * 12 + d.month - 1
    return months + d.day / 31


def progress_svg(
    year: int,
    series: dict[str, list[tuple[int, float]]],
    deadlines: list[tuple[str, date]],
    labels: dict[str, str],
) -> str:
    """series: name → [(month 1..12, % of plan at month end)]; deadlines: (label, date)."""
    top_pct = max([100.0] + [p for points in series.values() for _, p in points])
    top_pct = min(200.0, (int(top_pct / 20) + 1) * 20 if top_pct > 100 else 100.0)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' viewBox='0 0 {W} {H}' "
        f"role='img' aria-label='{escape(labels['chart_title'])}' font-family='sans-serif' font-size='10'>",
        f"<rect x='0' y='0' width='{W}' height='{H}' fill='#ffffff'/>",
    ]
    for pct in range(0, int(top_pct) + 1, 20 if top_pct <= 100 else 40):
        y = _y(pct, top_pct)
        parts.append(f"<line x1='{LEFT}' y1='{y:.1f}' x2='{W - RIGHT}' y2='{y:.1f}' stroke='#e5e7eb'/>")
        parts.append(f"<text x='{LEFT - 6}' y='{y + 3:.1f}' text-anchor='end' fill='#6b7280'>{pct}%</text>")
    for m in range(MONTHS + 1):
        x = _x(m)
        parts.append(f"<line x1='{x:.1f}' y1='{H - BOTTOM}' x2='{x:.1f}' y2='{H - BOTTOM + 4}' stroke='#9ca3af'/>")
        if m < MONTHS:
            label = str(m % 12 + 1)
            parts.append(
                f"<text x='{_x(m + 0.5):.1f}' y='{H - BOTTOM + 14}' text-anchor='middle' fill='#6b7280'>{label}</text>"
            )
    parts.append(
        f"<text x='{(LEFT + W - RIGHT) / 2:.1f}' y='{H - 4}' text-anchor='middle' fill='#374151'>"
        f"{escape(labels['chart_axis'])} {year} → 31/1/{year + 1}</text>"
    )
    # the linear path to 100 % at the year-end deadline
    parts.append(
        f"<line x1='{_x(0):.1f}' y1='{_y(0, top_pct):.1f}' x2='{_x(MONTHS):.1f}' "
        f"y2='{_y(100, top_pct):.1f}' stroke='#9ca3af' stroke-dasharray='4 3'/>"
    )
    for n, (label, d) in enumerate(sorted(deadlines, key=lambda item: item[1])):
        pos = _month_position(d, year)
        if 0 <= pos <= MONTHS:
            x = _x(pos)
            parts.append(
                f"<line x1='{x:.1f}' y1='{TOP}' x2='{x:.1f}' y2='{H - BOTTOM}' stroke='#b42318' "
                f"stroke-dasharray='2 2'/>"
            )
            parts.append(
                f"<text x='{x - 3:.1f}' y='{TOP + 10 + 11 * (n % 3)}' text-anchor='end' fill='#b42318'>"
                f"{escape(label)} {d:%d/%m}</text>"
            )
    colours = {"province": "#1d4ed8", "treasury": "#059669"}
    legend_x = LEFT + 8
    for name, points in series.items():
        colour = colours.get(name, "#6b21a8")
        if points:
            path = " ".join(f"{_x(m):.1f},{_y(p, top_pct):.1f}" for m, p in sorted(points))
            parts.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
            for m, p in points:
                parts.append(
                    f"<circle cx='{_x(m):.1f}' cy='{_y(p, top_pct):.1f}' r='2.5' fill='{colour}'>"
                    f"<title>{m}/{year}: {p:.2f} %</title></circle>"
                )
            last_m, last_p = max(points)
            parts.append(
                f"<text x='{_x(last_m) + 4:.1f}' y='{_y(last_p, top_pct) - 4:.1f}' fill='{colour}'>{last_p:.1f}%</text>"
            )
        parts.append(f"<rect x='{legend_x}' y='{TOP - 30}' width='10' height='3' fill='{colour}'/>")
        parts.append(f"<text x='{legend_x + 14}' y='{TOP - 26}' fill='#374151'>{escape(labels[name])}</text>")
        legend_x += 110
    parts.append(
        f"<line x1='{legend_x}' y1='{TOP - 28.5}' x2='{legend_x + 12}' y2='{TOP - 28.5}' "
        f"stroke='#9ca3af' stroke-dasharray='4 3'/>"
    )
    parts.append(f"<text x='{legend_x + 16}' y='{TOP - 26}' fill='#374151'>{escape(labels['linear'])}</text>")
    if not any(series.values()):
        parts.append(
            f"<text x='{W / 2:.1f}' y='{H / 2:.1f}' text-anchor='middle' fill='#6b7280'>"
            f"{escape(labels['no_data'])}</text>"
        )
    parts.append(f"<line x1='{LEFT}' y1='{H - BOTTOM}' x2='{W - RIGHT}' y2='{H - BOTTOM}' stroke='#9ca3af'/>")
    parts.append("</svg>")
    return "".join(parts)
