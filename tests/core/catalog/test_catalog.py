from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from stripekit import (
    Catalog,
    CatalogError,
    ConfigurationError,
    Price,
    Product,
    UnknownPriceError,
    UnknownProductError,
    format_amount,
    load_catalog,
)

FULL = """\
[products.pro]
name = "Pro"
description = "For growing teams"
mode = "subscription"
features = ["Unlimited projects", "Priority support"]
image = "https://shop.example/pro.png"
metadata = { tier = "2" }

[[products.pro.prices]]
key = "monthly"
lookup_key = "pro_monthly"
amount = 1500
currency = "USD"
interval = "month"
trial_days = 14
tax_behavior = "exclusive"
nickname = "Pro monthly"
metadata = { plan = "pro" }

[[products.pro.prices]]
key = "yearly"
lookup_key = "pro_yearly"
amount = 15000
currency = "usd"
interval = "month"
interval_count = 12
id = "price_1PgafmB7WZ01zgkW6dKueIc5"

[products.credits]
name = "100 credits"
mode = "payment"
min_quantity = 1
max_quantity = 20

[[products.credits.prices]]
lookup_key = "credits_100_eur"
amount = 900
currency = "eur"
id_env = "CREDITS_PRICE_ID"

[[products.credits.prices]]
lookup_key = "credits_100_jpy"
amount = 1500
currency = "jpy"
tax_behavior = "inclusive"
"""

MINIMAL_PRICE = 'lookup_key = "a"\namount = 100\ncurrency = "usd"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "products.toml"
    path.write_text(text, encoding="utf-8")
    return path


def expected_catalog() -> Catalog:
    return Catalog.from_products(
        [
            Product(
                key="pro",
                name="Pro",
                description="For growing teams",
                mode="subscription",
                features=["Unlimited projects", "Priority support"],
                image="https://shop.example/pro.png",
                metadata={"tier": "2"},
                prices=[
                    Price(
                        key="monthly",
                        lookup_key="pro_monthly",
                        amount=1500,
                        currency="usd",
                        interval="month",
                        trial_days=14,
                        tax_behavior="exclusive",
                        nickname="Pro monthly",
                        metadata={"plan": "pro"},
                    ),
                    Price(
                        key="yearly",
                        lookup_key="pro_yearly",
                        amount=15000,
                        currency="usd",
                        interval="month",
                        interval_count=12,
                        id="price_1PgafmB7WZ01zgkW6dKueIc5",
                    ),
                ],
            ),
            Product(
                key="credits",
                name="100 credits",
                mode="payment",
                max_quantity=20,
                prices=[
                    Price(
                        lookup_key="credits_100_eur",
                        amount=900,
                        currency="eur",
                        id_env="CREDITS_PRICE_ID",
                    ),
                    Price(
                        lookup_key="credits_100_jpy",
                        amount=1500,
                        currency="jpy",
                        tax_behavior="inclusive",
                    ),
                ],
            ),
        ]
    )


def test_a_full_file_loads_every_field(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, FULL))
    assert catalog.keys() == ["pro", "credits"]
    assert len(catalog) == 2
    assert "pro" in catalog
    assert catalog.file == str(tmp_path / "products.toml")
    pro = catalog.get("pro")
    assert (pro.name, pro.description, pro.mode) == ("Pro", "For growing teams", "subscription")
    assert pro.features == ["Unlimited projects", "Priority support"]
    assert pro.image == "https://shop.example/pro.png"
    assert pro.metadata == {"tier": "2"}
    assert (pro.min_quantity, pro.max_quantity) == (1, 1)
    monthly = pro.default_price
    assert monthly.key == "monthly"
    assert monthly.lookup_key == "pro_monthly"
    assert (monthly.amount, monthly.currency) == (1500, "usd")  # lower-cased
    assert (monthly.interval, monthly.interval_count, monthly.trial_days) == ("month", 1, 14)
    assert monthly.tax_behavior == "exclusive"
    assert monthly.nickname == "Pro monthly"
    assert monthly.metadata == {"plan": "pro"}
    assert (monthly.id, monthly.id_env) == (None, None)
    assert monthly.recurring
    assert monthly.display_amount == "$15.00"
    yearly = pro.prices[1]
    assert (yearly.interval, yearly.interval_count) == ("month", 12)
    assert yearly.id == "price_1PgafmB7WZ01zgkW6dKueIc5"
    credits = catalog.get("credits")
    assert (credits.mode, credits.min_quantity, credits.max_quantity) == ("payment", 1, 20)
    eur, jpy = credits.prices
    assert eur.key == "credits_100_eur"  # the key defaults to the lookup_key
    assert eur.id_env == "CREDITS_PRICE_ID"
    assert not eur.recurring
    assert jpy.display_amount == "¥1,500"
    assert [p.currency for p in credits.prices] == ["eur", "jpy"]  # mixed currencies are fine
    assert [(p.key, q.key) for p, q in catalog.prices()] == [
        ("pro", "monthly"),
        ("pro", "yearly"),
        ("credits", "credits_100_eur"),
        ("credits", "credits_100_jpy"),
    ]
    assert [p.key for p in catalog] == ["pro", "credits"]
    assert repr(catalog).startswith("<Catalog products=['pro', 'credits'] file=")


def test_the_same_catalog_built_in_python_equals_the_file(tmp_path: Path) -> None:
    assert load_catalog(write(tmp_path, FULL)) == expected_catalog()
    assert Catalog.load(str(tmp_path / "products.toml")) == expected_catalog()
    assert expected_catalog() != Catalog.from_products([expected_catalog().get("pro")])


def test_models_are_frozen() -> None:
    price = expected_catalog().get("pro").default_price
    with pytest.raises(ValidationError, match="frozen"):
        price.amount = 1


def test_price_and_product_lookup() -> None:
    catalog = expected_catalog()
    assert catalog.price("pro") == (catalog.get("pro"), catalog.get("pro").prices[0])
    assert catalog.price("pro", "yearly")[1].key == "yearly"
    assert catalog.price("pro", "pro_yearly")[1].key == "yearly"  # by lookup_key too
    with pytest.raises(UnknownProductError) as unknown:
        catalog.get("enterprise")
    assert isinstance(unknown.value, LookupError)
    assert unknown.value.known == ["pro", "credits"]
    assert str(unknown.value) == "unknown product 'enterprise'; the catalog has 'pro', 'credits'"
    with pytest.raises(UnknownPriceError, match="product 'pro' has no price 'weekly'") as bad:
        catalog.price("pro", "weekly")
    assert bad.value.known == ["monthly", "yearly"]


# -- every kind of bad file: (file text, product, field, message) ------------------------

BAD_FILES: list[tuple[str, str, str | None, str | None, str]] = [
    (
        "subscription price without an interval",
        '[products.pro]\nname = "Pro"\nmode = "subscription"\n[[products.pro.prices]]\n'
        + MINIMAL_PRICE,
        "pro",
        "prices[0].interval",
        "a subscription price needs an interval (month, year, week or day)",
    ),
    (
        "payment price with an interval",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE
        + 'interval = "month"\n',
        "book",
        "prices[0].interval",
        'a one-time price (mode = "payment") has no interval',
    ),
    (
        "payment price with trial days",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE
        + "trial_days = 7\n",
        "book",
        "prices[0].trial_days",
        "trial_days is for subscriptions",
    ),
    (
        "negative amount",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        'lookup_key = "a"\namount = -100\ncurrency = "usd"\n',
        "book",
        "prices[0].amount",
        "must be 0 or more minor units, got -100",
    ),
    (
        "amount written as money, not minor units",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        'lookup_key = "a"\namount = 15.00\ncurrency = "usd"\n',
        "book",
        "prices[0].amount",
        "must be a whole number of minor units (1500 usd is $15.00), got 15.0",
    ),
    (
        "unknown currency",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        'lookup_key = "a"\namount = 100\ncurrency = "uds"\n',
        "book",
        "prices[0].currency",
        "'uds' is not a currency Stripe charges in; did you mean 'usd'?",
    ),
    (
        "duplicate price key within a product",
        '[products.pro]\nname = "Pro"\nmode = "subscription"\n'
        '[[products.pro.prices]]\nkey = "m"\nlookup_key = "a"\namount = 1\ncurrency = "usd"\n'
        'interval = "month"\n'
        '[[products.pro.prices]]\nkey = "m"\nlookup_key = "b"\namount = 1\ncurrency = "usd"\n'
        'interval = "year"\n',
        "pro",
        "prices[1].key",
        "price key 'm' is already used by prices[0]; give each price its own key",
    ),
    (
        "duplicate lookup_key across products",
        '[products.one]\nname = "One"\nmode = "payment"\n[[products.one.prices]]\n'
        + MINIMAL_PRICE
        + '[products.two]\nname = "Two"\nmode = "payment"\n[[products.two.prices]]\n'
        + MINIMAL_PRICE,
        "two",
        "prices[0].lookup_key",
        "lookup_key 'a' is already used by product 'one' (prices[0]); "
        "lookup keys must be unique across the catalog",
    ),
    (
        "min_quantity above max_quantity",
        '[products.packs]\nname = "Packs"\nmode = "payment"\nmin_quantity = 5\n'
        "max_quantity = 2\n[[products.packs.prices]]\n" + MINIMAL_PRICE,
        "packs",
        "min_quantity",
        "min_quantity (5) is more than max_quantity (2)",
    ),
    (
        "misspelt product field",
        '[products.book]\nnmae = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE,
        "book",
        "nmae",
        "unknown field 'nmae'; did you mean 'name'? allowed: credits, description, features,",
    ),
    (
        "misspelt price field",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE
        + 'lookupkey = "x"\n',
        "book",
        "prices[0].lookupkey",
        "unknown field 'lookupkey'; did you mean 'lookup_key'?",
    ),
    (
        "misspelt mode",
        '[products.book]\nname = "Book"\nmode = "paymnet"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE,
        "book",
        "mode",
        "must be 'payment' or 'subscription', got 'paymnet'; did you mean 'payment'?",
    ),
    (
        "product is not a table",
        'products.book = "Book"\n',
        "book",
        None,
        "must be a table: write a [products.book] section with name, mode and prices",
    ),
    (
        "price is not a table",
        '[products.book]\nname = "Book"\nmode = "payment"\nprices = ["price_123"]\n',
        "book",
        "prices[0]",
        "must be a table, got 'price_123'",
    ),
    (
        "products is not a table",
        'products = ["book"]\n',
        None,
        "products",
        "'products' must be a table of products",
    ),
    (
        "misspelt top-level table",
        '[product.book]\nname = "Book"\n',
        None,
        "product",
        "unknown top-level key 'product'; did you mean 'products'?",
    ),
    (
        "product without prices",
        '[products.book]\nname = "Book"\nmode = "payment"\n',
        "book",
        "prices",
        "prices is required: add a [[products.<key>.prices]] entry",
    ),
    (
        "product with an empty price list",
        '[products.book]\nname = "Book"\nmode = "payment"\nprices = []\n',
        "book",
        "prices",
        "a product needs at least one price",
    ),
    (
        "price without lookup_key",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        'amount = 100\ncurrency = "usd"\n',
        "book",
        "prices[0].lookup_key",
        "lookup_key is required",
    ),
    (
        "product key that is not a slug",
        '[products.Book]\nname = "Book"\nmode = "payment"\n[[products.Book.prices]]\n'
        + MINIMAL_PRICE,
        "Book",
        "key",
        "product key 'Book' must be lower-case letters, digits, '-' or '_'",
    ),
    (
        "key inside the product table",
        '[products.book]\nkey = "book"\nname = "Book"\n',
        "book",
        "key",
        "the product key comes from the table name ([products.book]); remove 'key'",
    ),
    (
        "more than a year between bills",
        '[products.pro]\nname = "Pro"\nmode = "subscription"\n[[products.pro.prices]]\n'
        + MINIMAL_PRICE
        + 'interval = "week"\ninterval_count = 53\n',
        "pro",
        "prices[0].interval_count",
        "Stripe bills at least once a year: at most 52 weeks apart, got 53",
    ),
    (
        "trial longer than Stripe allows",
        '[products.pro]\nname = "Pro"\nmode = "subscription"\n[[products.pro.prices]]\n'
        + MINIMAL_PRICE
        + 'interval = "month"\ntrial_days = 731\n',
        "pro",
        "prices[0].trial_days",
        "must be at most 730, got 731",
    ),
    (
        "both id and id_env",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE
        + 'id = "price_1"\nid_env = "BOOK_PRICE"\n',
        "book",
        "prices[0].id_env",
        "give either id or id_env, not both",
    ),
    (
        "a product id where a price id belongs",
        '[products.book]\nname = "Book"\nmode = "payment"\n[[products.book.prices]]\n'
        + MINIMAL_PRICE
        + 'id = "prod_123"\n',
        "book",
        "prices[0].id",
        "'prod_123' is not a Stripe price id",
    ),
    (
        "metadata value that is not a string",
        '[products.book]\nname = "Book"\nmode = "payment"\nmetadata = { pages = 300 }\n'
        "[[products.book.prices]]\n" + MINIMAL_PRICE,
        "book",
        "metadata.pages",
        "must be a string (in quotes), got 300",
    ),
    (
        "metadata key longer than Stripe allows",
        '[products.book]\nname = "Book"\nmode = "payment"\n'
        f'metadata = {{ {"k" * 41} = "v" }}\n'
        "[[products.book.prices]]\n" + MINIMAL_PRICE,
        "book",
        "metadata",
        "is 41 characters long; Stripe allows at most 40",
    ),
    (
        "relative image",
        '[products.book]\nname = "Book"\nmode = "payment"\nimage = "book.png"\n'
        "[[products.book.prices]]\n" + MINIMAL_PRICE,
        "book",
        "image",
        "must be an absolute http(s) URL, got 'book.png'",
    ),
]


@pytest.mark.parametrize(
    ("text", "product", "field", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_FILES],
)
def test_a_bad_file_names_file_product_and_field(
    tmp_path: Path, text: str, product: str | None, field: str | None, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    error = caught.value
    assert isinstance(error, ConfigurationError)
    assert (error.file, error.product, error.field) == (str(path), product, field)
    assert message in error.reason
    where = [str(path)]
    if product is not None:
        where.append(f"product {product!r}")
    if field is not None:
        where.append(f"field {field!r}")
    assert str(error).startswith(", ".join(where) + ": ")


def test_the_example_message_reads_as_documented(tmp_path: Path) -> None:
    path = write(tmp_path, BAD_FILES[0][1])
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == (
        f"{path}, product 'pro', field 'prices[0].interval': "
        "a subscription price needs an interval (month, year, week or day)"
    )


def test_a_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '[products.book]\nname = "Book"\nmode = = "payment"\n')
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.file == str(path)
    assert re.search(r"invalid TOML at line 3, column \d+: ", str(caught.value))


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "products.toml"
    path.write_bytes(b'[products.book]\nname = "\xff"\n')
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(path)


def test_a_missing_file_says_where_it_looked_and_how_to_set_it(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "products.toml"
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.file == str(path)
    assert str(path) in str(caught.value)
    assert "STRIPEKIT_PRODUCTS" in str(caught.value)


def test_a_directory_is_not_a_products_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read the products file"):
        load_catalog(tmp_path)


def test_an_empty_catalog_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing for sale yet\n")
    with pytest.raises(CatalogError, match="the catalog has no products") as caught:
        load_catalog(path)
    assert (caught.value.file, caught.value.product, caught.value.field) == (str(path), None, None)
    with pytest.raises(CatalogError, match="the catalog has no products") as in_python:
        Catalog.from_products([])
    assert in_python.value.file is None


def test_python_objects_get_the_same_errors_without_a_file() -> None:
    with pytest.raises(CatalogError) as caught:
        Product(
            key="pro",
            name="Pro",
            mode="subscription",
            prices=[{"lookup_key": "a", "amount": 1, "currency": "usd"}],  # type: ignore[list-item]
        )
    assert (caught.value.file, caught.value.product, caught.value.field) == (
        None,
        "pro",
        "prices[0].interval",
    )
    assert str(caught.value).startswith("catalog, product 'pro', field 'prices[0].interval': ")
    with pytest.raises(CatalogError) as price_error:
        Price(lookup_key="a", amount=1, currency="usd", interval="month", interval_count=13)
    assert (price_error.value.product, price_error.value.field) == (None, "interval_count")
    with pytest.raises(CatalogError, match="interval_count needs an interval"):
        Price(lookup_key="a", amount=1, currency="usd", interval_count=2)
    with pytest.raises(CatalogError, match="must be 0 or more"):
        Price(lookup_key="a", amount=-1, currency="usd")
    with pytest.raises(CatalogError, match="must be a whole number"):
        Price(lookup_key="a", amount=True, currency="usd")


def test_duplicate_products_and_lookup_keys_in_python() -> None:
    book = Product(
        key="book",
        name="Book",
        mode="payment",
        prices=[Price(lookup_key="a", amount=1, currency="usd")],
    )
    with pytest.raises(CatalogError, match="two products have this key") as twice:
        Catalog.from_products([book, book])
    assert (twice.value.product, twice.value.field) == ("book", "key")
    same_lookup = Product(
        key="book",
        name="Book",
        mode="payment",
        prices=[
            Price(key="x", lookup_key="a", amount=1, currency="usd"),
            Price(key="y", lookup_key="a", amount=2, currency="usd"),
        ],
    )
    with pytest.raises(CatalogError, match=r"already used by prices\[0\] of this product") as dup:
        Catalog.from_products([same_lookup])
    assert dup.value.field == "prices[1].lookup_key"


def test_interval_count_limits_are_one_year() -> None:
    limits: list[tuple[Literal["day", "week", "month", "year"], int]] = [
        ("day", 365),
        ("week", 52),
        ("month", 12),
        ("year", 1),
    ]
    for interval, most in limits:
        assert (
            Price(
                lookup_key="a", amount=1, currency="usd", interval=interval, interval_count=most
            ).interval_count
            == most
        )
        with pytest.raises(CatalogError, match="at least once a year"):
            Price(
                lookup_key="a", amount=1, currency="usd", interval=interval, interval_count=most + 1
            )


# -- Stripe-shaped prices -----------------------------------------------------------------


def test_our_price_describes_a_real_stripe_price(stripe_fixtures: dict[str, Any]) -> None:
    sample = stripe_fixtures["price"]
    assert sample["object"] == "price"
    price = Price.from_stripe(sample, key="monthly", lookup_key="pro_monthly")
    assert price.id == sample["id"]
    assert price.amount == sample["unit_amount"]
    assert price.currency == sample["currency"]
    assert price.interval == sample["recurring"]["interval"]
    assert price.interval_count == sample["recurring"]["interval_count"]
    assert price.trial_days == sample["recurring"]["trial_period_days"]
    assert price.tax_behavior == sample["tax_behavior"]
    assert price.metadata == sample["metadata"]
    assert price.differences(sample) == []
    cheaper = {**sample, "unit_amount": sample["unit_amount"] - 1}
    assert price.differences(cheaper) == [
        f"amount: catalog {sample['unit_amount']}, Stripe {sample['unit_amount'] - 1}"
    ]
    with pytest.raises(CatalogError, match="has no lookup_key"):
        Price.from_stripe({**sample, "lookup_key": None})
    with pytest.raises(CatalogError, match="no fixed unit_amount"):
        Price.from_stripe({**sample, "unit_amount": None}, lookup_key="x")


def test_our_price_reads_a_stripe_price_object(stripe_fixtures: dict[str, Any]) -> None:
    import stripe

    obj = stripe.Price.construct_from(
        {**stripe_fixtures["price"], "lookup_key": "pro_m"}, "sk_test_x"
    )
    price = Price.from_stripe(obj)
    assert (price.key, price.lookup_key, price.amount) == ("pro_m", "pro_m", obj.unit_amount)
    assert price.differences(obj) == []


# -- amounts for pricing pages ------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1500, "usd", "$15.00"),
        (950, "eur", "€9.50"),
        (950, "EUR", "€9.50"),
        (1500, "jpy", "¥1,500"),
        (150000, "krw", "₩150,000"),
        (0, "usd", "$0.00"),
        (5, "gbp", "£0.05"),
        (123456789, "usd", "$1,234,567.89"),
        (1500, "chf", "15.00 CHF"),
        (5120, "kwd", "5.120 KWD"),
        (1000, "clp", "1,000 CLP"),
        (-250, "usd", "-$2.50"),
    ],
)
def test_format_amount(amount: int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


def test_format_amount_refuses_what_is_not_an_amount() -> None:
    with pytest.raises(ValueError, match="did you mean 'usd'"):
        format_amount(100, "usdd")
    with pytest.raises(TypeError):
        format_amount(15.0, "usd")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_amount(True, "usd")
