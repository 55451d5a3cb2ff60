"""Money arithmetic in integer cents. Never floats: every rounding is half-up on
whole cents, and pro-rata shares are computed cumulatively so that the parts of a
whole always add up to exactly the whole."""


def round_half_up_div(numerator: int, denominator: int) -> int:
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -round_half_up_div(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def fee_cents(amount_cents: int, basis_points: int) -> int:
    return round_half_up_div(amount_cents * basis_points, 10_000)


def pro_rata_cents(total_cents: int, part_cents: int, whole_cents: int) -> int:
    """The share of ``total_cents`` that ``part_cents`` of ``whole_cents`` carries."""
    return round_half_up_div(total_cents * part_cents, whole_cents)


def next_pro_rata_share(
    *, total_cents: int, whole_cents: int, done_cents: int, part_cents: int, shared_cents: int
) -> int:
    """The share of ``total_cents`` for one more part, given what earlier parts took.

    Computing the cumulative share and subtracting what was already shared keeps
    rounding from drifting: once the parts reach the whole, exactly the total has
    been shared.
    """
    return pro_rata_cents(total_cents, done_cents + part_cents, whole_cents) - shared_cents


def hourly_amount_cents(minutes: int, rate_cents: int) -> int:
    return round_half_up_div(minutes * rate_cents, 60)


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def parse_dollars(text: str) -> int:
    """Cents from a dollar amount typed by a person ("12", "12.5", "1,200.50").

    Raises ValueError with a readable message for anything else, including more
    than two decimal places and amounts that are not positive.
    """
    cleaned = str(text).strip().replace(",", "").removeprefix("$")
    if not cleaned:
        raise ValueError("Enter an amount.")
    whole, dot, fraction = cleaned.partition(".")
    if not whole:
        whole = "0"
    if not whole.isdigit() or (dot and not fraction.isdigit()) or len(whole) > 9:
        raise ValueError("Enter an amount in dollars, such as 125.50.")
    if len(fraction) > 2:
        raise ValueError("Amounts have at most two decimal places (whole cents).")
    cents = int(whole) * 100 + int(fraction.ljust(2, "0") or 0)
    if cents <= 0:
        raise ValueError("The amount must be more than zero.")
    return cents
