from __future__ import annotations

import pytest

from stripekit import ConfigurationError, Settings

SECRET = "sk_test_51AbCdEfGhIjKlMnOpQrStUv"
LIVE_SECRET = "sk_live_51AbCdEfGhIjKlMnOpQrStUv"


def test_reads_every_variable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET)
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_abc")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new")
    monkeypatch.setenv("STRIPEKIT_PRODUCTS", "shop/products.toml")
    monkeypatch.setenv("STRIPEKIT_BASE_URL", "https://shop.example/")
    monkeypatch.setenv("STRIPEKIT_DATABASE_URL", "postgresql://u:pw@db/shop")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:12111")
    s = Settings()
    assert s.require_secret_key() == SECRET
    assert s.publishable_key == "pk_test_abc"
    assert s.require_webhook_secrets() == ("whsec_old", "whsec_new")
    assert str(s.products) == "shop/products.toml"
    assert s.base_url == "https://shop.example"
    assert s.database_url.get_secret_value() == "postgresql://u:pw@db/shop"
    assert s.api_base == "http://127.0.0.1:12111"
    assert s.mode == "test"
    assert s.livemode is False


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPEKIT_BASE_URL", "https://env.example")
    s = Settings(base_url="https://arg.example", webhook_secret=["whsec_a"])
    assert s.base_url == "https://arg.example"
    assert s.require_webhook_secrets() == ("whsec_a",)


def test_mode_comes_from_the_key_prefix() -> None:
    assert Settings(secret_key=LIVE_SECRET).mode == "live"
    assert Settings(secret_key=LIVE_SECRET).livemode is True
    assert Settings(secret_key="rk_test_restricted").mode == "test"
    assert Settings().mode is None
    assert Settings(publishable_key="pk_live_x").mode == "live"


def test_urls_derive_from_the_base_url() -> None:
    s = Settings(base_url="https://shop.example")
    assert s.success_url_template == (
        "https://shop.example/stripe/success?session_id={CHECKOUT_SESSION_ID}"
    )
    assert s.cancel_url_resolved == "https://shop.example/stripe/cancel"
    assert s.portal_return_url_resolved == "https://shop.example/"


def test_custom_success_url_must_carry_the_session_placeholder() -> None:
    with pytest.raises(ConfigurationError, match=r"STRIPEKIT_SUCCESS_URL must contain"):
        Settings(success_url="https://shop.example/thanks")
    s = Settings(success_url="https://shop.example/thanks?s={CHECKOUT_SESSION_ID}")
    assert s.success_url_template == "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secret_key": "pk_test_abc"}, "STRIPE_SECRET_KEY holds a publishable key"),
        ({"secret_key": "whsec_abc"}, "STRIPE_SECRET_KEY holds a webhook signing secret"),
        ({"secret_key": "hello"}, "STRIPE_SECRET_KEY holds a value that is not a Stripe key"),
        ({"publishable_key": SECRET}, "STRIPE_PUBLISHABLE_KEY holds a secret key"),
        (
            {"secret_key": LIVE_SECRET, "publishable_key": "pk_test_abc"},
            "STRIPE_PUBLISHABLE_KEY is a test key but STRIPE_SECRET_KEY is a live key",
        ),
        ({"webhook_secret": SECRET}, "STRIPE_WEBHOOK_SECRET holds a secret key"),
        (
            {"webhook_secret": "whsec_ok," + SECRET},
            r"STRIPE_WEBHOOK_SECRET \(entry 2\) holds a secret key",
        ),
        ({"base_url": "shop.example"}, "STRIPEKIT_BASE_URL: must be an absolute http"),
        ({"webhook_tolerance": 0}, "STRIPEKIT_WEBHOOK_TOLERANCE: Input should be greater than 0"),
        ({"webhook_max_bytes": -1}, "STRIPEKIT_WEBHOOK_MAX_BYTES"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        Settings(**values)
    # The offending value itself never shows: it may be a secret.
    for value in values.values():
        if isinstance(value, str) and value.startswith(("sk_", "whsec_ok")):
            assert value not in str(info.value)


def test_an_unknown_argument_gets_a_did_you_mean() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown setting 'secret_kye'; did you mean 'secret_key'"
    ):
        Settings(secret_kye=SECRET)


def test_secrets_never_show_in_repr_str_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(
        secret_key=SECRET,
        webhook_secret="whsec_supersecret",
        database_url="postgresql://u:dbpassword@db/x",
    )
    for text in (repr(s), str(s), repr(s.model_dump()), s.model_dump_json()):
        assert SECRET not in text
        assert "whsec_supersecret" not in text
        assert "dbpassword" not in text
    monkeypatch.setenv("STRIPE_SECRET_KEY", "pk_live_" + "z" * 20)
    with pytest.raises(ConfigurationError) as info:
        Settings()
    assert "z" * 20 not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_missing_keys_say_how_to_set_them() -> None:
    s = Settings()
    with pytest.raises(ConfigurationError, match="STRIPE_SECRET_KEY is not set"):
        s.require_secret_key()
    with pytest.raises(ConfigurationError, match="STRIPE_WEBHOOK_SECRET is not set"):
        s.require_webhook_secrets()


def test_settings_are_immutable() -> None:
    s = Settings()
    with pytest.raises(Exception, match="frozen"):
        s.base_url = "https://elsewhere.example"  # type: ignore[misc]
