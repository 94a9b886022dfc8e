"""The billing state in a Django project: checkouts on the emulator, events through the view.

The kit's mirror handlers run first, in the same transaction as the project's
handlers and the event's status: a project handler reading ``kit.billing`` sees
what the event produced, and one that raises rolls it back with the event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from billing_flows import Flows
from django.test import Client

from stripekit import EventStatus
from stripekit.emulator import RunningEmulator
from stripekit.testing import sign_payload
from stripekit_django import get_kit
from stripekit_django.models import BillingPurchase, BillingSubscription
from stripekit_django.signals import stripe_event

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec_django_shop"


@pytest.fixture
def flows(stripekit_settings: dict[str, Any], stripe_emulator: RunningEmulator) -> Iterator[Flows]:
    """Checkouts on the emulator whose events are caught, to be delivered to the view."""
    made = Flows(stripe_emulator, Path(stripekit_settings["PRODUCTS"]))
    yield made
    made.close()


def deliver(client: Client, body: bytes) -> Any:
    """A delivery to the project's webhook view, signed with its secret."""
    return client.post(
        "/stripe/webhook", body, content_type="application/json",
        headers={"Stripe-Signature": sign_payload(body, SECRET)},
    )  # fmt: skip


def test_a_subscription_checkout_reaches_kit_billing(flows: Flows, client: Client) -> None:
    session = flows.checkout("42", "pro")
    for body, _ in flows.events:
        assert deliver(client, body).status_code == 200
    billing = get_kit().billing
    assert billing.is_subscribed("42", "pro")
    assert "pro" in billing.entitlements("42")
    [subscription] = billing.subscriptions("42")
    assert subscription.id == flows.subscription_of(session)
    row = BillingSubscription.objects.get(id=subscription.id)
    assert row.status == "active" and row.customer == subscription.customer
    assert not billing.is_subscribed("43")


def test_a_handler_that_raises_rolls_the_billing_state_back_with_the_event(
    flows: Flows, client: Client
) -> None:
    session = flows.checkout("42", "book", email="ada@example.com")
    seen: list[bool] = []
    broken = [True]

    def mailer(sender: Any, event: Any, event_type: str, **kwargs: Any) -> None:
        if event_type == "checkout.session.completed":
            # After the kit's own handlers, in the same transaction: the purchase is there.
            seen.append(get_kit().billing.has_purchased("42", "book"))
            if broken[0]:
                raise RuntimeError("the mailer is down")

    stripe_event.connect(mailer)
    try:
        completed = [body for body, kind in flows.events if kind == "checkout.session.completed"]
        assert len(completed) == 1
        for body, _ in flows.events:
            assert deliver(client, body).status_code == (500 if body in completed else 200)
        assert seen == [True]
        assert not get_kit().billing.has_purchased("42", "book")
        assert not BillingPurchase.objects.filter(id=session).exists()
        event_id = get_kit().store.list(type="checkout.session.completed")[0].id
        assert get_kit().store.get(event_id).status is EventStatus.FAILED  # type: ignore[union-attr]

        broken[0] = False  # the mailer is back: Stripe's next delivery goes through
        assert deliver(client, completed[0]).json()["status"] == "processed"
    finally:
        stripe_event.disconnect(mailer)
    assert seen == [True, True]
    [purchase] = get_kit().billing.purchases("42")
    assert (purchase.id, purchase.status, purchase.products) == (session, "paid", ("book",))
    assert get_kit().billing.has_purchased("42", "book")


def test_manage_py_stripekit_billing_sync_repairs_the_mirror(
    flows: Flows, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import ManagementUtility, call_command

    sub = flows.subscription_of(flows.checkout("42", "pro"))  # no event reaches the project
    call_command("stripekit_billing", "sync")
    out = capsys.readouterr().out
    assert f"subscription {sub}: new" in out.splitlines()
    assert "change(s) to the billing state in the Django database (sqlite" in out
    assert get_kit().billing.is_subscribed("42", "pro")

    BillingSubscription.objects.filter(id=sub).update(status="past_due")  # a wrong status
    call_command(
        "stripekit_billing", "sync", "--customer", BillingSubscription.objects.get().customer
    )
    assert f"subscription {sub}: status: past_due → active" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "stripekit_billing", "sync", "--user", "nobody"]).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no customer is linked to user 'nobody'") and err.count("\n") == 1


def test_manage_py_stripekit_billing_sync_account_repairs_that_account_only(
    flows: Flows, client: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command

    a, b = flows.connect()
    subs = {where: flows.subscription_of(flows.checkout("42", "pro", account=where), where)
            for where in (a, b, None)}  # fmt: skip
    for body, _ in flows.events:  # the Connect endpoint's deliveries too, through the view
        assert deliver(client, body).status_code == 200
    billing = get_kit().billing
    assert [billing.subscriptions("42", account=w)[0].account for w in (a, b, None)] == [a, b, None]
    BillingSubscription.objects.filter(id__in=subs.values()).delete()  # a restored backup

    call_command("stripekit_billing", "sync", "--account", a)
    out = capsys.readouterr().out
    assert f"subscription {subs[a]}: new" in out.splitlines()
    assert f"change(s) to the billing state of account {a} in the Django database" in out
    assert subs[b] not in out and subs[None] not in out
    (back,) = billing.subscriptions("42", account=a)
    assert (back.id, back.account, back.status) == (subs[a], a, "active")
    assert BillingSubscription.objects.get(id=subs[a]).account == a
    assert billing.subscriptions("42", account=b) == [] and billing.subscriptions("42") == []


def test_stripekit_billing_sync_beside_the_project(flows: Flows) -> None:
    from cli_harness import Runner

    sub = flows.subscription_of(flows.checkout("42", "pro"))
    result = Runner()("--django-settings", "django_project.settings", "billing", "sync")
    assert result.exit_code == 0, result.output
    assert f"subscription {sub}: new" in result.stdout
    assert BillingSubscription.objects.filter(id=sub, status="active").exists()
