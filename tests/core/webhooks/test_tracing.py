"""OpenTelemetry spans around verify, claim, dispatch and each handler, read from the SDK's
in-memory exporter; none at all while no tracer provider is set or the API is missing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from stripekit import MemoryEventStore, WebhookProcessor, WebhookRegistry
from stripekit.testing import signed_event
from stripekit.webhooks import _tracing

SECRET = "whsec_tracing"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """An SDK provider as the app's global one, for this test only."""
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    yield exported
    provider.shutdown()


def _processor(webhooks: WebhookRegistry) -> WebhookProcessor:
    return WebhookProcessor(secrets=[SECRET], store=MemoryEventStore(), registry=webhooks)


def _tree(spans: tuple[ReadableSpan, ...]) -> dict[str, str | None]:
    """Each span's name → its parent's name."""
    names = {span.context.span_id: span.name for span in spans}
    return {
        span.name: (names.get(span.parent.span_id) if span.parent is not None else None)
        for span in spans
    }


def _handlers(tracer_in_handler: bool = False, fail: bool = False) -> WebhookRegistry:
    webhooks = WebhookRegistry()

    def fulfil(event: Any) -> None:
        if tracer_in_handler:
            with trace.get_tracer_provider().get_tracer("app").start_as_current_span("app.work"):
                pass
        if fail:
            raise RuntimeError("the warehouse is down")

    webhooks.register("checkout.session.completed", fulfil)
    return webhooks


def test_a_delivery_is_a_span_with_verify_claim_dispatch_and_handler(
    exporter: InMemorySpanExporter,
) -> None:
    processor = _processor(_handlers(tracer_in_handler=True))
    body, headers = signed_event(
        "checkout.session.completed", secret=SECRET, id="evt_span_1", account="acct_9"
    )

    assert processor.process(body, headers).status == 200

    spans = exporter.get_finished_spans()
    assert _tree(spans) == {
        "stripekit.webhook": None,
        "stripekit.webhook.verify": "stripekit.webhook",
        "stripekit.webhook.claim": "stripekit.webhook",
        "stripekit.webhook.dispatch": "stripekit.webhook",
        "stripekit.webhook.handler": "stripekit.webhook.dispatch",
        "app.work": "stripekit.webhook.handler",  # the handler's own spans nest inside
    }
    root = next(span for span in spans if span.name == "stripekit.webhook")
    assert root.attributes is not None
    assert dict(root.attributes) == {
        "stripekit.outcome": "processed",
        "http.response.status_code": 200,
        "stripe.event.id": "evt_span_1",
        "stripe.event.type": "checkout.session.completed",
        "stripe.account": "acct_9",
        "stripekit.attempts": 1,
    }
    handler = next(span for span in spans if span.name == "stripekit.webhook.handler")
    assert handler.attributes is not None
    assert handler.attributes["code.function"] == "_handlers.<locals>.fulfil"
    assert root.status.status_code is trace.StatusCode.UNSET


async def test_the_async_path_nests_the_same_way(exporter: InMemorySpanExporter) -> None:
    processor = _processor(_handlers(tracer_in_handler=True))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_span_2")
    try:
        assert (await processor.aprocess(body, headers)).status == 200
    finally:
        processor.close()

    tree = _tree(exporter.get_finished_spans())
    assert tree["stripekit.webhook.handler"] == "stripekit.webhook.dispatch"
    # A plain def handler runs on the kit's threads, in the delivery's context.
    assert tree["app.work"] == "stripekit.webhook.handler"


def test_a_failed_handler_marks_the_spans_as_errors(exporter: InMemorySpanExporter) -> None:
    processor = _processor(_handlers(fail=True))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_span_3")

    assert processor.process(body, headers).status == 500

    spans = {span.name: span for span in exporter.get_finished_spans()}
    root = spans["stripekit.webhook"]
    assert root.status.status_code is trace.StatusCode.ERROR
    assert root.attributes is not None and root.attributes["stripekit.outcome"] == "failed"
    handler = spans["stripekit.webhook.handler"]
    assert handler.status.status_code is trace.StatusCode.ERROR
    assert [event.name for event in handler.events] == ["exception"]


def test_a_refused_delivery_has_a_root_and_a_verify_span_only(
    exporter: InMemorySpanExporter,
) -> None:
    processor = _processor(WebhookRegistry())
    body, headers = signed_event("invoice.paid", secret="whsec_other")

    assert processor.process(body, headers).status == 400

    assert _tree(exporter.get_finished_spans()) == {
        "stripekit.webhook": None,
        "stripekit.webhook.verify": "stripekit.webhook",
    }


def test_a_replay_is_a_span_of_its_own(exporter: InMemorySpanExporter) -> None:
    processor = _processor(_handlers(fail=True))
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_span_4")
    processor.process(body, headers)
    exporter.clear()

    processor.replay("evt_span_4")

    tree = _tree(exporter.get_finished_spans())
    assert tree["stripekit.webhook.replay"] is None
    assert tree["stripekit.webhook.claim"] == "stripekit.webhook.replay"
    assert tree["stripekit.webhook.handler"] == "stripekit.webhook.dispatch"


def test_no_tracer_provider_means_no_spans_at_all() -> None:
    # The API's default: a proxy provider until the app sets one from the SDK.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert _tracing.current_tracer() is None


def test_without_the_api_installed_deliveries_make_no_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    monkeypatch.setattr(_tracing, "_trace", None)

    assert _tracing.current_tracer() is None
    processor = _processor(_handlers())
    body, headers = signed_event("checkout.session.completed", secret=SECRET, id="evt_span_5")
    assert processor.process(body, headers).status == 200
