"""Disbursement progress of one province as a PNG (matplotlib), which every mail client shows.

X axis: months of the plan year, January … December and January of the next year (the Public Investment
Law deadline for the year's plan). Y axis: cumulative current-year disbursement as % of plan. Lines: the
province's report and the Treasury; a dashed line the linear path to 100 % at the year-end deadline; vertical
markers at the deadlines from the seed (allocation, year-end disbursement, carried-over capital).
"""

from __future__ import annotations

import io
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

MONTHS = 13  # January … December + January of the next year
# Fixed margins (fractions of the 640 × 300 px figure) that fit the title, the axis label and "200 %": a
# layout computed per chart (`tight_layout`) measured every text twice, a quarter of a chart's time, and
# the alert draws one chart per province.
MARGINS = {"left": 0.09, "right": 0.98, "top": 0.89, "bottom": 0.16}
COLOURS = {"province": "#1d4ed8", "treasury": "#059669"}


def _month_position(d: date, year: int) -> float:
    """Position of a date on the axis: 0 = 1 January of `year`, 13 = 31 January of the next year."""
    return (d.year - year) * 12 + d.month - 1 + d.day / 31


def progress_png(
    year: int,
    series: dict[str, list[tuple[int, float]]],
    deadlines: list[tuple[str, date]],
    labels: dict[str, str],
    *,
    decimal_comma: bool = True,
) -> bytes:
    """series: name → [(month 1..12, % of plan at month end)]; deadlines: (label, date). PNG bytes."""

    def pct(value: float, _pos=None) -> str:
        text = f"{value:.0f} %"
        return text.replace(".", ",") if decimal_comma else text

    # a Figure of its own, not pyplot's: no global figure registry to add to and close
    fig = Figure(figsize=(6.4, 3.0), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**MARGINS)
    ax = fig.subplots()
    top = max([100.0] + [p for points in series.values() for _, p in points])
    ax.set_ylim(0, min(200.0, top * 1.1 if top > 100 else 105.0))
    ax.set_xlim(0, MONTHS)
    ax.set_xticks([m + 0.5 for m in range(MONTHS)], [str(m % 12 + 1) for m in range(MONTHS)])
    ax.yaxis.set_major_formatter(FuncFormatter(pct))
    ax.grid(axis="y", color="#e5e7eb")
    ax.plot([0, MONTHS], [0, 100], color="#9ca3af", linestyle="--", linewidth=1, label=labels["linear"])
    for n, (label, d) in enumerate(sorted(deadlines, key=lambda item: item[1])):
        pos = _month_position(d, year)
        if 0 <= pos <= MONTHS:
            ax.axvline(pos, color="#b42318", linestyle=":", linewidth=1)
            ax.annotate(
                f"{label} {d:%d/%m}",
                (pos, ax.get_ylim()[1] * (0.95 - 0.08 * (n % 3))),
                color="#b42318",
                fontsize=7,
                ha="right",
            )
    for name, points in series.items():
        if points:
            xs = [m for m, _ in sorted(points)]  # the end of month m
            ys = [p for _, p in sorted(points)]
            ax.plot(xs, ys, marker="o", markersize=3, color=COLOURS.get(name, "#6b21a8"), label=labels[name])
            ax.annotate(
                pct(ys[-1]).replace(" %", "") + " %",
                (xs[-1], ys[-1]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
                color=COLOURS.get(name, "#6b21a8"),
            )
    if not any(series.values()):
        ax.text(MONTHS / 2, 50, labels["no_data"], ha="center", color="#6b7280")
    ax.set_title(labels["chart_title"], fontsize=10, loc="left")
    ax.set_xlabel(f"{labels['chart_axis']} {year} → 31/1/{year + 1}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
