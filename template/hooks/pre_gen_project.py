"""Refuse answers the project could not be built from, saying what to give instead."""

import json
import keyword
import re
import sys

# The answers as JSON inside a JSON string literal (also a Python literal): a
# project name with quotes, apostrophes or accents cannot break this file.
ANSWERS = json.loads({{ cookiecutter | jsonify | tojson }})

RESERVED = {"stripekit", "stripekit_fastapi", "stripekit_django", "fastapi", "django", "shop", "tests", "test"}
# Stripe's zero-decimal and common currencies; the full list lives in stripekit.
KNOWN = "aed aud brl cad chf clp cny czk dkk eur gbp hkd huf idr ils inr jpy krw mxn myr nok nzd php pln ron sek sgd thb try twd usd vnd zar"


def main() -> int:
    problems = []
    slug = ANSWERS["project_slug"]
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", slug) or keyword.iskeyword(slug):
        problems.append(
            f"project_slug {slug!r} must be a Python package name: lower-case letters, digits "
            "and underscores, starting with a letter (e.g. my_shop)"
        )
    elif slug in RESERVED:
        problems.append(f"project_slug {slug!r} would hide a package the project needs; pick another")
    currency = str(ANSWERS["currency"]).strip().lower()
    try:
        from stripekit.catalog._currencies import currency_problem
    except ImportError:  # plain cookiecutter, without stripekit installed
        problem = None if currency in KNOWN.split() else "not a currency this template knows"
    else:
        problem = currency_problem(currency)
    if problem:
        problems.append(f"currency {ANSWERS['currency']!r}: {problem}; give an ISO code such as usd or eur")
    if not any(_yes(ANSWERS[k]) for k in ("one_time_product", "subscription_product", "credits_product")):
        problems.append("choose at least one product: one-time, subscription or credits")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


def _yes(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("y", "yes", "true", "1")


if __name__ == "__main__":
    sys.exit(main())
