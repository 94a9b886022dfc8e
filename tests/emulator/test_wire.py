"""Stripe's wire format: nested form params and strict params from stripe-python's TypedDicts."""

from __future__ import annotations

import pytest
from stripe.params import PriceCreateParams
from stripe.params.checkout import SessionCreateParams

from stripekit.emulator._params import check_params
from stripekit.emulator._wire import StripeError, decode_form


@pytest.mark.parametrize(
    ("body", "decoded"),
    [
        ("name=Pro", {"name": "Pro"}),
        ("metadata[user_id]=42&metadata[plan]=pro", {"metadata": {"user_id": "42", "plan": "pro"}}),
        (
            "line_items[0][price]=price_1&line_items[0][quantity]=2&line_items[1][price]=price_2",
            {"line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}]},
        ),
        ("expand[]=customer&expand[]=line_items", {"expand": ["customer", "line_items"]}),
        ("lookup_keys[0]=a&lookup_keys[1]=b", {"lookup_keys": ["a", "b"]}),
        ("description=", {"description": ""}),
        ("a[b][c][0][d]=x", {"a": {"b": {"c": [{"d": "x"}]}}}),
        ("name=caf%C3%A9+%26+co", {"name": "café & co"}),
    ],
)
def test_nested_form_params_decode(body: str, decoded: dict[str, object]) -> None:
    assert decode_form(body) == decoded


def test_a_broken_bracket_is_refused() -> None:
    with pytest.raises(StripeError) as caught:
        decode_form("metadata[a=1")
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("params", "unknown"),
    [
        ({"bogus": "1"}, "bogus"),
        ({"line_items": [{"price": "p", "colour": "red"}]}, "line_items[0][colour]"),
        ({"automatic_tax": {"enabled": "true", "x": "1"}}, "automatic_tax[x]"),
        ({"subscription_data": {"trial_days": "3"}}, "subscription_data[trial_days]"),
        ({"api_key": "sk_test_x"}, "api_key"),  # a request option, not a param
    ],
)
def test_params_stripe_python_does_not_declare_are_refused(
    params: dict[str, object], unknown: str
) -> None:
    with pytest.raises(StripeError) as caught:
        check_params(params, SessionCreateParams)
    assert caught.value.status == 400
    assert caught.value.message == f"Received unknown parameter: {unknown}"
    assert caught.value.param == unknown


def test_declared_params_pass_at_any_depth() -> None:
    check_params(
        {
            "mode": "subscription",
            "line_items": [{"price": "price_1", "quantity": "1"}],
            "metadata": {"anything": "goes"},
            "subscription_data": {"trial_period_days": "14", "metadata": {"k": "v"}},
            "expand": ["line_items"],
        },
        SessionCreateParams,
    )
    check_params(
        {"currency": "usd", "unit_amount": "1500", "recurring": {"interval": "month"}},
        PriceCreateParams,
    )


def test_errors_have_stripes_shape() -> None:
    error = StripeError(404, "No such price: 'x'", code="resource_missing", param="id")
    body = error.body("req_123")["error"]
    assert body["type"] == "invalid_request_error"
    assert body["code"] == "resource_missing"
    assert body["param"] == "id"
    assert body["message"] == "No such price: 'x'"
    assert body["doc_url"].endswith("/resource-missing")
