"""The alert's progress chart: what it shows, and that the kept look draws the very image a full draw gives."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
from PIL import Image

from alerts.chart import progress_png

LABELS = {
    "chart_title": "Disbursement progress",
    "chart_axis": "Month",
    "province": "Province",
    "treasury": "Treasury",
    "linear": "Linear to 100 %",
    "no_data": "No figures",
}
DEADLINES = [("Allocation", date(2024, 3, 31)), ("Year end", date(2025, 1, 31)), ("2023 capital", date(2024, 12, 31))]
WIDTH, HEIGHT = 640, 300
# the figure's fixed margins as fractions of its size, written here from the chart's specification
LEFT, RIGHT, BOTTOM, TOP = 0.09, 0.98, 0.16, 0.89


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def at(image: np.ndarray, month: float, percent: float, y_top: float) -> np.ndarray:
    """The pixel at (month, percent) on axes going 0 … 13 months and 0 … y_top %."""
    x = WIDTH * (LEFT + month / 13 * (RIGHT - LEFT))
    y = HEIGHT * (1 - (BOTTOM + percent / y_top * (TOP - BOTTOM)))
    return image[round(y), round(x)]


def near(colour: np.ndarray, hex_colour: str, tolerance: int = 40) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return bool(np.abs(colour - rgb).max() <= tolerance)


def test_chart_shows_each_source_at_its_month_and_percent() -> None:
    series = {"province": [(1, 10.0), (2, 30.0), (3, 60.0)], "treasury": [(1, 5.0), (2, 20.0), (6, 40.0)]}
    image = pixels(progress_png(2024, series, DEADLINES, LABELS, decimal_comma=False))
    assert image.shape == (HEIGHT, WIDTH, 3)
    y_top = 105.0  # every value ≤ 100 %: the axis goes to 105 %
    for month, percent in series["province"]:
        assert near(at(image, month, percent, y_top), "#1d4ed8"), (month, percent)
    for month, percent in series["treasury"]:
        assert near(at(image, month, percent, y_top), "#059669"), (month, percent)
    assert near(at(image, 10.5, 30.0, y_top), "#ffffff", 0)  # between grid lines, away from every line


def test_a_value_above_plan_widens_the_axis() -> None:
    image = pixels(progress_png(2024, {"province": [(1, 50.0), (2, 150.0)]}, DEADLINES, LABELS))
    y_top = 150.0 * 1.1
    assert near(at(image, 2, 150.0, y_top), "#1d4ed8")
    assert near(at(image, 1, 50.0, y_top), "#1d4ed8")


def test_kept_look_draws_what_a_full_draw_draws() -> None:
    """Chart after chart on the kept look, each compared pixel by pixel with matplotlib's full draw of it: the
    province's lines under the frame and texts, nothing left over from the chart before, a new look when the
    scale, the labels or the number format change."""
    english = dict(LABELS, chart_title="Progress (en)")
    charts = [
        ({"province": [(1, 5.0), (2, 12.5), (3, 20.0)], "treasury": [(1, 4.0), (2, 11.0), (3, 0.0)]}, LABELS, True),
        ({"province": [(1, 50.0), (2, 130.0)], "treasury": []}, LABELS, True),
        ({"province": [], "treasury": [(1, 0.0), (2, 0.0), (12, 99.5)]}, LABELS, True),
        ({"province": [], "treasury": []}, LABELS, True),
        ({"province": [(4, 33.3)]}, english, False),
        ({"province": [(1, 5.0), (2, 12.5), (3, 20.0)], "treasury": [(1, 4.0), (2, 11.0), (3, 0.0)]}, LABELS, True),
    ]
    for series, labels, comma in charts:
        kept = progress_png(2024, series, DEADLINES, labels, decimal_comma=comma)
        full = progress_png(2024, series, DEADLINES, labels, decimal_comma=comma, reuse=False)
        differing = int((pixels(kept) != pixels(full)).any(axis=2).sum())
        assert differing == 0, (series, differing)
    # the two draws differ where the data do: the comparison would see a chart left over
    first, last = (progress_png(2024, s, DEADLINES, LABELS) for s, *_ in (charts[0], charts[2]))
    assert (pixels(first) != pixels(last)).any()
