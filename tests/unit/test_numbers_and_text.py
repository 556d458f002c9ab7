"""Vietnamese number formats and label folding, against values written out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingestion.numbers import NumberError, parse_number
from ingestion.text import compact, fold
from ingestion.workbook import _power_of_ten, _whole_scaled


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


@pytest.mark.parametrize(
    ("shortest", "zeros", "expected"),
    [
        ("1234.567", 6, 1_234_567_000),  # triệu đồng with three decimals: whole đồng
        ("-0.5", 6, -500_000),
        ("12.123456", 6, 12_123_456),
        ("0.001", 9, 1_000_000),  # tỷ đồng
        ("12.1234567", 6, None),  # a fraction of a đồng: not whole
        ("12.5", 0, None),  # đồng with decimals
        ("1.5e-05", 6, None),  # an exponent: left to Decimal
        ("1e+22", 6, None),
        ("nan", 6, None),
    ],
)
def test_a_float_scaled_to_whole_dong(shortest: str, zeros: int, expected: int | None) -> None:
    assert _whole_scaled(shortest, zeros) == expected


def test_a_float_scaled_to_whole_dong_is_decimal_arithmetic_on_its_text() -> None:
    """Over many floats of every size and decimals, the int is what exact Decimal arithmetic on the float's
    shortest text gives, whenever that is whole; None only where it is not (or the text has an exponent)."""
    import random

    rng = random.Random(20261202)
    for _ in range(20_000):
        value = round(rng.uniform(-1e12, 1e12) / 10 ** rng.randint(0, 12), rng.randint(0, 10))
        shortest = repr(value)
        for zeros in (0, 6, 9):
            exact = Decimal(shortest) * 10**zeros
            got = _whole_scaled(shortest, zeros)
            if got is not None:
                assert got == exact, (shortest, zeros)
            elif "e" not in shortest and "." in shortest:
                assert exact != exact.to_integral_value(), (shortest, zeros)


@pytest.mark.parametrize(
    ("factor", "zeros"), [(1, 0), (1_000_000, 6), (1_000_000_000, 9), (1_000_500, None), (20, None)]
)
def test_unit_factors_as_powers_of_ten(factor: int, zeros: int | None) -> None:
    assert _power_of_ten(factor) == zeros
