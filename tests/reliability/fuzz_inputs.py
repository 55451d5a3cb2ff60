"""Hypothesis strategies for bad input: values each field of the portal's forms must
refuse, whatever else is sent with them.

Every strategy here yields only values that are wrong for the field (or, for amounts,
wrong for the world of ``fuzz_world``: more than the escrow or payment there), so a
request carrying one must be refused.
"""

from hypothesis import strategies as st

from billing.money import parse_dollars

NUL = "\x00"

# Text of any script, emoji and control characters (never surrogates, which no
# browser can send).
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
junk_text = st.one_of(
    any_text,
    st.sampled_from(["", " ", "null", "None", "[]", "{}", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "💸"]),
)


def too_long(max_length: int):
    """Text with more characters than the field allows, even once the form strips the
    whitespace at its ends (a base of only whitespace would strip to nothing)."""
    return (
        st.text(st.characters(codec="utf-8", exclude_characters=NUL), min_size=1, max_size=8)
        .filter(lambda base: base.strip())
        .map(lambda base: (base * (max_length // len(base) + 4))[: max_length + 1 + 2 * len(base)])
    )


def with_nul():
    """Text with a NUL character: Django refuses it in every CharField."""
    return any_text.map(lambda text: text + NUL + text)


def blank():
    return st.sampled_from(["", " ", "\t", "\n  \r\n"])


def bad_required_text(max_length: int):
    return st.one_of(blank(), too_long(max_length), with_nul())


def bad_optional_text(max_length: int):
    return st.one_of(too_long(max_length), with_nul())


def not_in(choices):
    """Anything that is not one of ``choices`` (the values a select or radio sends),
    even once surrounding spaces are stripped, as text fields do."""
    allowed = {str(choice) for choice in choices}
    return st.one_of(
        junk_text,
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.sampled_from([value.upper() for value in allowed] + [f" {value}" for value in allowed]),
    ).filter(lambda value: value.strip() not in allowed)


# Amounts in dollars: negative, zero, more than two decimal places, not a number, in
# words, with letters, in scientific notation, huge, in other scripts' digits.
def bad_amount(*, more_than_cents: int):
    """Amounts every dollar field must refuse, and amounts above ``more_than_cents``
    (more than the escrow or payment the field moves)."""
    dollars = more_than_cents // 100

    def refused(text: str) -> bool:
        """Amounts are typed in ASCII digits; anything parse_dollars refuses, or more
        than the limit."""
        if not str(text).strip().isascii():
            return True
        try:
            return parse_dollars(text) > more_than_cents
        except ValueError:
            return True

    return st.one_of(
        st.decimals(max_value=0, allow_nan=False, allow_infinity=False, places=2).map(str),
        st.sampled_from(["0", "0.00", "-0", "-0.01", "-5", "00", ".", "-", "$", "$-1", "0.001"]),
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)).map(lambda p: f"{p[0]}.{p[1]:03d}"),
        st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e3", "1E5", "0x10", "1_000", "ten", "12,3.4"]),
        st.sampled_from(["１２", "١٢", "१२", "²", "½", "12\u00a0", "1 000", "12.5.1", "+5", "5-", "5..0", "٫5"]),
        st.integers(min_value=10**9, max_value=10**40).map(str),
        st.integers(min_value=dollars + 1, max_value=999_999_999).map(str),
        st.integers(min_value=more_than_cents + 1, max_value=more_than_cents + 10**6).map(
            lambda cents: f"{cents // 100}.{cents % 100:02d}"
        ),
        junk_text,
    ).filter(refused)


def bad_integer(*, low: int, high: int):
    """Whole numbers outside [low, high], and things that are not whole numbers."""
    return st.one_of(
        st.integers(max_value=low - 1).map(str),
        st.integers(min_value=high + 1).map(str),
        st.integers(min_value=10**18, max_value=10**60).map(str),
        st.sampled_from(["1.5", "0.5", "1e2", "abc", "", " ", "NaN", "--1", "1-", "0x1", "½", "²"]),
    )


bad_date = st.one_of(
    st.sampled_from(["2026-02-30", "2026-13-01", "0000-00-00", "yesterday", "", " ", "2026/99/99", "31.12.", "1e9"]),
    st.sampled_from(["2000-01-01", "1900-01-01", "0001-01-01", "2999-12-31", "9999-12-31"]),
    junk_text.filter(lambda text: not any(char.isdigit() for char in text)),
)

bad_key = st.one_of(blank(), st.integers(201, 2000).map(lambda n: "k" * n), with_nul())
