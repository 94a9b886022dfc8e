"""``stripekit webhooks trigger``: the emulator's real flows make the event, consistently."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_harness import Runner
from emulator_objects import fetch
from webhook_sink import WebhookSink

from stripekit.emulator import RunningEmulator
from stripekit.emulator._trigger import FLOWS


@pytest.mark.parametrize("event_type", sorted(FLOWS))
def test_trigger_makes_the_event_and_everything_it_names_exists(
    cli: Runner, stripe_emulator: RunningEmulator, event_type: str
) -> None:
    result = cli("webhooks", "trigger", event_type, "--api-base", stripe_emulator.api_base)

    assert result.exit_code == 0, result.output
    made = stripe_emulator.events()
    assert event_type in [e["type"] for e in made]
    assert f"{len(made)} events" in result.stdout
    gone = {e["data"]["object"]["id"] for e in made if e["type"].endswith(".deleted")}
    for event in made:
        obj = event["data"]["object"]
        answer = fetch(stripe_emulator.api_base, obj)
        # A deleted product is a 404, as on Stripe; a deleted customer answers deleted.
        expected = (200, 404) if obj["id"] in gone else (200,)
        assert answer.status_code in expected, (event["type"], obj["object"], obj["id"])
    created = [e["created"] for e in made]
    assert created == sorted(created)


def test_trigger_delivers_through_the_emulator(
    cli: Runner, stripe_emulator: RunningEmulator
) -> None:
    with WebhookSink() as sink:
        stripe_emulator.add_webhook_endpoint(sink.url, secret="whsec_trigger")
        result = cli(
            "webhooks",
            "trigger",
            "invoice.payment_failed",
            env={"STRIPE_API_BASE": stripe_emulator.api_base},
        )
        assert result.exit_code == 0, result.output
        stripe_emulator.wait_for_deliveries()
        types = sink.types()
    # A subscription paid at checkout, a card that fails saved as its default, a month on.
    assert types[-4:] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    failed = sink.received[-2].event["data"]["object"]
    assert failed["subscription"] in [
        r.event["data"]["object"]["id"]
        for r in sink.received
        if r.event["type"] == "customer.subscription.created"
    ]


def test_overrides_set_params_of_the_flow_s_steps(
    cli: Runner, stripe_emulator: RunningEmulator
) -> None:
    result = cli(
        "webhooks",
        "trigger",
        "checkout.session.completed",
        "--api-base",
        stripe_emulator.api_base,
        "--override",
        "metadata.order=42",
        "--override",
        "product:name=The Book",
        "--override",
        "checkout_session:client_reference_id=user-7",
    )
    assert result.exit_code == 0, result.output
    made = {e["type"]: e["data"]["object"] for e in stripe_emulator.events()}
    session = made["checkout.session.completed"]
    assert session["metadata"] == {"order": "42"}
    assert session["client_reference_id"] == "user-7"
    assert made["product.created"]["name"] == "The Book"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invoice.payed"], "did you mean 'invoice.paid'"),
        (["invoice.*"], "is a pattern"),
        (["charge.expired"], "no flow makes 'charge.expired'"),
        (["invoice.paid", "--override", "nothing"], "write [step:]path=value"),
        (["invoice.paid", "--override", "basket:x=1"], "steps are product, price"),
        (["customer.created", "--override", "colour=red"], "Received unknown parameter: colour"),
        (["customer.created", "--override", "tax_exempt=reverse"], "not emulated: tax_exempt"),
    ],
)
def test_trigger_refusals_are_one_line(
    cli: Runner, stripe_emulator: RunningEmulator, args: list[str], message: str
) -> None:
    result = cli("webhooks", "trigger", *args, "--api-base", stripe_emulator.api_base)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_trigger_needs_the_emulator(cli: Runner) -> None:
    with WebhookSink() as not_stripe:  # answers 200 to posts, 501 to the emulator's probe
        base = not_stripe.url.rsplit("/stripe", 1)[0]
        result = cli("webhooks", "trigger", "invoice.paid", "--api-base", base)
    assert result.exit_code == 1
    assert "is not the stripekit emulator" in result.stderr
    result = cli("webhooks", "trigger", "invoice.paid", "--api-base", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the emulator" in result.stderr


def test_the_docs_list_every_event_trigger_makes() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "emulator.md"
    section = docs.read_text(encoding="utf-8").split("## Triggering an event", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`.+?`) \| (.+?) \| (.+?) \|$", section, re.MULTILINE)
    documented = {t for types, _, _ in rows for t in re.findall(r"`([^`]+)`", types)}
    assert documented == set(FLOWS)
    for types, what, steps in rows:
        flow = FLOWS[re.findall(r"`([^`]+)`", types)[0]]
        assert what == flow.description
        assert re.findall(r"`([^`]+)`", steps)[0] == flow.main
