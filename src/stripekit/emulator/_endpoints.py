"""Webhook endpoints and events."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from stripe.params import (
    EventListParams,
    WebhookEndpointCreateParams,
    WebhookEndpointListParams,
    WebhookEndpointUpdateParams,
)

from ._core import Emulator, as_bool, metadata_update, required
from ._routes import route
from ._wire import StripeError

__all__: list[str] = []

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?")

# -- webhook endpoints and events ---------------------------------------------------------------


@route(
    "POST",
    "/v1/webhook_endpoints",
    WebhookEndpointCreateParams,
    honours=("url", "enabled_events", "description", "metadata", "api_version", "connect"),
)
def create_webhook_endpoint(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    url = _url(required(params, "url"))
    events = list(required(params, "enabled_events"))
    version = params.get("api_version") or None
    if version is not None and not _VERSION.fullmatch(str(version)):
        raise StripeError(
            400, f"Invalid api_version: {version}", code="parameter_invalid", param="api_version"
        )
    # Asked for none: null, the account's default (the emulator's own) renders the events.
    connect = as_bool(params, "connect")
    endpoint = emu.add_webhook_endpoint(url, events=events, api_version=version, connect=connect)
    endpoint["description"] = params.get("description") or None
    endpoint["metadata"] = metadata_update({}, params.get("metadata", {}))
    return endpoint


def _url(url: Any) -> str:
    if not str(url).startswith(("http://", "https://")):
        raise StripeError(
            400,
            "Invalid URL: URL must be publicly accessible... in the emulator, any http(s) URL.",
            param="url",
        )
    return str(url)


@route("GET", "/v1/webhook_endpoints/{id}")
def retrieve_webhook_endpoint(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return _without_secret(emu, emu.state.get("webhook_endpoint", id, resource="webhook endpoint"))


def _without_secret(emu: Emulator, endpoint: dict[str, Any]) -> dict[str, Any]:
    shown = emu.state.public(endpoint)
    shown.pop("secret", None)  # Stripe shows the secret only when it is created
    return shown


@route(
    "POST",
    "/v1/webhook_endpoints/{id}",
    WebhookEndpointUpdateParams,
    honours=("url", "enabled_events", "description", "metadata", "disabled"),
)
def update_webhook_endpoint(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Change where and what an endpoint receives; ``disabled=true`` stops its deliveries."""
    endpoint = emu.state.get("webhook_endpoint", id, resource="webhook endpoint")
    if "url" in params:
        endpoint["url"] = _url(params["url"])
    if "enabled_events" in params:
        endpoint["enabled_events"] = list(required(params, "enabled_events"))
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "metadata" in params:
        endpoint["metadata"] = metadata_update(endpoint["metadata"], params["metadata"])
    if "disabled" in params:
        endpoint["status"] = "disabled" if as_bool(params, "disabled") else "enabled"
    return _without_secret(emu, endpoint)


@route("GET", "/v1/webhook_endpoints", WebhookEndpointListParams)
def list_webhook_endpoints(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    listing = emu.list_of(
        emu.state.all("webhook_endpoint"), params, "/v1/webhook_endpoints", "webhook endpoint"
    )
    for endpoint in listing["data"]:
        endpoint.pop("secret", None)
    return listing


@route("DELETE", "/v1/webhook_endpoints/{id}")
def delete_webhook_endpoint(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    emu.state.get("webhook_endpoint", id, resource="webhook endpoint")
    del emu.state.objects[id]
    return {"id": id, "object": "webhook_endpoint", "deleted": True}


@route("GET", "/v1/events/{id}")
def retrieve_event(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("event", id)


@route("GET", "/v1/events", EventListParams, honours=("type", "types"))
def list_events(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("event")
    if params.get("type"):
        items = [e for e in items if fnmatch.fnmatchcase(e["type"], params["type"])]
    if params.get("types"):
        items = [e for e in items if e["type"] in params["types"]]
    return emu.list_of(items, params, "/v1/events", "event")
