"""The account page and its actions, played through an integration's HTTP routes.

The same scenarios run against FastAPI, Starlette and Django: each integration's
test gives an ``AccountHttp`` (its test client, signed in by name) and these
check the state before, the call, the webhook deliveries and the state after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from billing_flows import DECLINES_LATER, Flows, feed

from stripekit import StripeKit


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    location: str | None

    def json(self) -> Any:
        return json.loads(self.text)


class AccountHttp(Protocol):
    """An integration's routes, called as a signed-in user (``user``) or anonymously, on the
    platform's storefront or a connected account's (``storefront``, Connect)."""

    prefix: str
    """Where the shop's routes are mounted (``/stripe``)."""

    def get(
        self, path: str, *, user: str | None, as_json: bool = False, storefront: str | None = None
    ) -> Answer: ...

    def post(
        self,
        path: str,
        data: dict[str, Any],
        *,
        user: str | None,
        as_json: bool = False,
        cross_site: bool = False,
        storefront: str | None = None,
    ) -> Answer:
        """``cross_site``: as a browser posts from another site's page (the integration's
        own protection must refuse it: Fetch Metadata, Django's CSRF token)."""
        ...


def account_headers(
    user: str | None, as_json: bool, storefront: str | None = None
) -> dict[str, str]:
    """What a test client sends: the user rides in ``X-User`` (each test project's
    stand-in for its sign-in), the ``Accept`` header picks HTML or JSON, and
    ``X-Storefront`` (the test projects' stand-in for the storefront's host) the
    connected account their resolver answers."""
    headers = {"Accept": "application/json" if as_json else "text/html"}
    if user is not None:
        headers["X-User"] = user
    if storefront is not None:
        headers["X-Storefront"] = storefront
    return headers


def storefront_account(request: Any) -> str | None:
    """The test projects' connected-account resolver (FastAPI, Starlette and Django alike):
    the ``X-Storefront`` header as it is, so that a test can also make it answer nonsense.
    A real app maps its storefront's host (or path) to the account instead."""
    found: str | None = request.headers.get("X-Storefront")
    return found


Scenario = Callable[[AccountHttp, StripeKit, Flows], None]
SCENARIOS: dict[str, Scenario] = {}


def scenario(fn: Scenario) -> Scenario:
    SCENARIOS[fn.__name__] = fn
    return fn


def subscribe(kit: StripeKit, flows: Flows, user: str, **options: Any) -> str:
    sub = flows.subscription_of(flows.checkout(user, "pro", **options))
    feed(kit, flows)
    return sub


def account(http: AccountHttp, user: str) -> dict[str, Any]:
    answer = http.get(f"{http.prefix}/account", user=user, as_json=True)
    assert answer.status == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


@scenario
def anonymous_is_asked_to_sign_in(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    page = http.get(f"{http.prefix}/account", user=None)
    assert page.status == 401 and "sign in" in page.text
    assert http.get(f"{http.prefix}/account", user=None, as_json=True).status == 401
    sub = subscribe(kit, flows, "ada")
    posted = http.post(f"{http.prefix}/account/cancel", {"subscription": sub}, user=None)
    assert posted.status == 401
    assert flows.current("subscription", sub)["cancel_at_period_end"] is False


@scenario
def the_page_shows_what_was_bought(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    empty = http.get(f"{http.prefix}/account", user="ada")
    assert empty.status == 200 and "No subscriptions yet" in empty.text
    sub = subscribe(kit, flows, "ada")
    flows.checkout("ada", "pack", quantity=2)
    feed(kit, flows)
    found = account(http, "ada")
    (shown,) = found["subscriptions"]
    assert (shown["id"], shown["plan"], shown["status"]) == (sub, "Pro", "active")
    assert shown["amount"] == "$15.00 / month" and shown["renews_on"] and shown["can_cancel"]
    assert [c["target"] for c in shown["choices"]] == ["pro:trial", "team"]
    (purchase,) = found["purchases"]
    assert (purchase["total"], purchase["refunded"]) == ("$18.00", None)
    assert found["credits"] == 200  # 100 from the plan's first invoice, 2 packs of 50
    page = http.get(f"{http.prefix}/account", user="ada")
    assert f'id="subscription-{sub}"' in page.text and "Renews on" in page.text
    assert 'id="manage-billing"' in page.text
    # Another user sees none of it.
    assert account(http, "mallory")["subscriptions"] == []


@scenario
def cancel_at_period_end_then_resume(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    sub = subscribe(kit, flows, "bob")
    done = http.post(f"{http.prefix}/account/cancel", {"subscription": sub}, user="bob")
    assert done.status == 303 and done.location == f"{http.prefix}/account?done=cancel"
    # The page says so at once (Stripe's answer), and after the event too.
    page = http.get(f"{http.prefix}/account?done=cancel", user="bob")
    assert "Ends on" in page.text and "stays until the end of the period" in page.text
    assert 'data-action="resume"' in page.text
    assert feed(kit, flows) == ["customer.subscription.updated"]
    assert account(http, "bob")["subscriptions"][0]["cancel_scheduled"] is True
    resumed = http.post(
        f"{http.prefix}/account/resume", {"subscription": sub}, user="bob", as_json=True
    )
    assert resumed.status == 200 and resumed.json()["subscription"]["cancel_at_period_end"] is False
    feed(kit, flows)
    assert flows.current("subscription", sub)["cancel_at_period_end"] is False
    again = http.post(f"{http.prefix}/account/resume", {"subscription": sub}, user="bob")
    assert again.status == 400 and "no cancel to undo" in again.text


@scenario
def a_stranger_gets_404_and_nothing_happens(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    sub = subscribe(kit, flows, "cy")
    for action, data in (
        ("cancel", {"subscription": sub}),
        ("cancel", {"subscription": sub, "at_period_end": "false"}),
        ("resume", {"subscription": sub}),
        ("preview-change", {"subscription": sub, "plan": "team"}),
        ("change-plan", {"subscription": sub, "plan": "team"}),
        ("retry", {"invoice": flows.current("subscription", sub)["latest_invoice"]}),
    ):
        for as_json in (False, True):
            answer = http.post(
                f"{http.prefix}/account/{action}", data, user="mallory", as_json=as_json
            )
            assert answer.status == 404, (action, answer.status, answer.text[:200])
    page = http.get(f"{http.prefix}/account?change={sub}&plan=team", user="mallory")
    assert page.status == 404
    current = flows.current("subscription", sub)
    assert (current["status"], current["cancel_at_period_end"]) == ("active", False)
    assert current["items"]["data"][0]["price"]["lookup_key"] == "bill_pro_monthly"
    assert feed(kit, flows) == []  # nothing reached Stripe


@scenario
def a_plan_change_bills_its_preview(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    sub = subscribe(kit, flows, "di")
    flows.advance(10)
    feed(kit, flows)
    # The page's form shows the preview first (a GET; a form POST shows the same)...
    page = http.get(f"{http.prefix}/account?change={sub}&plan=team", user="di")
    assert page.status == 200 and "Switch to Team" in page.text and "Charged now" in page.text
    posted = http.post(
        f"{http.prefix}/account/preview-change", {"subscription": sub, "plan": "team"}, user="di"
    )
    assert posted.status == 200 and 'id="confirm-change"' in posted.text
    # ...and a JSON client gets it with its quote.
    preview = http.post(
        f"{http.prefix}/account/preview-change",
        {"subscription": sub, "plan": "team"},
        user="di",
        as_json=True,
    ).json()
    assert preview["preview"]["proration"] > 0
    assert preview["amount_due"] in page.text
    forged = {"subscription": sub, "plan": "team", "quote": preview["quote"][:-2] + "xx"}
    refused = http.post(f"{http.prefix}/account/change-plan", forged, user="di")
    assert refused.status == 400 and "preview again" in refused.text
    changed = http.post(
        f"{http.prefix}/account/change-plan",
        {"subscription": sub, "plan": "team", "quote": preview["quote"]},
        user="di",
    )
    assert changed.status == 303 and changed.location == f"{http.prefix}/account?done=change-plan"
    feed(kit, flows)
    invoice = flows.current("invoice", flows.current("subscription", sub)["latest_invoice"])
    assert invoice["amount_due"] == preview["preview"]["amount_due"]
    assert invoice["status"] == "paid"  # always_invoice: charged at once
    (state,) = account(http, "di")["subscriptions"]
    assert state["plan"] == "Team" and [c["target"] for c in state["choices"]] == [
        "pro:monthly",
        "pro:trial",
    ]


@scenario
def a_quote_is_bound_to_its_change(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    mine = subscribe(kit, flows, "eli")
    theirs = subscribe(kit, flows, "fay")
    quote = http.post(
        f"{http.prefix}/account/preview-change",
        {"subscription": theirs, "plan": "team"},
        user="fay",
        as_json=True,
    ).json()["quote"]
    # Fay's quote does not move Eli's subscription, nor to another plan.
    for data, user in (
        ({"subscription": mine, "plan": "team", "quote": quote}, "eli"),
        ({"subscription": theirs, "plan": "pro:trial", "quote": quote}, "fay"),
    ):
        answer = http.post(f"{http.prefix}/account/change-plan", data, user=user)
        assert answer.status == 400 and "another change" in answer.text
    assert flows.current("subscription", mine)["items"]["data"][0]["price"]["lookup_key"] == (
        "bill_pro_monthly"
    )


@scenario
def hostile_bodies_are_clear_errors(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    sub = subscribe(kit, flows, "gil")
    for action, data, status, words in (
        ("cancel", {}, 400, "give 'subscription'"),
        ("cancel", {"subscription": "x" * 300}, 400, "is not a sub_ id"),
        ("cancel", {"subscription": "sub_nope"}, 404, "of yours"),
        ("cancel", {"subscription": sub, "at_period_end": "maybe"}, 400, "true or false"),
        ("change-plan", {"subscription": sub}, 400, "give 'plan'"),
        ("change-plan", {"subscription": sub, "plan": "price_123"}, 400, "not a price id"),
        ("change-plan", {"subscription": sub, "plan": "gold"}, 404, "gold"),
        ("change-plan", {"subscription": sub, "plan": "book"}, 400, "one-time purchase"),
        ("change-plan", {"subscription": sub, "plan": "pro:monthly"}, 400, "on that price"),
        ("retry", {"invoice": "<script>"}, 404, "of yours"),
    ):
        answer = http.post(f"{http.prefix}/account/{action}", data, user="gil", as_json=True)
        assert answer.status == status, (action, data, answer.text)
        assert words in answer.json()["error"], (action, answer.text)
    for action in ("cancel", "change-plan", "retry"):
        data = {"subscription": sub, "plan": "team", "invoice": "in_x"}
        cross = http.post(f"{http.prefix}/account/{action}", data, user="gil", cross_site=True)
        assert cross.status == 403, (action, cross.text[:200])
    assert flows.current("subscription", sub)["cancel_at_period_end"] is False


@scenario
def a_failed_renewal_is_retried(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    sub = subscribe(kit, flows, "hal", price="trial", card=DECLINES_LATER)
    trial = account(http, "hal")["subscriptions"][0]
    assert trial["status"] == "trialing" and trial["trial_ends"] and trial["renews_on"] is None
    flows.advance(8)  # the trial ends; the renewal is declined
    feed(kit, flows)
    (state,) = account(http, "hal")["subscriptions"]
    assert state["status"] == "past_due" and state["open_invoice"]
    page = http.get(f"{http.prefix}/account", user="hal")
    assert "The last payment failed" in page.text and 'data-action="retry"' in page.text
    declined = http.post(
        f"{http.prefix}/account/retry", {"invoice": state["open_invoice"]}, user="hal"
    )
    assert declined.location == f"{http.prefix}/account?done=retry-open"
    # A new card (what the portal does), then the retry goes through.
    customer = flows.current("subscription", sub)["customer"]
    card = flows.client.v1.payment_methods.attach("pm_card_visa", {"customer": customer})
    flows.client.v1.subscriptions.update(sub, {"default_payment_method": card.id})
    paid = http.post(
        f"{http.prefix}/account/retry", {"invoice": state["open_invoice"]}, user="hal", as_json=True
    )
    assert paid.json() == {"invoice": state["open_invoice"], "status": "paid"}
    feed(kit, flows)
    (state,) = account(http, "hal")["subscriptions"]
    assert state["status"] == "active" and state["open_invoice"] is None


@scenario
def a_refund_shows_on_the_page(http: AccountHttp, kit: StripeKit, flows: Flows) -> None:
    session = flows.checkout("ivy", "book")
    feed(kit, flows)
    kit.billing.refund(session, amount=500)  # the shop's admin refunds part of it
    feed(kit, flows)
    (purchase,) = account(http, "ivy")["purchases"]
    assert purchase["refunded"] == "$5.00" and not purchase["fully_refunded"]
    kit.billing.refund(session)
    feed(kit, flows)
    page = http.get(f"{http.prefix}/account", user="ivy")
    assert 'data-role="refunded">refunded' in page.text


@scenario
def the_portal_opens_for_the_linked_customer(
    http: AccountHttp, kit: StripeKit, flows: Flows
) -> None:
    none_yet = http.post(f"{http.prefix}/portal", {}, user="jo")
    assert none_yet.status == 401 and "once you have bought something" in none_yet.text
    subscribe(kit, flows, "jo")
    opened = http.post(f"{http.prefix}/portal", {}, user="jo")
    assert opened.status == 303 and opened.location is not None
    assert "/p/session/bps_" in opened.location
    # The portal's "Return" leads back to the account page.
    portal = httpx.get(opened.location)
    assert 'href="http://shop.test/stripe/account" id="return"' in portal.text
