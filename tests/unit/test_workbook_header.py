"""A header layout is read once per process and kept by what the reading depends on: two sheets whose
header rows hold the same cells are read apart when the merges over those rows differ."""

from __future__ import annotations

import pytest

from ingestion.errors import RejectedFile
from ingestion.labels import labels
from ingestion.sheetxml import SheetFacts
from ingestion.workbook import _columns, _find_header_row, _Sheet

MEASURES = ["Kế hoạch vốn giao", "Đã phân bổ chi tiết", "Lũy kế giải ngân từ đầu năm"]


CARRY_OVER, CURRENT_PLAN = "Kế hoạch các năm trước chuyển sang", "Kế hoạch năm 2024"


def _sheet(merges: list, above: str = CARRY_OVER) -> _Sheet:
    """A sheet whose header (rows 3–5) names three measures × NSTW/NSĐP under no block label of its own; the
    row above it carries a block's label in column C."""
    grid: list[list] = [
        ["UBND TỈNH ĐIỆN BIÊN", "", "", "", "", "", "", ""],
        ["", "", above, "", "", "", "", ""],
        ["STT", "Nội dung", "", "", "", "", "", ""],
        ["", "", MEASURES[0], "", MEASURES[1], "", MEASURES[2], ""],
        ["", "", "NSTW", "NSĐP", "NSTW", "NSĐP", "NSTW", "NSĐP"],
        ["1", "Tổng số", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ]
    return _Sheet("Biểu 01a", "DTPT", grid, merges, SheetFacts())


def _reading(sheet: _Sheet) -> tuple:
    lab = labels()
    roles, data, header_end = _columns(sheet, _find_header_row(sheet, lab), lab)
    return roles, [(d.index, d.plan_block, d.measure, d.fund_source) for d in data], header_end


# Without a block label every figure column is the current plan's (worked out by hand from the layout).
CURRENT = (
    {"stt": 0, "content": 1},
    [
        (2, "current", "plan_assigned", "NSTW"),
        (3, "current", "plan_assigned", "NSDP"),
        (4, "current", "allocated", "NSTW"),
        (5, "current", "allocated", "NSDP"),
        (6, "current", "disbursed_cumulative", "NSTW"),
        (7, "current", "disbursed_cumulative", "NSDP"),
    ],
    4,
)


def test_the_same_header_cells_under_another_merge_read_apart() -> None:
    assert _reading(_sheet([])) == CURRENT  # read, and kept for this layout
    # the carry-over label merged down over the header's first row: every column is the carry-over plan's,
    # so the current plan's columns are missing; a reading kept by the cells alone would say otherwise
    with pytest.raises(RejectedFile) as err:
        _reading(_sheet([((1, 2), (2, 7))]))
    assert err.value.code == "missing_columns"
    assert "current/plan_assigned/NSTW" in err.value.message
    assert _reading(_sheet([])) == CURRENT  # and the kept reading is still the first sheet's


def test_the_same_merges_from_another_label_read_apart() -> None:
    merged = [((1, 2), (2, 7))]  # the label above merged down over the header's first row
    assert _reading(_sheet(merged, above=CURRENT_PLAN)) == CURRENT  # read and kept
    with pytest.raises(RejectedFile) as err:  # the same cells and merge, but the carry-over's label
        _reading(_sheet(merged, above=CARRY_OVER))
    assert err.value.code == "missing_columns"
