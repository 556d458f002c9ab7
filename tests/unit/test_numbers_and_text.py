"""Vietnamese number formats and label folding, against values written out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingestion.numbers import NumberError, parse_number
from ingestion.text import compact, fold


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.234.567,5", Decimal("1234567.5")),
        ("1 234,5", Decimal("1234.5")),
        ("1\u00a0234\u00a0567", Decimal("1234567")),
        ("1234,5", Decimal("1234.5")),
        ("12.5", Decimal("12.5")),
        ("(12,5)", Decimal("-12.5")),
        ("-1.000", Decimal("-1000")),
        ("45,3%", Decimal("45.3")),
        ("–", Decimal(0)),
        (3000750000, Decimal(3000750000)),
        (2.5, Decimal("2.5")),
        (7.0, Decimal(7)),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_number(value: object, expected: Decimal | None) -> None:
    assert parse_number(value) == expected


@pytest.mark.parametrize("value", ["12a", "1,2,3", True, float("nan"), float("inf"), [1]])
def test_parse_number_rejects(value: object) -> None:
    with pytest.raises(NumberError):
        parse_number(value)


def test_fold_meets_every_spelling() -> None:
    nfd = "Ho\u0300a Bi\u0300nh"  # decomposed: combining grave accents
    assert fold("Hòa Bình") == fold("Hoà Bình") == fold(nfd) == fold("HOA  BINH") == "hoa binh"
    assert fold("Đã phân bổ\nchi tiết") == "da phan bo chi tiet"
    assert fold("Tỷ lệ (%)") == "ty le %"
    assert fold("NS_TW") == "ns tw" and compact("NS TW") == compact("NSTW") == "nstw"
    assert fold(None) == ""
