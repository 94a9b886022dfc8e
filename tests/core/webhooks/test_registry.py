from __future__ import annotations

import pytest

from stripekit import (
    ConfigurationError,
    Event,
    UnknownEventTypeError,
    WebhookRegistry,
    known_event_types,
)


def handler_a(event: Event) -> None: ...


def handler_b(event: Event) -> None: ...


async def handler_async(event: Event) -> None: ...


def test_decorator_returns_the_function_unchanged() -> None:
    webhooks = WebhookRegistry()

    @webhooks.on("invoice.paid")
    def fulfil(event: Event) -> str:
        return "kept"

    assert fulfil.__name__ == "fulfil"
    assert fulfil(None) == "kept"  # type: ignore[arg-type]
    assert webhooks.handlers_for("invoice.paid") == (fulfil,)


def test_several_types_per_handler_and_order_kept() -> None:
    webhooks = WebhookRegistry()
    webhooks.register(["invoice.paid", "invoice.payment_failed"], handler_a)
    webhooks.register("invoice.paid", handler_b)
    webhooks.on("invoice.paid")(handler_async)
    assert webhooks.handlers_for("invoice.paid") == (handler_a, handler_b, handler_async)
    assert webhooks.handlers_for("invoice.payment_failed") == (handler_a,)
    assert webhooks.handlers_for("customer.created") == ()
    assert len(webhooks) == 4


def test_wildcards() -> None:
    webhooks = WebhookRegistry()
    webhooks.register("customer.subscription.*", handler_a)
    webhooks.register("*", handler_b)
    assert webhooks.handlers_for("customer.subscription.deleted") == (handler_a, handler_b)
    assert webhooks.handlers_for("customer.subscription.trial_will_end") == (handler_a, handler_b)
    assert webhooks.handlers_for("customer.created") == (handler_b,)
    # A thin event type dispatches the same way.
    assert webhooks.handlers_for("v1.billing.meter.error_report_triggered") == (handler_b,)


def test_a_handler_matching_twice_runs_once() -> None:
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler_a)
    webhooks.register("invoice.*", handler_a)
    assert webhooks.handlers_for("invoice.paid") == (handler_a,)


def test_thin_event_types_are_known() -> None:
    webhooks = WebhookRegistry()
    webhooks.register("v1.billing.meter.error_report_triggered", handler_a)
    assert "v1.billing.meter.error_report_triggered" in known_event_types()
    assert "checkout.session.completed" in known_event_types()
    assert "*" not in known_event_types()


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("checkout.session.complete", "did you mean 'checkout.session.completed'"),
        ("invoice.payed", "did you mean 'invoice.paid'"),
        ("customer.subscriptions.*", "Stripe sends no event of type 'customer.subscriptions.*'"),
        ("nothing.like.this.at.all", "Stripe sends no event of type"),
    ],
)
def test_unknown_types_fail_at_registration(pattern: str, hint: str) -> None:
    webhooks = WebhookRegistry()
    with pytest.raises(UnknownEventTypeError, match=hint):
        webhooks.register(pattern, handler_a)
    assert len(webhooks) == 0


@pytest.mark.parametrize("bad", ["", "  ", 3])
def test_bad_patterns(bad: object) -> None:
    with pytest.raises(UnknownEventTypeError, match="non-empty string"):
        WebhookRegistry().register([bad], handler_a)  # type: ignore[list-item]


def test_registration_needs_types_and_a_callable() -> None:
    webhooks = WebhookRegistry()
    with pytest.raises(ConfigurationError, match="at least one event type"):
        webhooks.register([], handler_a)
    with pytest.raises(ConfigurationError, match="must be callable"):
        webhooks.register("invoice.paid", "not a function")  # type: ignore[type-var]


def test_registration_closes_once_events_flow() -> None:
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", handler_a)
    webhooks.freeze()
    with pytest.raises(ConfigurationError, match="already being processed"):
        webhooks.register("invoice.paid", handler_b)
    assert webhooks.handlers_for("invoice.paid") == (handler_a,)
    assert webhooks.patterns == ["invoice.paid"]
