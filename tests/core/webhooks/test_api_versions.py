"""Events rendered with another API version: processed, warned about once per version, counted."""

from __future__ import annotations

import logging

import anyio
import pytest
import stripe

from stripekit import ApiVersions, Settings, StripeKit, WebhookRegistry
from stripekit.testing import make_event, signed_event

SECRET = "whsec_versions"


def _kit(**settings: object) -> tuple[StripeKit, list[str]]:
    ran: list[str] = []
    webhooks = WebhookRegistry()
    webhooks.register("invoice.paid", lambda event: ran.append(event.id))
    kit = StripeKit(
        secret_key="sk_test_versions", webhook_secret=SECRET, webhooks=webhooks,
        store="memory://", billing=False, **settings,
    )  # fmt: skip
    return kit, ran


def _deliver(kit: StripeKit, event_id: str, version: str | None) -> int:
    body, headers = signed_event("invoice.paid", secret=SECRET, id=event_id, api_version=version)
    return kit.handle_webhook(body, headers).status


def test_the_default_is_the_version_stripe_python_pins() -> None:
    assert Settings().stripe_api_version == stripe.api_version
    assert Settings(api_version="2024-06-20").stripe_api_version == "2024-06-20"
    kit, _ = _kit()
    assert kit.api_versions.expected == stripe.api_version


def test_the_kits_client_speaks_the_setting() -> None:
    kit, _ = _kit(api_version="2024-06-20")
    assert kit.client._requestor._options.stripe_version == "2024-06-20"
    default, _ = _kit()
    assert default.client._requestor._options.stripe_version == stripe.api_version


def test_another_version_is_processed_warned_about_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kit, ran = _kit()
    with caplog.at_level(logging.WARNING, logger="stripekit.webhooks"):
        assert _deliver(kit, "evt_current", stripe.api_version) == 200
        assert _deliver(kit, "evt_old_1", "2024-06-20") == 200
        assert _deliver(kit, "evt_old_2", "2024-06-20") == 200
        assert _deliver(kit, "evt_older", "2023-10-16") == 200
        assert _deliver(kit, "evt_old_1", "2024-06-20") == 200  # a duplicate: not run again
    assert ran == ["evt_current", "evt_old_1", "evt_old_2", "evt_older"]
    assert kit.api_versions_seen == {stripe.api_version: 1, "2024-06-20": 2, "2023-10-16": 1}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "evt_old_1" in warnings[0] and "2024-06-20" in warnings[0]
    assert "STRIPEKIT_API_VERSION" in warnings[0] and "second" in warnings[0]
    assert "2023-10-16" in warnings[1]


def test_the_setting_decides_which_version_is_expected(caplog: pytest.LogCaptureFixture) -> None:
    kit, _ = _kit(api_version="2024-06-20")
    with caplog.at_level(logging.WARNING, logger="stripekit.webhooks"):
        assert _deliver(kit, "evt_1", "2024-06-20") == 200
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    with caplog.at_level(logging.WARNING, logger="stripekit.webhooks"):
        assert _deliver(kit, "evt_2", stripe.api_version) == 200
    assert any(stripe.api_version in r.getMessage() for r in caplog.records)


def test_replays_and_the_async_path_count_too() -> None:
    kit, _ = _kit()

    async def deliver() -> int:
        body, headers = signed_event(
            "invoice.paid", secret=SECRET, id="evt_a", api_version="2024-06-20"
        )
        result = await kit.ahandle_webhook(body, headers)
        await kit.aclose()
        return result.status

    assert anyio.run(deliver) == 200
    assert kit.replay("evt_a", force=True).status == 200
    assert kit.api_versions_seen == {"2024-06-20": 2}


def test_thin_events_carry_no_version_and_are_not_counted() -> None:
    versions = ApiVersions("2026-10-28.endive")
    from stripekit import parse_event
    from stripekit.testing import event_body, make_thin_event

    versions.observe(parse_event(event_body(make_thin_event("v2.core.event_destination.ping"))))
    assert versions.seen == {}
    versions.observe(parse_event(event_body(make_event("invoice.paid", api_version="2024-06-20"))))
    assert versions.seen == {"2024-06-20": 1}
