"""Triggering an event: drive a running emulator through the real flow that makes it.

What Stripe CLI's ``stripe trigger`` does, offline: ``invoice.payment_failed``
makes a product, a price, a subscription paid through the hosted page, saves
the card that declines later as its default and moves the clock a month on.
The events that follow are the ones the flow really makes, consistent with
each other, and every object they name can be fetched. ``overrides`` set
params of a step's request (``checkout_session:metadata.order=42``); without a
step, of the flow's main one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["FLOWS", "Override", "TriggerError", "trigger"]

_DAY = 86400


class TriggerError(Exception):
    """The flow could not run: the message says what to fix."""


@dataclass(frozen=True)
class Override:
    """``[step:]path=value``: set ``path`` (``metadata.order`` or ``metadata[order]``) in a
    step's request."""

    step: str | None
    path: tuple[str, ...]
    value: str

    @classmethod
    def parse(cls, text: str) -> Override:
        """``checkout_session:metadata.order=42`` → step, path, value; TriggerError if malformed."""
        where, sep, value = text.partition("=")
        step, colon, path = where.rpartition(":")
        parts = tuple(p for p in re.split(r"[.\[\]]+", path) if p)
        if not sep or not parts or (colon and not step):
            raise TriggerError(
                f"--override {text!r}: write [step:]path=value, e.g. metadata.order=42 or "
                "checkout_session:metadata.order=42"
            )
        return cls(step or None, parts, value)


@dataclass(frozen=True)
class Flow:
    """How to make some events happen: a function of a driver, and its main step."""

    run: Callable[[_Driver], None]
    main: str
    steps: tuple[str, ...]

    @property
    def description(self) -> str:
        """What the flow does, in a sentence (its function's docstring)."""
        return " ".join((self.run.__doc__ or "").split())


FLOWS: dict[str, Flow] = {}
"""Event type → the flow that makes it."""


def _flow(*types: str, main: str, steps: tuple[str, ...]) -> Callable[[Callable[..., None]], Any]:
    def register(run: Callable[[_Driver], None]) -> Callable[[_Driver], None]:
        for event_type in types:
            FLOWS[event_type] = Flow(run, main, steps)
        return run

    return register


def trigger(
    api_base: str, event_type: str, overrides: list[Override] | None = None
) -> list[dict[str, Any]]:
    """Run the flow that makes ``event_type`` on the emulator at ``api_base``; the events made.

    Raises TriggerError for an event no flow makes, a server that is not the
    emulator, an override of an unknown step, or a request the emulator refuses.
    """
    import httpx

    flow = FLOWS.get(event_type)
    if flow is None:
        raise TriggerError(
            f"no flow makes {event_type!r}; the emulator triggers: {', '.join(sorted(FLOWS))}"
        )
    overrides = overrides or []
    for override in overrides:
        if override.step is not None and override.step not in flow.steps:
            raise TriggerError(
                f"--override {override.step}:...: the {event_type} flow's steps are "
                f"{', '.join(flow.steps)}"
            )
    base = api_base.rstrip("/")
    try:
        probe = httpx.get(f"{base}/_emulator/deliveries", timeout=5)
    except httpx.HTTPError as exc:
        raise TriggerError(f"cannot reach the emulator at {base}: {exc}") from None
    if probe.status_code != 200:
        raise TriggerError(
            f"{base} is not the stripekit emulator (trigger drives its hosted page and its "
            "clock): start one with `stripekit emulator --forward-to URL --webhook-secret ...`"
        )
    with _Driver(base, overrides, flow.main) as driver:
        before = driver.newest_event()
        flow.run(driver)
        made = driver.events_since(before)
    if event_type not in [e["type"] for e in made]:
        raise TriggerError(f"the {event_type} flow ran but made no {event_type} event")
    return made


class _Driver:
    """Talks to the emulator as an app and a buyer would (the API, the hosted page, the clock)."""

    def __init__(self, base: str, overrides: list[Override], main: str) -> None:
        import httpx

        self.base = base
        self.overrides = overrides
        self.main = main
        self.http = httpx.Client(
            base_url=base,
            headers={"Authorization": "Bearer sk_test_stripekit_trigger"},
            timeout=30,
        )

    def __enter__(self) -> _Driver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    # -- the API -----------------------------------------------------------------------------

    def call(
        self, method: str, path: str, step: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """One request; a step's overrides go into its params. TriggerError if refused."""
        declines = bool(params.pop("_declines", False))  # a decline is what the flow wants
        if step is not None:
            for override in self.overrides:
                if (override.step or self.main) == step:
                    node = params
                    for part in override.path[:-1]:
                        node = node.setdefault(part, {})
                    node[override.path[-1]] = override.value
        pairs = _form(params)
        if method == "GET":
            answer = self.http.get(path, params=urlencode(pairs))
        else:
            answer = self.http.request(
                method,
                path,
                content=urlencode(pairs),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        body: dict[str, Any] = answer.json()
        if answer.status_code >= 400 and not declines:
            raise TriggerError(f"{method} {path}: {body['error']['message']}")
        return body

    def newest_event(self) -> str | None:
        data = self.call("GET", "/v1/events", limit=1)["data"]
        return data[0]["id"] if data else None

    def events_since(self, newest: str | None) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = self.call("GET", "/v1/events", **params)
            for event in page["data"]:
                if event["id"] == newest:
                    return list(reversed(made))
                made.append(event)
            if not page["has_more"]:
                return list(reversed(made))
            params["starting_after"] = page["data"][-1]["id"]

    # -- building blocks ---------------------------------------------------------------------

    def price(self, *, recurring: bool, amount: int = 2000) -> str:
        product = self.call("POST", "/v1/products", "product", name="Triggered product")
        params: dict[str, Any] = {
            "product": product["id"],
            "currency": "usd",
            "unit_amount": amount,
        }
        if recurring:
            params["recurring"] = {"interval": "month"}
        return str(self.call("POST", "/v1/prices", "price", **params)["id"])

    def customer(self) -> str:
        return str(self.call("POST", "/v1/customers", "customer", email="jenny@example.com")["id"])

    def checkout(
        self, mode: str, *, card: str = "4242424242424242", **extra: Any
    ) -> dict[str, Any]:
        """A Checkout Session paid (or set up) on the hosted page, 3-D Secure completed."""
        if mode != "setup":
            extra["line_items"] = [{"price": self.price(recurring=mode == "subscription")}]
            extra.setdefault("customer_email", "jenny@example.com")
        session = self.call(
            "POST",
            "/v1/checkout/sessions",
            "checkout_session",
            mode=mode,
            success_url="https://example.com/success",
            **extra,
        )
        form = {"card_number": card, "name": "Jenny Rosen"}
        answer = self.http.post(session["url"], data=form)
        if answer.status_code == 200 and "3D Secure" in answer.text:
            answer = self.http.post(session["url"], data={**form, "three_d_secure": "complete"})
        if answer.status_code != 303:
            raise TriggerError(f"the hosted page refused the payment (HTTP {answer.status_code})")
        return self.call("GET", f"/v1/checkout/sessions/{session['id']}")

    def subscription(self, **extra: Any) -> dict[str, Any]:
        session = self.checkout("subscription", **extra)
        return self.call("GET", f"/v1/subscriptions/{session['subscription']}")

    def payment(self, card: str = "pm_card_visa", **extra: Any) -> dict[str, Any]:
        return self.call(
            "POST",
            "/v1/payment_intents",
            "payment_intent",
            amount=2000,
            currency="usd",
            payment_method=card,
            confirm=True,
            **extra,
        )

    def update_subscription(self, sub: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.call("POST", f"/v1/subscriptions/{sub['id']}", "subscription", **params)

    def default_card(self, sub: dict[str, Any], token: str) -> None:
        """A test card saved to the subscription's customer and made its default."""
        card = self.call(
            "POST",
            f"/v1/payment_methods/{token}/attach",
            "payment_method",
            customer=sub["customer"],
        )
        self.update_subscription(sub, default_payment_method=card["id"])

    def advance(self, days: int) -> None:
        answer = self.http.post("/_emulator/clock", data={"days": str(days)})
        if answer.status_code != 200:
            raise TriggerError(f"the emulator's clock did not move: {answer.text}")


def _form(params: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: ``a[b][0][c]=1``."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs += _form(value, name)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    pairs += _form(item, f"{name}[{i}]")
                else:
                    pairs.append((f"{name}[{i}]", str(item)))
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, str(value)))
    return pairs


# -- the flows ----------------------------------------------------------------------------------

_CATALOG = ("product", "price")


@_flow("product.created", "price.created", main="product", steps=_CATALOG)
def _catalog(d: _Driver) -> None:
    """A product and its price."""
    d.price(recurring=False)


@_flow("product.updated", main="product_update", steps=("product", "product_update"))
def _product_updated(d: _Driver) -> None:
    """A product, then its description changed."""
    made = d.call("POST", "/v1/products", "product", name="Triggered product")
    d.call("POST", f"/v1/products/{made['id']}", "product_update", description="Updated")


@_flow("product.deleted", main="product", steps=("product",))
def _product_deleted(d: _Driver) -> None:
    """A product (no price), then deleted."""
    made = d.call("POST", "/v1/products", "product", name="Triggered product")
    d.call("DELETE", f"/v1/products/{made['id']}")


@_flow("price.updated", main="price_update", steps=(*_CATALOG, "price_update"))
def _price_updated(d: _Driver) -> None:
    """A product and its price, then the price's nickname changed."""
    price = d.price(recurring=False)
    d.call("POST", f"/v1/prices/{price}", "price_update", nickname="Updated")


@_flow("customer.created", main="customer", steps=("customer",))
def _customer(d: _Driver) -> None:
    """A customer."""
    d.customer()


@_flow("customer.updated", main="customer_update", steps=("customer", "customer_update"))
def _customer_updated(d: _Driver) -> None:
    """A customer, then its name changed."""
    d.call("POST", f"/v1/customers/{d.customer()}", "customer_update", name="Jenny Rosen")


@_flow("customer.deleted", main="customer", steps=("customer",))
def _customer_deleted(d: _Driver) -> None:
    """A customer, then deleted."""
    d.call("DELETE", f"/v1/customers/{d.customer()}")


_CHECKOUT = (*_CATALOG, "checkout_session")


@_flow(
    "checkout.session.completed",
    "payment_intent.created",
    "payment_intent.succeeded",
    main="checkout_session",
    steps=_CHECKOUT,
)
def _paid_checkout(d: _Driver) -> None:
    """A one-time price, a payment-mode Checkout Session paid on the hosted page."""
    d.checkout("payment")


@_flow("checkout.session.expired", main="checkout_session", steps=_CHECKOUT)
def _expired_checkout(d: _Driver) -> None:
    """A Checkout Session, then expired."""
    session = d.call(
        "POST",
        "/v1/checkout/sessions",
        "checkout_session",
        mode="payment",
        line_items=[{"price": d.price(recurring=False)}],
        success_url="https://example.com/success",
    )
    d.call("POST", f"/v1/checkout/sessions/{session['id']}/expire")


@_flow(
    "setup_intent.created",
    "setup_intent.succeeded",
    main="checkout_session",
    steps=("customer", "checkout_session"),
)
def _setup_checkout(d: _Driver) -> None:
    """A customer and a setup-mode Checkout Session: a card saved."""
    d.checkout("setup", customer=d.customer(), currency="usd")


_INTENT = ("payment_intent",)


@_flow("payment_intent.payment_failed", main="payment_intent", steps=_INTENT)
def _declined(d: _Driver) -> None:
    """A payment intent confirmed with a declined card."""
    d.payment("pm_card_chargeDeclined", _declines=True)


@_flow("payment_intent.canceled", main="payment_intent", steps=_INTENT)
def _canceled(d: _Driver) -> None:
    """A payment intent, then canceled."""
    made = d.call("POST", "/v1/payment_intents", "payment_intent", amount=2000, currency="usd")
    d.call("POST", f"/v1/payment_intents/{made['id']}/cancel")


@_flow("payment_intent.requires_action", main="payment_intent", steps=_INTENT)
def _requires_action(d: _Driver) -> None:
    """A payment intent confirmed with the 3-D Secure card (not authenticated)."""
    d.payment("pm_card_authenticationRequiredOnSetup")


@_flow("payment_intent.amount_capturable_updated", main="payment_intent", steps=_INTENT)
def _held(d: _Driver) -> None:
    """A payment intent with capture_method=manual, confirmed: the amount is held."""
    d.payment(capture_method="manual")


@_flow("charge.refunded", "refund.created", main="refund", steps=(*_INTENT, "refund"))
def _refunded(d: _Driver) -> None:
    """A payment, then refunded."""
    d.call("POST", "/v1/refunds", "refund", payment_intent=d.payment()["id"])


@_flow("refund.updated", main="refund_update", steps=(*_INTENT, "refund", "refund_update"))
def _refund_updated(d: _Driver) -> None:
    """A payment, refunded, then the refund's metadata changed."""
    refund = d.call("POST", "/v1/refunds", "refund", payment_intent=d.payment()["id"])
    d.call("POST", f"/v1/refunds/{refund['id']}", "refund_update", metadata={"note": "updated"})


@_flow(
    "charge.dispute.created",
    "charge.dispute.funds_withdrawn",
    main="payment_intent",
    steps=_INTENT,
)
def _disputed(d: _Driver) -> None:
    """A payment with the dispute card."""
    d.payment("pm_card_createDispute")


@_flow(
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_reinstated",
    main="dispute",
    steps=(*_INTENT, "dispute"),
)
def _dispute_won(d: _Driver) -> None:
    """A payment with the dispute card, then winning evidence submitted."""
    intent = d.payment("pm_card_createDispute")
    dispute = d.call("GET", "/v1/disputes", payment_intent=intent["id"])["data"][0]
    d.call(
        "POST",
        f"/v1/disputes/{dispute['id']}",
        "dispute",
        evidence={"uncategorized_text": "winning_evidence"},
    )


_SUBSCRIPTION = (*_CHECKOUT, "subscription")


@_flow(
    "customer.subscription.created",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    main="checkout_session",
    steps=_CHECKOUT,
)
def _subscribed(d: _Driver) -> None:
    """A monthly price, a subscription paid through Checkout."""
    d.subscription()


@_flow("customer.subscription.updated", main="subscription", steps=_SUBSCRIPTION)
def _subscription_updated(d: _Driver) -> None:
    """A subscription, then its metadata changed."""
    d.update_subscription(d.subscription(), metadata={"plan": "changed"})


@_flow("invoiceitem.created", main="subscription", steps=_SUBSCRIPTION)
def _prorated(d: _Driver) -> None:
    """A subscription, then its quantity raised: prorations wait as invoice items."""
    sub = d.subscription()
    d.update_subscription(sub, items=[{"id": sub["items"]["data"][0]["id"], "quantity": 2}])


@_flow("customer.subscription.deleted", main="subscription", steps=_SUBSCRIPTION)
def _subscription_deleted(d: _Driver) -> None:
    """A subscription, then canceled at once."""
    sub = d.subscription()
    d.call("DELETE", f"/v1/subscriptions/{sub['id']}", "subscription")


@_flow("customer.subscription.trial_will_end", main="checkout_session", steps=_CHECKOUT)
def _trial_ending(d: _Driver) -> None:
    """A subscription with a 7-day trial, then the clock 4 days on."""
    d.subscription(subscription_data={"trial_period_days": 7})
    d.advance(4)


@_flow(
    "customer.subscription.paused",
    "customer.subscription.resumed",
    main="subscription",
    steps=(*_SUBSCRIPTION, "payment_method"),
)
def _paused_then_resumed(d: _Driver) -> None:
    """A trial without a card that pauses at its end (clock 4 days on), then a card saved
    as its default and the subscription resumed."""
    sub = d.subscription(
        card="",
        payment_method_collection="if_required",
        subscription_data={
            "trial_period_days": 3,
            "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
        },
    )
    d.advance(4)
    d.default_card(sub, "pm_card_visa")
    d.call("POST", f"/v1/subscriptions/{sub['id']}/resume")


@_flow("invoice.payment_failed", main="subscription", steps=(*_SUBSCRIPTION, "payment_method"))
def _renewal_failed(d: _Driver) -> None:
    """A subscription, then the card that declines later saved as its default and the
    clock a month on: the renewal fails."""
    d.default_card(d.subscription(), "pm_card_chargeCustomerFail")
    d.advance(32)


@_flow("invoice.marked_uncollectible", main="subscription", steps=_SUBSCRIPTION)
def _uncollectible(d: _Driver) -> None:
    """A subscription whose collection is paused (mark_uncollectible), then the clock a month on."""
    d.update_subscription(d.subscription(), pause_collection={"behavior": "mark_uncollectible"})
    d.advance(32)


@_flow("invoice.voided", main="subscription", steps=_SUBSCRIPTION)
def _voided(d: _Driver) -> None:
    """A subscription whose collection is paused (void), then the clock a month on."""
    d.update_subscription(d.subscription(), pause_collection={"behavior": "void"})
    d.advance(32)


@_flow(
    "test_helpers.test_clock.created",
    "test_helpers.test_clock.advancing",
    "test_helpers.test_clock.ready",
    main="test_clock",
    steps=("test_clock",),
)
def _test_clock(d: _Driver) -> None:
    """A test clock, then advanced a day."""
    now = int(time.time())
    clock = d.call("POST", "/v1/test_helpers/test_clocks", "test_clock", frozen_time=now)
    d.call("POST", f"/v1/test_helpers/test_clocks/{clock['id']}/advance", frozen_time=now + _DAY)
