"""Currencies Stripe can charge in, and how to show an amount on a pricing page.

The list is kept by hand on purpose. Stripe's set of presentment currencies is
not ISO 4217: it leaves out many ISO codes (precious metals, fund codes, some
national currencies) and keeps a few that ISO has retired (``sll``, ``std``,
``ang``). Neither ``babel`` nor the ISO table would give the right answer, and
asking Stripe needs a network call, so a typo in a products file is caught here
at load time instead. When Stripe adds a currency, add it here.
"""

from __future__ import annotations

import difflib

__all__ = [
    "STRIPE_CURRENCIES",
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "currency_problem",
    "format_amount",
    "minor_unit_digits",
]


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Stripe's "Supported currencies" (presentment currencies for card payments).
STRIPE_CURRENCIES = _codes(
    """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd
    bob brl bsd bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd
    egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr
    isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl
    mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab
    pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sll
    sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst
    xaf xcd xof xpf yer zar zmw
    """
)

# Amounts in these are whole units: 1500 jpy is ¥1,500, not ¥15.00.
ZERO_DECIMAL_CURRENCIES = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf")

# Three-decimal currencies: 5120 kwd is 5.120 KD (Stripe wants the last digit 0).
THREE_DECIMAL_CURRENCIES = _codes("bhd jod kwd omr tnd")

# Symbols for the currencies pricing pages show most; the rest get "15.00 CHF".
_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "krw": "₩",
    "inr": "₹",
    "cny": "CN¥",
    "cad": "CA$",
    "aud": "A$",
    "nzd": "NZ$",
    "hkd": "HK$",
    "mxn": "MX$",
    "brl": "R$",
    "ils": "₪",
    "vnd": "₫",
    "php": "₱",
}


def minor_unit_digits(currency: str) -> int:
    """How many decimal digits Stripe's minor unit has in this currency (0, 2 or 3)."""
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def currency_problem(currency: str) -> str | None:
    """Why Stripe would refuse this currency code, or ``None`` when it is fine."""
    code = currency.lower()
    if code in STRIPE_CURRENCIES:
        return None
    # Swapped letters ("uds") are the usual slip; difflib alone would say "uzs".
    swapped = sorted(c for c in STRIPE_CURRENCIES if sorted(c) == sorted(code))
    hint = swapped or difflib.get_close_matches(code, sorted(STRIPE_CURRENCIES), n=1)
    if hint:
        return f"{currency!r} is not a currency Stripe charges in; did you mean {hint[0]!r}?"
    return (
        f"{currency!r} is not a currency Stripe charges in; "
        "use a lower-case ISO code such as 'usd', 'eur' or 'gbp'"
    )


def format_amount(amount_minor: int, currency: str) -> str:
    """An amount in minor units, written for a pricing page.

    Example:
        >>> format_amount(1500, "usd"), format_amount(950, "EUR"), format_amount(1500, "jpy")
        ('$15.00', '€9.50', '¥1,500')
        >>> format_amount(1500, "chf")
        '15.00 CHF'
    """
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount_minor must be an int of minor units, got {amount_minor!r}")
    problem = currency_problem(currency)
    if problem is not None:
        raise ValueError(problem)
    code = currency.lower()
    digits = minor_unit_digits(code)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(amount_minor), 10**digits)
    number = f"{whole:,}" + (f".{fraction:0{digits}d}" if digits else "")
    symbol = _SYMBOLS.get(code)
    if symbol is None:
        return f"{sign}{number} {code.upper()}"
    return f"{sign}{symbol}{number}"
