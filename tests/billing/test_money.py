"""Money arithmetic in integer cents (billing/money.py): half-up rounding on whole
cents, pro-rata shares that add up to exactly the whole, parsing what people type,
and formatting cents as dollars."""

import pytest

from billing.money import (
    fee_cents,
    format_cents,
    hourly_amount_cents,
    next_pro_rata_share,
    parse_dollars,
    pro_rata_cents,
    round_half_up_div,
)


def _cumulative_shares(total_cents: int, whole_cents: int, parts: list[int]) -> list[int]:
    shares, done, shared = [], 0, 0
    for part in parts:
        share = next_pro_rata_share(
            total_cents=total_cents, whole_cents=whole_cents, done_cents=done, part_cents=part, shared_cents=shared
        )
        shares.append(share)
        done += part
        shared += share
    return shares


# Fees: half-up on whole cents.


@pytest.mark.parametrize(
    ("amount_cents", "basis_points", "expected"),
    [
        (10_000, 1000, 1000),  # 10% of $100.00 = $10.00
        (10_000, 500, 500),  # 5% of $100.00 = $5.00
        (5, 1000, 1),  # 0.5 cent rounds up
        (4, 1000, 0),  # 0.4 cent rounds down
        (15, 1000, 2),  # 1.5 cents rounds up
        (25, 1000, 3),  # 2.5 cents rounds up, not to even
        (10, 500, 1),  # 0.5 cent rounds up
        (9, 500, 0),  # 0.45 cent rounds down
        (3333, 500, 167),  # 166.65 cents rounds up
        (3333, 1000, 333),  # 333.3 cents rounds down
        (499, 1000, 50),  # 49.9 cents rounds up
        (0, 1000, 0),
    ],
)
def test_fee_rounds_half_up_on_whole_cents(amount_cents, basis_points, expected):
    assert fee_cents(amount_cents, basis_points) == expected


def test_fee_half_cent_rounds_up_not_to_even():
    # Banker's rounding would give 2 cents for 2.5 and 4 for 4.5; half-up gives 3 and 5.
    assert fee_cents(25, 1000) == 3
    assert fee_cents(45, 1000) == 5


def test_round_half_up_div_is_symmetric_for_negative_amounts():
    assert round_half_up_div(5, 10) == 1
    assert round_half_up_div(-5, 10) == -1
    assert round_half_up_div(-4, 10) == 0
    assert round_half_up_div(-15, 10) == -2


def test_round_half_up_div_refuses_a_zero_denominator():
    with pytest.raises(ValueError):
        round_half_up_div(5, 0)


def test_hourly_amount_bills_90_minutes_at_50_dollars_as_75_dollars():
    assert hourly_amount_cents(90, 5000) == 7500


def test_hourly_amount_rounds_half_up_on_cents():
    # 1 minute at $0.30/h = 0.5 cent → 1 cent; 1 minute at $0.29/h = 0.483 cent → 0.
    assert hourly_amount_cents(1, 30) == 1
    assert hourly_amount_cents(1, 29) == 0
    # 7 minutes at $33.33/h = 388.85 cents → 389 cents.
    assert hourly_amount_cents(7, 3333) == 389


# Pro rata.


def test_pro_rata_share_of_a_fee_rounds_half_up():
    # $100 of a $300 payment carries a third of the $30.00 fee: $10.00.
    assert pro_rata_cents(3000, 10_000, 30_000) == 1000
    # 333 of 1000 carries 16.65 cents of a 50-cent fee → 17.
    assert pro_rata_cents(50, 333, 1000) == 17


def test_pro_rata_cumulative_shares_of_three_thirds_add_up_to_the_whole():
    shares = _cumulative_shares(100, 1000, [333, 333, 334])
    assert shares == [33, 34, 33]
    assert sum(shares) == 100


def test_pro_rata_cumulative_shares_do_not_overshoot_when_each_part_rounds_up():
    # Each third of a 50-cent fee is 16.65 cents: rounded alone 17+17+17 = 51.
    shares = _cumulative_shares(50, 1000, [333, 333, 334])
    assert shares == [17, 16, 17]
    assert sum(shares) == 50


@pytest.mark.parametrize(
    ("total_cents", "whole_cents", "parts"),
    [
        (1, 3, [1, 1, 1]),
        (333, 3333, [1000, 1000, 1333]),
        (167, 3333, [1, 1, 1, 3330]),
        (999, 10_000, [1] * 7 + [9993]),
        (1000, 10_000, [2500, 2500, 2500, 2500]),
        (7, 100, [33, 33, 34]),
    ],
)
def test_pro_rata_cumulative_shares_always_add_up_exactly_to_the_total(total_cents, whole_cents, parts):
    assert sum(parts) == whole_cents
    shares = _cumulative_shares(total_cents, whole_cents, parts)
    assert sum(shares) == total_cents
    assert all(share >= 0 for share in shares)


# Parsing amounts typed by people.


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12", 1200),
        ("$12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("1,200.50", 120_050),
        ("$1,200.50", 120_050),
        ("  7.05 ", 705),
        ("0.01", 1),
        (".75", 75),
        ("999999999.99", 99_999_999_999),
    ],
)
def test_parse_dollars_accepts_amounts_people_type(text, cents):
    assert parse_dollars(text) == cents


@pytest.mark.parametrize("text", ["12.345", "0.001", "1,200.505"])
def test_parse_dollars_refuses_more_than_two_decimal_places(text):
    with pytest.raises(ValueError, match="at most two decimal places"):
        parse_dollars(text)


@pytest.mark.parametrize("text", ["0", "0.00", "$0", "0.0"])
def test_parse_dollars_refuses_zero(text):
    with pytest.raises(ValueError, match="more than zero"):
        parse_dollars(text)


@pytest.mark.parametrize("text", ["-5", "-0.01", "$-12", "-$12"])
def test_parse_dollars_refuses_negative_amounts(text):
    with pytest.raises(ValueError, match="Enter an amount in dollars"):
        parse_dollars(text)


@pytest.mark.parametrize("text", ["abc", "12abc", "1e3", "12.", "1.2.3", "12 50", "$$12", "0x10", "nan", "12.5a"])
def test_parse_dollars_refuses_junk(text):
    with pytest.raises(ValueError, match="Enter an amount in dollars"):
        parse_dollars(text)


@pytest.mark.parametrize("text", ["", "   ", "$"])
def test_parse_dollars_refuses_an_empty_amount(text):
    with pytest.raises(ValueError, match="Enter an amount"):
        parse_dollars(text)


def test_parse_dollars_refuses_amounts_of_a_billion_dollars_or_more():
    with pytest.raises(ValueError, match="Enter an amount in dollars"):
        parse_dollars("1000000000")


def test_parse_dollars_returns_an_int_never_a_float():
    cents = parse_dollars("0.29")
    assert type(cents) is int
    assert cents == 29


# Formatting.


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (50, "$0.50"),
        (1200, "$12.00"),
        (120_050, "$1,200.50"),
        (100_000_000, "$1,000,000.00"),
        (-250, "-$2.50"),
        (-120_050, "-$1,200.50"),
    ],
)
def test_format_cents_shows_dollars_with_two_places_and_thousands(cents, text):
    assert format_cents(cents) == text


@pytest.mark.parametrize("text", ["$1,200.50", "$0.01", "$12.00", "$999,999,999.99"])
def test_format_cents_round_trips_through_parse_dollars(text):
    assert format_cents(parse_dollars(text)) == text
