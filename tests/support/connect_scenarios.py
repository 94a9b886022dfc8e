"""Connect through an integration's ready-made routes: a platform and two connected accounts.

The same scenarios run against FastAPI, Starlette and Django (each test_account.py
gives its ``AccountHttp``, whose app resolves the request's connected account
from ``X-Storefront``: ``account_scenarios.storefront_account``). The emulator
keeps the accounts apart and delivers the connected accounts' events to a
Connect endpoint; ``feed`` hands them to the kit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import stripe
from account_scenarios import AccountHttp
from billing_flows import Flows, feed

from stripekit import StripeKit

Scenario = Callable[[AccountHttp, StripeKit, Flows], None]
CONNECT_SCENARIOS: dict[str, Scenario] = {}

USER = "ada"


def scenario(fn: Scenario) -> Scenario:
    CONNECT_SCENARIOS[fn.__name__] = fn
    return fn


def buy(http: AccountHttp, kit: StripeKit, flows: Flows, product: str, where: str | None) -> str:
    """A checkout through the shop's own route on ``where``'s storefront, paid on the hosted
    page, its events delivered; the session's id."""
    made = http.post(
        f"{http.prefix}/checkout", {"product": product}, user=USER, as_json=True, storefront=where
    )
    assert made.status == 200, made.text
    found = made.json()
    flows.pay(found["url"])
    feed(kit, flows)
    return str(found["id"])


def page(http: AccountHttp, where: str | None) -> dict[str, Any]:
    answer = http.get(f"{http.prefix}/account", user=USER, as_json=True, storefront=where)
    assert answer.status == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def missing(flows: Flows, kind: str, object_id: str, account: str | None) -> bool:
    """Whether ``account`` (None: the platform) has no such object (Stripe's 404)."""
    try:
        flows.current(kind, object_id, account)
    except stripe.InvalidRequestError:
        return True
    return False


def subscribed_everywhere(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> tuple[list[str | None], dict[str | None, str]]:
    """The platform and two connected accounts, a Pro subscription bought on each
    storefront (connected accounts first); the accounts and each one's subscription."""
    accounts: list[str | None] = [*flows.connect(), None]
    subs = {where: flows.subscription_of(buy(http, kit, flows, "pro", where), where)
            for where in accounts}  # fmt: skip
    return accounts, subs


@scenario
def checkout_in_each_account_then_each_page_shows_its_own(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    accounts, subs = subscribed_everywhere(http, kit, flows)
    a, b, _ = accounts
    # Each session, subscription and customer lives in its own account only.
    for where, sub in subs.items():
        assert [missing(flows, "subscription", sub, other) for other in accounts] == [
            other != where for other in accounts
        ]
    # The connected accounts' events came through the Connect endpoint, with their account.
    sent = {json.loads(body).get("account") for body, _ in flows.events}
    assert sent == {a, b, None}
    customers = {}
    for where in accounts:
        (mirrored,) = kit.billing.subscriptions(USER, account=where)
        assert (mirrored.id, mirrored.account, mirrored.status) == (subs[where], where, "active")
        shown = page(http, where)
        assert [s["id"] for s in shown["subscriptions"]] == [subs[where]]
        assert shown["customer"] == kit.linked_customer(USER, where)
        assert shown["credits"] == 100  # the plan's first invoice, in this account's ledger
        customers[where] = shown["customer"]
        html = http.get(f"{http.prefix}/account", user=USER, storefront=where).text
        assert [f'id="subscription-{s}"' in html for s in subs.values()] == [
            other == where for other in subs
        ]
    assert len(set(customers.values())) == 3

    # A second checkout on a's storefront reuses a's customer, and stays in a's state.
    pack = buy(http, kit, flows, "pack", a)
    assert flows.current("session", pack, a)["customer"] == customers[a]
    assert [p["id"] for p in page(http, a)["purchases"]] == [pack]
    assert page(http, b)["purchases"] == [] and page(http, None)["purchases"] == []
    assert (page(http, a)["credits"], page(http, b)["credits"]) == (150, 100)

    # The success page reads the session where it was made; elsewhere it is unknown.
    success = f"{http.prefix}/success?session_id={pack}"
    shown_there = http.get(success, user=USER, storefront=a)
    assert shown_there.status == 200 and 'id="status">paid' in shown_there.text
    assert http.get(success, user=USER, storefront=b).status == 404
    assert http.get(success, user=USER).status == 404

    # The portal opens for the user's customer of the storefront's account.
    for where in accounts:
        opened = http.post(f"{http.prefix}/portal", {}, user=USER, storefront=where)
        assert opened.status == 303 and opened.location is not None, opened.text
        listed = httpx.get(opened.location).text
        assert [f'id="{s}"' in listed for s in subs.values()] == [o == where for o in subs]


@scenario
def an_action_on_another_accounts_row_is_a_404_and_changes_nothing(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    accounts, subs = subscribed_everywhere(http, kit, flows)
    a, b, _ = accounts
    invoice_b = flows.current("subscription", subs[b], b)["latest_invoice"]
    before = {where: flows.current("subscription", sub, where) for where, sub in subs.items()}
    # On a's storefront, b's subscription and the platform's are not the user's.
    for other in (b, None):
        sub = subs[other]
        for action, data in (
            ("cancel", {"subscription": sub}),
            ("cancel", {"subscription": sub, "at_period_end": "false"}),
            ("resume", {"subscription": sub}),
            ("preview-change", {"subscription": sub, "plan": "team"}),
            ("change-plan", {"subscription": sub, "plan": "team"}),
            ("retry", {"invoice": invoice_b}),
        ):
            for as_json in (False, True):
                answer = http.post(
                    f"{http.prefix}/account/{action}", data, user=USER, as_json=as_json,
                    storefront=a,
                )  # fmt: skip
                assert answer.status == 404, (other, action, answer.status, answer.text[:200])
        preview = http.get(f"{http.prefix}/account?change={sub}&plan=team", user=USER, storefront=a)
        assert preview.status == 404
    # And the platform's storefront refuses a's subscription, as it always did.
    refused = http.post(f"{http.prefix}/account/cancel", {"subscription": subs[a]}, user=USER)
    assert refused.status == 404
    # Nothing reached Stripe, nothing moved in the mirror.
    assert feed(kit, flows) == []
    for where, sub in subs.items():
        assert flows.current("subscription", sub, where) == before[where]
        (mirrored,) = kit.billing.subscriptions(USER, account=where)
        assert (mirrored.cancel_at_period_end, mirrored.status) == (False, "active")

    # a's own subscription, on a's storefront: cancelled in a, and only there.
    done = http.post(
        f"{http.prefix}/account/cancel", {"subscription": subs[a]}, user=USER, storefront=a
    )
    assert done.status == 303 and done.location == f"{http.prefix}/account?done=cancel"
    assert feed(kit, flows) == ["customer.subscription.updated"]
    assert json.loads(flows.events[-1][0])["account"] == a
    assert flows.current("subscription", subs[a], a)["cancel_at_period_end"] is True
    assert page(http, a)["subscriptions"][0]["cancel_scheduled"] is True
    for other in (b, None):
        assert flows.current("subscription", subs[other], other)["cancel_at_period_end"] is False
        assert page(http, other)["subscriptions"][0]["cancel_scheduled"] is False


@contextmanager
def logged(name: str = "stripekit") -> Iterator[list[logging.LogRecord]]:
    """The records the kit's loggers emit inside the block."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@scenario
def a_malformed_account_is_a_configuration_error(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    (a,) = flows.connect(1)
    feed(kit, flows)  # what making the account sent
    sessions = len(flows.client.v1.checkout.sessions.list().data)
    intents = len(flows.client.v1.payment_intents.list().data)
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/account", {}),
        ("GET", "/pay?product=book", {}),
        ("GET", "/checkout/embedded?product=book", {}),
        ("GET", "/success?session_id=cs_test_a1", {}),
        ("GET", "/pay/return?payment_intent=pi_a1", {}),
        ("POST", "/checkout", {"product": "book"}),
        ("POST", "/checkout/embedded", {"product": "book"}),
        ("POST", "/pay/intent", {"product": "book"}),
        ("POST", "/portal", {}),
        ("POST", "/account/cancel", {"subscription": "sub_1"}),
    ]
    # Not an account id, the platform's account by name, an id with a stray character,
    # another object's id: each is the app's mistake, never "the platform" instead.
    for wrong in ("acme", "", "acct_", "platform", f"{a}!", "cus_123", "acct_1;2"):
        for method, path, data in calls:
            with logged() as records:
                if method == "GET":
                    answer = http.get(http.prefix + path, user=USER, as_json=True, storefront=wrong)
                else:
                    answer = http.post(
                        http.prefix + path, data, user=USER, as_json=True, storefront=wrong
                    )
            assert answer.status == 500, (wrong, path, answer.status, answer.text[:200])
            # The buyer (a JSON client, or a page's reader) is told no more; the log says
            # what to fix.
            assert "the shop is not configured correctly" in answer.text
            assert "returned" not in answer.text
            (record,) = [r for r in records if "connected_account" in r.getMessage()
                         or "CONNECTED_ACCOUNT" in r.getMessage()]  # fmt: skip
            message = record.getMessage()
            assert f"returned {wrong!r}" in message and "acct_" in message, message
    # Nothing was made in Stripe on anyone's behalf.
    assert len(flows.client.v1.checkout.sessions.list().data) == sessions
    assert len(flows.client.v1.payment_intents.list().data) == intents
    assert feed(kit, flows) == []


def confirm_in_browser(
    flows: Flows, intent: str, secret: str, account: str | None
) -> httpx.Response:
    """What Stripe.js sends to confirm a payment with the publishable key (a connected
    account's as ``_stripe_account``, what ``Stripe(key, {stripeAccount})`` adds)."""
    data = {"key": "pk_test_browser", "client_secret": secret, "payment_method": "pm_card_visa",
            "return_url": "http://shop.test/stripe/pay/return"}  # fmt: skip
    if account is not None:
        data["_stripe_account"] = account
    return httpx.post(f"{flows.emulator.api_base}/v1/payment_intents/{intent}/confirm", data=data)


@scenario
def in_page_payments_are_made_in_the_storefronts_account(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    a, b = flows.connect()
    # The Payment Element's page loads Stripe.js for the storefront's account.
    shown = http.get(f"{http.prefix}/pay?product=book", user=USER, storefront=a)
    assert shown.status == 200 and "stripeAccount" in shown.text and a in shown.text
    platform_page = http.get(f"{http.prefix}/pay?product=book", user=USER)
    assert platform_page.status == 200 and a not in platform_page.text
    embedded = http.get(f"{http.prefix}/checkout/embedded?product=book", user=USER, storefront=b)
    assert embedded.status == 200 and b in embedded.text

    made = http.post(
        f"{http.prefix}/pay/intent", {"product": "book"}, user=USER, as_json=True, storefront=a
    )
    assert made.status == 200, made.text
    intent, secret = made.json()["id"], made.json()["client_secret"]
    assert missing(flows, "payment_intent", intent, None)
    assert flows.current("payment_intent", intent, a)["amount"] == 1900
    # Stripe.js without the account cannot find it; with it, the card pays.
    assert confirm_in_browser(flows, intent, secret, None).status_code == 404
    paid = confirm_in_browser(flows, intent, secret, a)
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded", paid.text
    feed(kit, flows)
    (bought,) = kit.billing.purchases(USER, account=a)
    assert (bought.account, bought.status) == (a, "paid")
    assert kit.billing.purchases(USER) == [] and kit.billing.purchases(USER, account=b) == []
    # The customer the intent made for the user is a's, and the page reuses it next time.
    customer = flows.current("payment_intent", intent, a)["customer"]
    assert kit.linked_customer(USER, a) == customer and kit.linked_customer(USER) is None
    back = f"{http.prefix}/pay/return?payment_intent={intent}"
    returned = http.get(back, user=USER, storefront=a)
    assert returned.status == 200 and 'id="status">paid' in returned.text
    assert http.get(back, user=USER).status == 404
    again = http.post(
        f"{http.prefix}/pay/intent", {"product": "book"}, user=USER, as_json=True, storefront=a
    ).json()["id"]
    assert flows.current("payment_intent", again, a)["customer"] == customer

    # A subscription paid in the page, and an embedded Checkout, on b's storefront: in b.
    first = http.post(
        f"{http.prefix}/pay/intent", {"product": "team"}, user=USER, as_json=True, storefront=b
    )
    assert first.status == 200, first.text
    assert missing(flows, "payment_intent", first.json()["id"], None)
    (sub,) = flows.client.v1.subscriptions.list(
        {"status": "incomplete"}, {"stripe_account": b}
    ).data
    assert sub["items"]["data"][0]["price"]["lookup_key"] == "bill_team_monthly"
    assert flows.client.v1.subscriptions.list({"status": "all"}).data == []
    session = http.post(
        f"{http.prefix}/checkout/embedded", {"product": "book"}, user=USER, as_json=True,
        storefront=b,
    )  # fmt: skip
    assert session.status == 200, session.text
    found = flows.current("session", session.json()["id"], b)
    assert found["ui_mode"] == "embedded_page"
    assert missing(flows, "session", session.json()["id"], None)
