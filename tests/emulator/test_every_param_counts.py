"""No documented-as-emulated param is ignored: each one changes what the emulator answers.

For every request in docs/emulator.md's table and every param it honours, a
probe makes the same request twice on fresh emulators with a frozen clock,
once without the param and once with it, and the outcomes (the answer and the
events sent) must differ once random ids are set aside. A param that is
listed but ignored fails here; so does one listed with no probe.

A declared param that is *not* honoured is refused with "not emulated", for
every request: that side is checked by the last test.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union

import pytest

from stripekit.emulator import Emulator
from stripekit.emulator._checkout_pay import pay_session
from stripekit.emulator._clock import advance_clock
from stripekit.emulator._params import _fields
from stripekit.emulator._routes import ROUTES, handle
from stripekit.emulator._state import Clock
from stripekit.emulator._wire import StripeError

FROZEN = 1_750_000_000
DAY = 86400
LATER = FROZEN + 40 * DAY


class FrozenClock(Clock):
    """Time that moves only when the emulator moves it: two runs see the same timestamps."""

    def _real(self) -> int:
        return FROZEN + self.offset


def form(value: Any) -> Any:
    """A value as Stripe's form decoding hands it over (text, lists, dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {k: form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [form(v) for v in value]
    return value if isinstance(value, str) else str(value)


def call(emu: Emulator, method: str, path: str, **params: Any) -> dict[str, Any]:
    return handle(emu, method, path, form(params))


# -- objects the probes start from -------------------------------------------------------------


def price(emu: Emulator, amount: int = 1000, *, recurring: bool = True, **extra: Any) -> str:
    params: dict[str, Any] = {
        "product_data": {"name": extra.pop("name", "Pro")},
        "currency": extra.pop("currency", "usd"),
        "unit_amount": amount,
        **extra,
    }
    if recurring:
        params["recurring"] = {"interval": "month"}
    return call(emu, "POST", "/v1/prices", **params)["id"]


def customer(emu: Emulator, **extra: Any) -> str:
    return call(emu, "POST", "/v1/customers", email="a@b.c", **extra)["id"]


def session(emu: Emulator, mode: str = "subscription", **extra: Any) -> dict[str, Any]:
    if mode != "setup" and "line_items" not in extra:
        extra["line_items"] = [{"price": price(emu, recurring=mode == "subscription")}]
    extra.setdefault("success_url", "https://x.test")
    return call(emu, "POST", "/v1/checkout/sessions", mode=mode, **extra)


def paid(emu: Emulator, card: str = "4242424242424242", **extra: Any) -> dict[str, Any]:
    if "customer" not in extra:
        extra.setdefault("customer_email", "a@b.c")
    made = session(emu, **extra)
    return pay_session(emu, made["id"], card=card, email=None, name=None)


def subscription(emu: Emulator, **extra: Any) -> dict[str, Any]:
    sub: dict[str, Any] = emu.state.objects[paid(emu, **extra)["subscription"]]
    return sub


def item_of(sub: dict[str, Any]) -> str:
    return str(sub["items"]["data"][0]["id"])


def intent(emu: Emulator, card: str = "pm_card_visa", **extra: Any) -> dict[str, Any]:
    return call(
        emu,
        "POST",
        "/v1/payment_intents",
        amount=1000,
        currency="usd",
        payment_method=card,
        confirm=True,
        **extra,
    )


def saved_card(emu: Emulator, owner: str, token: str = "pm_card_mastercard") -> str:
    return call(emu, "POST", f"/v1/payment_methods/{token}/attach", customer=owner)["id"]


def with_pending_items(emu: Emulator) -> dict[str, Any]:
    sub = subscription(emu)
    call(
        emu,
        "POST",
        f"/v1/subscriptions/{sub['id']}",
        items=[{"id": item_of(sub), "quantity": 2}],
    )
    return sub


def open_invoice(emu: Emulator) -> dict[str, Any]:
    """An open invoice whose payment failed (its card declines every charge)."""
    sub = subscription(emu, card="4000000000000341", subscription_data={"trial_period_days": 3})
    emu.state.clock.advance(0)
    from stripekit.emulator._clock import advance_clock

    advance_clock(emu, 4 * DAY)
    invoice: dict[str, Any] = emu.state.objects[emu.state.objects[sub["id"]]["latest_invoice"]]
    return invoice


Ctx = dict[str, Any]
Setup = Callable[[Emulator, Ctx], tuple[str, dict[str, Any]]]
"""Makes what a request needs (keeping ids in the context); returns its path and params."""


@dataclass(frozen=True)
class Use:
    """A probe with a start of its own (a param that shows only in some situation)."""

    value: Any
    setup: Setup


KEEP = object()
"""The probe's param is in the setup's params already: the probe is taking it out."""


@dataclass(frozen=True)
class Probes:
    setup: Setup
    values: dict[str, Any]
    """param (as in the table) → the value the probe sends (or Use, KEEP, ctx → value)."""
    then: Callable[[Emulator, dict[str, Any]], Any] | None = None
    """What happens next that shows a param's effect (a session paid, say)."""


def pay_it(emu: Emulator, made: dict[str, Any]) -> Any:
    return pay_session(emu, made["id"], card="4242424242424242", email="a@b.c", name=None)


def its_cards(emu: Emulator, made: dict[str, Any]) -> Any:
    return call(emu, "GET", f"/v1/customers/{made['id']}/payment_methods")


def at(path: str, **base: Any) -> Setup:
    return lambda emu, ctx: (path, base)


def later(days: int = 10) -> Callable[[Emulator], None]:
    return lambda emu: advance_clock(emu, days * DAY) and None


def _product(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["product"] = call(emu, "POST", "/v1/products", name="P")["id"]
    ctx["price"] = call(emu, "POST", "/v1/prices", product=ctx["product"], currency="usd",
                        unit_amount=100)["id"]  # fmt: skip
    return f"/v1/products/{ctx['product']}", {}


def _two_products(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["a"] = call(emu, "POST", "/v1/products", name="A")["id"]
    call(emu, "POST", "/v1/products", name="B", active=False)
    return "/v1/products", {}


def _new_price(**extra: Any) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        ctx["product"] = call(emu, "POST", "/v1/products", name="P")["id"]
        if extra.get("taken"):
            call(emu, "POST", "/v1/prices", product=ctx["product"], currency="usd",
                 unit_amount=1, lookup_key="taken")  # fmt: skip
        base = {"currency": "usd", "unit_amount": 100, "recurring": {"interval": "month"}}
        if extra.get("product_data"):
            return "/v1/prices", {**base, "product_data": {"name": "X"}}
        if extra.get("taken"):
            return "/v1/prices", {**base, "product": ctx["product"], "lookup_key": "taken"}
        return "/v1/prices", {**base, "product": ctx["product"]}

    return setup


def _price_to_change(**extra: Any) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        one = price(emu, lookup_key="mine")
        if extra.get("taken"):
            price(emu, lookup_key="taken")
            return f"/v1/prices/{one}", {"lookup_key": "taken"}
        return f"/v1/prices/{one}", {}

    return setup


def _two_prices(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    a = call(emu, "GET", f"/v1/prices/{price(emu, recurring=False, lookup_key='a')}")
    ctx["product"] = a["product"]
    b = price(emu, currency="eur", lookup_key="b")
    call(emu, "POST", f"/v1/prices/{b}", active=False)
    return "/v1/prices", {}


def _two_customers_with_cards(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    for name in ("c1", "c2"):
        ctx[name] = customer(emu)
        ctx[f"{name}_card"] = saved_card(emu, ctx[name])
    return "/v1/payment_methods", {}


def _two_payments(path: str) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        for name in ("p1", "p2"):
            ctx[name] = intent(emu, customer=customer(emu))
        return path, {}

    return setup


def _session(mode: str = "subscription", **extra: Any) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        ctx["customer"] = customer(emu)
        base: dict[str, Any] = {"mode": mode, "success_url": "https://x.test", **extra}
        if mode == "setup":
            base["customer"] = ctx["customer"]
        else:
            base["line_items"] = [{"price": price(emu, recurring=mode == "subscription")}]
            base.setdefault("customer_email", "a@b.c")
        return "/v1/checkout/sessions", base

    return setup


def _embedded(**extra: Any) -> Setup:
    """An embedded session's request: a return URL instead of success and cancel URLs."""

    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        base: dict[str, Any] = {
            "mode": "payment",
            "return_url": "https://x.test/back?session_id={CHECKOUT_SESSION_ID}",
            "line_items": [{"price": price(emu, recurring=False)}],
            "customer_email": "a@b.c",
            **extra,
        }
        return "/v1/checkout/sessions", base

    return setup


def _two_sessions(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    done = paid(emu)
    ctx.update(customer=done["customer"], subscription=done["subscription"])
    ctx["payment_intent"] = paid(emu, mode="payment")["payment_intent"]
    session(emu, customer_email="open@x.test")
    return "/v1/checkout/sessions", {}


def _intent(card: str | None = None, **extra: Any) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        ctx["customer"] = customer(emu)
        base: dict[str, Any] = {"amount": 1000, "currency": "usd", **extra}
        if card:
            base.update(payment_method=card, confirm=True, customer=ctx["customer"])
        return "/v1/payment_intents", base

    return setup


def _unconfirmed(card: str = "pm_card_authenticationRequiredOnSetup") -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        ctx["customer"] = customer(emu)
        made = call(emu, "POST", "/v1/payment_intents", amount=1000, currency="usd",
                    payment_method=card, customer=ctx["customer"])  # fmt: skip
        return f"/v1/payment_intents/{made['id']}/confirm", {}

    return setup


def _two_subscriptions(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    one = subscription(emu)
    ctx.update(customer=one["customer"], price=one["items"]["data"][0]["price"]["id"])
    ctx["clock"] = call(emu, "POST", "/v1/test_helpers/test_clocks", frozen_time=FROZEN)["id"]
    subscription(emu, customer=customer(emu, test_clock=ctx["clock"]))
    ended = subscription(emu)
    call(emu, "DELETE", f"/v1/subscriptions/{ended['id']}")
    return "/v1/subscriptions", {}


def _a_clock(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["clock"] = call(emu, "POST", "/v1/test_helpers/test_clocks", frozen_time=FROZEN)["id"]
    return "/v1/customers", {}


def _customer(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["customer"] = customer(emu)
    ctx["card"] = saved_card(emu, ctx["customer"])
    return f"/v1/customers/{ctx['customer']}", {}


def _two_customers(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["clock"] = call(emu, "POST", "/v1/test_helpers/test_clocks", frozen_time=FROZEN)["id"]
    customer(emu, test_clock=ctx["clock"])
    call(emu, "POST", "/v1/customers", email="other@x.test")
    return "/v1/customers", {}


def _two_setups(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    for name in ("s1", "s2"):
        done = paid(emu, mode="setup", customer=customer(emu))
        ctx[name] = emu.state.objects[done["setup_intent"]]
    return "/v1/setup_intents", {}


def _two_disputes(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    for name in ("p1", "p2"):
        ctx[name] = intent(emu, "pm_card_createDispute")
    return "/v1/disputes", {}


def _dispute(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    intent(emu, "pm_card_createDispute")
    return f"/v1/disputes/{emu.state.all('dispute')[0]['id']}", {}


def _endpoint(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = call(emu, "POST", "/v1/webhook_endpoints", url="https://x.test/a",
                enabled_events=["*"])  # fmt: skip
    return f"/v1/webhook_endpoints/{made['id']}", {}


def _who_hears_a_connected_account(emu: Emulator, made: dict[str, Any]) -> int:
    """How many endpoints a connected account's events go to (a Connect endpoint's: 1)."""
    with emu.state.locked():
        account = emu.state.new("account", type="standard")["id"]
    return len(emu._endpoints_for(account))


def _two_kinds_of_events(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    price(emu)
    return "/v1/events", {}


def _invoices(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = with_pending_items(emu)
    ctx.update(customer=sub["customer"], subscription=sub["id"])
    call(emu, "POST", "/v1/invoices", customer=sub["customer"])
    subscription(emu)
    return "/v1/invoices", {}


def _pending(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = with_pending_items(emu)
    ctx.update(customer=sub["customer"], subscription=sub["id"])
    ctx["other"] = subscription(emu, customer=sub["customer"])["id"]
    return "/v1/invoices", {"customer": sub["customer"]}


def _draft(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = with_pending_items(emu)
    draft = call(emu, "POST", "/v1/invoices", customer=sub["customer"], subscription=sub["id"])
    return f"/v1/invoices/{draft['id']}/finalize", {}


def _failed_invoice(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    return f"/v1/invoices/{open_invoice(emu)['id']}/pay", {}


def _preview(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = subscription(emu)
    ctx.update(stranger=customer(emu), price=price(emu, 3000))
    later(10)(emu)
    details = {"items": [{"id": item_of(sub), "quantity": 2}]}
    return "/v1/invoices/create_preview", {
        "subscription": sub["id"],
        "subscription_details": details,
    }


def _two_invoice_payments(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    for name in ("i1", "i2"):
        invoice = emu.state.objects[paid(emu)["invoice"]]
        ctx[name] = invoice["id"]
        ctx[f"{name}_intent"] = emu.state.all("invoice_payment")[0]["payment"]["payment_intent"]
    return "/v1/invoice_payments", {}


def _invoice_items(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = with_pending_items(emu)
    ctx["customer"] = sub["customer"]
    ctx["invoice"] = call(emu, "POST", "/v1/invoices", customer=sub["customer"])["id"]
    with_pending_items(emu)
    return "/v1/invoiceitems", {}


def _intent_to_change(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    ctx["customer"] = customer(emu)
    made = call(emu, "POST", "/v1/payment_intents", amount=1000, currency="usd")
    return f"/v1/payment_intents/{made['id']}", {}


def _cancelable(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = call(emu, "POST", "/v1/payment_intents", amount=1000, currency="usd")
    return f"/v1/payment_intents/{made['id']}/cancel", {}


def _held(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = intent(emu, capture_method="manual")
    return f"/v1/payment_intents/{made['id']}/capture", {}


def _refundable(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = intent(emu)
    ctx["other_charge"] = intent(emu)["latest_charge"]
    return "/v1/refunds", {"payment_intent": made["id"]}


def _refund(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = call(emu, "POST", "/v1/refunds", payment_intent=intent(emu)["id"])
    return f"/v1/refunds/{made['id']}", {}


def _two_refunds(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    for name in ("p1", "p2"):
        ctx[name] = intent(emu)
        call(emu, "POST", "/v1/refunds", payment_intent=ctx[name]["id"])
    return "/v1/refunds", {}


def _subscription(*, failing: bool = False, pending: bool = False) -> Setup:
    def setup(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
        sub = with_pending_items(emu) if pending else subscription(emu)
        ctx["price"] = price(emu, 3000, name="Premium")
        ctx["card"] = saved_card(emu, sub["customer"])
        base: dict[str, Any] = {"items": [{"id": item_of(sub), "quantity": 2}]}
        if failing:
            bad = saved_card(emu, sub["customer"], "pm_card_chargeCustomerFail")
            call(emu, "POST", f"/v1/subscriptions/{sub['id']}", default_payment_method=bad)
            base["proration_behavior"] = "always_invoice"
        later(10)(emu)
        return f"/v1/subscriptions/{sub['id']}", base

    return setup


def _incomplete(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    base = {
        "customer": customer(emu),
        "items": [{"price": price(emu)}],
        "payment_behavior": "default_incomplete",
    }
    return "/v1/subscriptions", base


def _to_cancel(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = with_pending_items(emu)
    later(10)(emu)
    return f"/v1/subscriptions/{sub['id']}", {}


def _paused(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    sub = subscription(
        emu,
        payment_method_collection="if_required",
        subscription_data={
            "trial_period_days": 3,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        },
    )
    later(4)(emu)
    return f"/v1/subscriptions/{sub['id']}/resume", {}


def _clock(emu: Emulator, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    made = call(emu, "POST", "/v1/test_helpers/test_clocks", frozen_time=FROZEN)
    subscription(emu)
    return f"/v1/test_helpers/test_clocks/{made['id']}/advance", {"frozen_time": FROZEN + DAY}


NO_CARD_SESSION = _session(
    payment_method_collection="if_required", subscription_data={"trial_period_days": 3}
)
PRODUCT_FIELDS = {
    "name": "Other",
    "description": "d",
    "images": ["https://x.test/a.png"],
    "url": "https://x.test",
    "unit_label": "seat",
    "statement_descriptor": "SHOP",
    "active": False,
    "metadata": {"k": "v"},
    "marketing_features[name]": "Fast",
}

CUSTOMER_FIELDS = {
    "email": "z@x.test",
    "name": "Ada",
    "description": "d",
    "phone": "+1555",
    "preferred_locales": ["fr"],
    "metadata": {"k": "v"},
}

PROBES: dict[str, Probes] = {
    "POST /v1/products": Probes(
        at("/v1/products", name="P", default_price_data={"currency": "usd", "unit_amount": 1}),
        {
            **PRODUCT_FIELDS,
            "id": "prod_mine",
            "default_price_data[currency]": "eur",
            "default_price_data[unit_amount]": 200,
            "default_price_data[metadata]": {"k": "v"},
            "default_price_data[tax_behavior]": "exclusive",
            "default_price_data[recurring][interval]": "year",
            "default_price_data[recurring][interval_count]": 2,
        },
    ),
    "POST /v1/products/{id}": Probes(
        _product, {**PRODUCT_FIELDS, "default_price": lambda ctx: ctx["price"]}
    ),
    "GET /v1/products": Probes(_two_products, {"active": False, "ids": lambda ctx: [ctx["a"]]}),
    "POST /v1/prices": Probes(
        _new_price(),
        {
            "active": False,
            "lookup_key": "k",
            "metadata": {"k": "v"},
            "nickname": "n",
            "tax_behavior": "exclusive",
            "currency": "eur",
            "unit_amount": 200,
            "product": KEEP,
            "transfer_lookup_key": Use(True, _new_price(taken=True)),
            "recurring[interval]": "year",
            "recurring[interval_count]": 2,
            "recurring[trial_period_days]": 7,
            **{
                f"product_data[{name}]": Use(value, _new_price(product_data=True))
                for name, value in {
                    "name": "Y",
                    "active": False,
                    "id": "prod_mine",
                    "metadata": {"k": "v"},
                    "statement_descriptor": "SHOP",
                    "unit_label": "seat",
                }.items()
            },
        },
    ),
    "POST /v1/prices/{id}": Probes(
        _price_to_change(),
        {
            "active": False,
            "lookup_key": "other",
            "metadata": {"k": "v"},
            "nickname": "n",
            "tax_behavior": "exclusive",
            "transfer_lookup_key": Use(True, _price_to_change(taken=True)),
        },
    ),
    "GET /v1/prices": Probes(
        _two_prices,
        {
            "active": False,
            "lookup_keys": ["a"],
            "product": lambda ctx: ctx["product"],
            "currency": "eur",
            "type": "recurring",
        },
    ),
    "GET /v1/payment_methods": Probes(
        _two_customers_with_cards, {"customer": lambda ctx: ctx["c1"], "type=card": "card"}
    ),
    "GET /v1/customers/{id}/payment_methods": Probes(
        lambda emu, ctx: (f"/v1/customers/{customer(emu)}/payment_methods", {}),
        {"type=card": "card"},
    ),
    "POST /v1/payment_methods/{id}/attach": Probes(
        lambda emu, ctx: ("/v1/payment_methods/pm_card_visa/attach", {"customer": customer(emu)}),
        {"customer": KEEP},
    ),
    "POST /v1/payment_methods": Probes(
        lambda emu, ctx: (
            "/v1/payment_methods",
            {"type": "card", "card": {"number": "4242424242424242"}},
        ),
        {
            "type=card": KEEP,
            "card[number]": "4000000000000002",
            "card[exp_month]": 3,
            "card[exp_year]": 2031,
            "card[cvc]": "123",
            "billing_details[name]": "Ada",
            "billing_details[email]": "ada@x.test",
        },
    ),
    "GET /v1/charges": Probes(
        _two_payments("/v1/charges"),
        {
            "customer": lambda ctx: ctx["p1"]["customer"],
            "payment_intent": lambda ctx: ctx["p1"]["id"],
        },
    ),
    "POST /v1/checkout/sessions": Probes(
        _session(),
        {
            "mode=payment|subscription|setup": "payment",
            "line_items[price]": KEEP,
            "line_items[quantity]": 3,
            "success_url": "https://x.test/other",
            "cancel_url": "https://x.test/back",
            "client_reference_id": "u1",
            "currency": "eur",
            "customer": lambda ctx: ctx["customer"],
            "customer_email": "z@x.test",
            "customer_creation=always": Use("always", _session("payment")),
            "allow_promotion_codes": True,
            "automatic_tax[enabled]": True,
            "billing_address_collection=auto": "auto",
            "expires_at": FROZEN + 3600,
            "locale": "fr",
            "metadata": {"k": "v"},
            "payment_method_collection": "if_required",
            "subscription_data[metadata]": {"k": "v"},
            "subscription_data[trial_period_days]": 7,
            "subscription_data[trial_end]": LATER,
            "subscription_data[trial_settings][end_behavior][missing_payment_method]": Use(
                "pause", NO_CARD_SESSION
            ),
            "payment_intent_data[metadata]": Use({"k": "v"}, _session("payment")),
            "payment_intent_data[description]": Use("two books", _session("payment")),
            "setup_intent_data[metadata]": Use({"k": "v"}, _session("setup")),
            "setup_intent_data[description]": Use("new card", _session("setup")),
            "ui_mode=hosted_page|embedded_page": Use("embedded_page", _embedded()),
            "return_url": Use(KEEP, _embedded(ui_mode="embedded_page")),
        },
        then=lambda emu, made: pay_it(emu, made) if made["status"] == "open" else None,
    ),
    "GET /v1/checkout/sessions": Probes(
        _two_sessions,
        {
            "customer": lambda ctx: ctx["customer"],
            "status": "complete",
            "payment_intent": lambda ctx: ctx["payment_intent"],
            "subscription": lambda ctx: ctx["subscription"],
        },
    ),
    "POST /v1/billing_portal/sessions": Probes(
        lambda emu, ctx: ("/v1/billing_portal/sessions", {"customer": customer(emu)}),
        {"customer": KEEP, "return_url": "https://x.test/account", "locale": "fr"},
    ),
    "POST /v1/payment_intents": Probes(
        _intent(),
        {
            "amount": 2000,
            "currency": "eur",
            "customer": lambda ctx: ctx["customer"],
            "metadata": {"k": "v"},
            "description": "d",
            "confirm": Use(True, _intent(payment_method="pm_card_visa")),
            "capture_method": "manual",
            "automatic_payment_methods[enabled]": True,
            "payment_method": "pm_card_visa",
            "off_session": Use(True, _intent("pm_card_authenticationRequiredOnSetup")),
            "return_url": Use(
                "https://x.test/back", _intent("pm_card_authenticationRequiredOnSetup")
            ),
            "setup_future_usage=off_session": Use("off_session", _intent("pm_card_visa")),
        },
    ),
    "POST /v1/payment_intents/{id}/confirm": Probes(
        _unconfirmed(),
        {
            "payment_method": "pm_card_visa",
            "off_session": True,
            "return_url": "https://x.test/back",
            "setup_future_usage=off_session": Use("off_session", _unconfirmed("pm_card_visa")),
        },
    ),
    "GET /v1/payment_intents": Probes(
        _two_payments("/v1/payment_intents"),
        {"customer": lambda ctx: ctx["p1"]["customer"]},
    ),
    "GET /v1/subscriptions": Probes(
        _two_subscriptions,
        {
            "status": "canceled",
            "customer": lambda ctx: ctx["customer"],
            "price": lambda ctx: ctx["price"],
            "test_clock": lambda ctx: ctx["clock"],
        },
    ),
    "POST /v1/customers": Probes(
        at("/v1/customers", email="a@b.c"),
        {
            **CUSTOMER_FIELDS,
            "payment_method": "pm_card_visa",
            "invoice_settings[default_payment_method]": Use(
                "pm_card_visa", at("/v1/customers", email="a@b.c", payment_method="pm_card_visa")
            ),
            "test_clock": Use(lambda ctx: ctx["clock"], _a_clock),
        },
        then=its_cards,
    ),
    "POST /v1/customers/{id}": Probes(
        _customer,
        {
            **CUSTOMER_FIELDS,
            "invoice_settings[default_payment_method]": lambda ctx: ctx["card"],
        },
    ),
    "GET /v1/customers": Probes(
        _two_customers, {"email": "other@x.test", "test_clock": lambda ctx: ctx["clock"]}
    ),
    "GET /v1/setup_intents": Probes(
        _two_setups,
        {
            "customer": lambda ctx: ctx["s1"]["customer"],
            "payment_method": lambda ctx: ctx["s1"]["payment_method"],
        },
    ),
    "GET /v1/disputes": Probes(
        _two_disputes,
        {
            "charge": lambda ctx: ctx["p1"]["latest_charge"],
            "payment_intent": lambda ctx: ctx["p1"]["id"],
        },
    ),
    "POST /v1/disputes/{id}": Probes(
        _dispute,
        {
            "evidence[uncategorized_text]": "winning_evidence",
            "evidence[product_description]": "A book",
            "metadata": {"k": "v"},
            "submit": False,
        },
    ),
    "POST /v1/webhook_endpoints": Probes(
        at("/v1/webhook_endpoints", url="https://x.test/a", enabled_events=["*"]),
        {
            "url": "https://x.test/b",
            "enabled_events": ["invoice.paid"],
            "description": "d",
            "metadata": {"k": "v"},
            "api_version": "2024-06-20",
            "connect": True,
        },
        then=_who_hears_a_connected_account,
    ),
    "POST /v1/accounts": Probes(
        at("/v1/accounts"),
        {
            "type=standard|express|custom": "custom",
            "country": "FR",
            "email": "a@b.c",
            "metadata": {"k": "v"},
            "business_type": "individual",
        },
    ),
    "POST /v1/webhook_endpoints/{id}": Probes(
        _endpoint,
        {
            "url": "https://x.test/b",
            "enabled_events": ["invoice.paid"],
            "description": "d",
            "metadata": {"k": "v"},
            "disabled": True,
        },
    ),
    "GET /v1/events": Probes(
        _two_kinds_of_events, {"type": "product.created", "types": ["price.created"]}
    ),
    "GET /v1/invoices": Probes(
        _invoices,
        {
            "customer": lambda ctx: ctx["customer"],
            "subscription": lambda ctx: ctx["subscription"],
            "status": "draft",
        },
    ),
    "POST /v1/invoices": Probes(
        _pending,
        {
            "customer": KEEP,
            "subscription": lambda ctx: ctx["other"],
            "auto_advance": True,
            "collection_method=charge_automatically": "charge_automatically",
            "description": "d",
            "metadata": {"k": "v"},
            "pending_invoice_items_behavior": "exclude",
        },
    ),
    "POST /v1/invoices/{id}/finalize": Probes(_draft, {"auto_advance": True}),
    "POST /v1/invoices/{id}/pay": Probes(
        _failed_invoice, {"payment_method": "pm_card_visa", "paid_out_of_band": True}
    ),
    "POST /v1/invoices/create_preview": Probes(
        _preview,
        {
            "customer": lambda ctx: ctx["stranger"],
            "subscription": KEEP,
            "subscription_details[items][id]": KEEP,
            "subscription_details[items][price]": lambda ctx: ctx["price"],
            "subscription_details[items][quantity]": 3,
            "subscription_details[items][deleted]": True,
            "subscription_details[proration_behavior]": "always_invoice",
            "subscription_details[proration_date]": FROZEN + 5 * DAY,
        },
    ),
    "GET /v1/invoice_payments": Probes(
        _two_invoice_payments,
        {
            "invoice": lambda ctx: ctx["i1"],
            "payment[type]=payment_intent": "payment_intent",
            "payment[payment_intent]": lambda ctx: ctx["i1_intent"],
            "status": "open",
        },
    ),
    "GET /v1/invoiceitems": Probes(
        _invoice_items,
        {
            "customer": lambda ctx: ctx["customer"],
            "invoice": lambda ctx: ctx["invoice"],
            "pending": True,
        },
    ),
    "POST /v1/payment_intents/{id}": Probes(
        _intent_to_change,
        {
            "amount": 2000,
            "currency": "eur",
            "customer": lambda ctx: ctx["customer"],
            "description": "d",
            "metadata": {"k": "v"},
            "payment_method": "pm_card_visa",
        },
    ),
    "POST /v1/payment_intents/{id}/cancel": Probes(
        _cancelable,
        {"cancellation_reason": "duplicate"},
    ),
    "POST /v1/payment_intents/{id}/capture": Probes(
        _held, {"amount_to_capture": 500, "metadata": {"k": "v"}}
    ),
    "POST /v1/refunds": Probes(
        _refundable,
        {
            "charge": lambda ctx: ctx["other_charge"],
            "payment_intent": KEEP,
            "amount": 100,
            "reason": "duplicate",
            "metadata": {"k": "v"},
        },
    ),
    "POST /v1/refunds/{id}": Probes(_refund, {"metadata": {"k": "v"}}),
    "GET /v1/refunds": Probes(
        _two_refunds,
        {
            "charge": lambda ctx: ctx["p1"]["latest_charge"],
            "payment_intent": lambda ctx: ctx["p1"]["id"],
        },
    ),
    "POST /v1/subscriptions": Probes(
        _incomplete,
        {
            "customer": KEEP,
            "items[price]": KEEP,
            "items[quantity]": 3,
            "metadata": {"k": "v"},
            "payment_behavior=default_incomplete": KEEP,
            "payment_settings[save_default_payment_method]": "on_subscription",
        },
    ),
    "POST /v1/subscriptions/{id}": Probes(
        _subscription(),
        {
            "items[id]": KEEP,
            "items[price]": lambda ctx: ctx["price"],
            "items[quantity]": 3,
            "items[deleted]": True,
            "items[metadata]": {"k": "v"},
            "proration_behavior": "always_invoice",
            "proration_date": FROZEN + 5 * DAY,
            "payment_behavior=allow_incomplete|error_if_incomplete": Use(
                "error_if_incomplete", _subscription(failing=True)
            ),
            "cancel_at": LATER,
            "cancel_at_period_end": True,
            "cancellation_details[comment]": "too pricey",
            "cancellation_details[feedback]": "too_expensive",
            "default_payment_method": lambda ctx: ctx["card"],
            "description": "d",
            "metadata": {"k": "v"},
            "pause_collection": {"behavior": "void"},
            "trial_end": LATER,
        },
    ),
    "DELETE /v1/subscriptions/{id}": Probes(
        _to_cancel,
        {
            "invoice_now": True,
            "prorate": True,
            "cancellation_details[comment]": "too pricey",
            "cancellation_details[feedback]": "too_expensive",
        },
    ),
    "POST /v1/subscriptions/{id}/resume": Probes(
        _paused, {"billing_cycle_anchor[type]=now": "now"}
    ),
    "POST /v1/test_helpers/test_clocks": Probes(
        at("/v1/test_helpers/test_clocks", frozen_time=FROZEN),
        {"frozen_time": FROZEN + 1, "name": "n"},
    ),
    "POST /v1/test_helpers/test_clocks/{id}/advance": Probes(
        _clock, {"frozen_time": FROZEN + 40 * DAY}
    ),
}

SAME_ANSWER: dict[str, str] = {
    "GET /v1/payment_methods type=card": "every payment method here is a card",
    "GET /v1/customers/{id}/payment_methods type=card": "every payment method here is a card",
    "POST /v1/invoices collection_method=charge_automatically": "the default, the only one",
    "GET /v1/invoice_payments payment[type]=payment_intent": "the only kind of payment here",
    "POST /v1/subscriptions/{id}/resume billing_cycle_anchor[type]=now": "the default, the "
    "only one",
}
"""Honoured values that cannot change the answer: the only value the emulator has."""


# -- running a probe ----------------------------------------------------------------------------

_ID = re.compile(r"(?<![A-Za-z0-9])[a-z][a-z_]*_[A-Za-z0-9]{14,}")


def normalized(outcome: Any) -> str:
    """The outcome as JSON, each random id replaced by its rank of first appearance."""
    text = json.dumps(outcome, sort_keys=True, default=str)
    seen: dict[str, str] = {}
    return _ID.sub(lambda m: seen.setdefault(m.group(0), f"<id{len(seen)}>"), text)


def _segments(param: str) -> list[str]:
    path = param.partition("=")[0]
    head, _, rest = path.partition("[")
    return [head, *re.findall(r"([^\[\]]+)\]", "[" + rest)] if rest else [head]


def _is_list(typed: type, segments: list[str]) -> bool:
    fields = _fields(typed)
    hint: Any = None
    for i, segment in enumerate(segments):
        hint = fields[segment]
        options = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
        if i == len(segments) - 1:
            break
        nested = next((o for o in options if isinstance(o, type) and hasattr(o, "__total__")), None)
        if nested is None:
            nested = next(typing.get_args(o)[0] for o in options if typing.get_origin(o) is list)
        fields = _fields(nested)
    options = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
    return any(
        typing.get_origin(o) is list and hasattr(typing.get_args(o)[0], "__total__")
        for o in options
    )


def _node(params: dict[str, Any], typed: type, segments: list[str], make: bool) -> Any:
    """The dict that holds the last segment (inside the first element of lists)."""
    node: Any = params
    for i, segment in enumerate(segments[:-1]):
        if segment not in node:
            if not make:
                return None
            node[segment] = [{}] if _is_list(typed, segments[: i + 1]) else {}
        node = node[segment]
        if isinstance(node, list):
            node = node[0]
    return node


def outcome(route: Any, probe: Probes, param: str, value: Any, with_it: bool) -> str:
    emu = Emulator()
    emu.state.clock = FrozenClock()
    ctx: Ctx = {}
    setup = value.setup if isinstance(value, Use) else probe.setup
    path, base = setup(emu, ctx)
    params = json.loads(json.dumps(base))
    segments = _segments(param)
    holder = _node(params, route.params, segments, make=with_it)
    if holder is not None and not with_it:
        holder.pop(segments[-1], None)
    if with_it and value is not KEEP:
        given = value.value if isinstance(value, Use) else value
        holder[segments[-1]] = given(ctx) if callable(given) else given
    mark = len(emu.state.all("event"))
    try:
        result: Any = handle(emu, route.method, path or route.path, form(params))
        if probe.then is not None:
            result = [result, probe.then(emu, result)]
    except StripeError as exc:
        result = {"error": exc.status, "message": exc.message}
    events = list(reversed(emu.state.all("event")))[mark:]
    return normalized({"result": result, "events": [[e["type"], e["data"]] for e in events]})


def cases() -> list[tuple[str, str]]:
    return [
        (f"{r.method} {r.path}", text)
        for r in ROUTES
        for text in (h.text for h in r.honours)
        if text not in ("expand", "limit", "starting_after", "ending_before", "created")
    ]


def test_every_honoured_param_has_a_probe() -> None:
    probed = {(key, param) for key, probes in PROBES.items() for param in probes.values}
    assert probed == set(cases())


@pytest.mark.parametrize(("key", "param"), cases(), ids=[" ".join(c) for c in cases()])
def test_the_param_changes_the_answer(key: str, param: str) -> None:
    route = next(r for r in ROUTES if f"{r.method} {r.path}" == key)
    probe = PROBES[key]
    value = probe.values[param]
    without = outcome(route, probe, param, value, with_it=False)
    assert without == outcome(route, probe, param, value, with_it=False), "not repeatable"
    with_it = outcome(route, probe, param, value, with_it=True)
    if f"{key} {param}" in SAME_ANSWER:
        assert with_it == without
    else:
        assert with_it != without, f"{param} changed nothing"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.params is not None],
                         ids=lambda r: f"{r.method} {r.path}")  # fmt: skip
def test_a_declared_param_that_is_not_honoured_is_refused(route: Any) -> None:
    honoured = {h.segments[0] for h in route.honours}
    for name, hint in _fields(route.params).items():
        if name in honoured:
            continue
        options = typing.get_args(hint) if typing.get_origin(hint) is Union else (hint,)
        literals = [
            a for o in options if typing.get_origin(o) is Literal for a in typing.get_args(o)
        ]
        # A value the params check lets through: one of its choices, "" (Stripe's "unset"
        # for a hash), a number, or some text.
        value = next((v for v in literals if v), "" if literals else "1" if int in options else "x")
        emu = Emulator()
        with pytest.raises(StripeError) as refused:
            handle(emu, route.method, route.path, {name: value})
        assert refused.value.message.startswith(f"not emulated: {name}"), (name, refused.value)
        assert emu.state.objects == {}  # refused before anything was done
