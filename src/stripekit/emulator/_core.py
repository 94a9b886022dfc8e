"""The Emulator: state, events and the helpers every resource uses (lists, expand, values)."""

from __future__ import annotations

import copy
import fnmatch
import operator
from typing import Any

from ._computed import COMPUTED
from ._delivery import Delivery, WebhookDelivery
from ._state import State
from ._wire import StripeError, missing

__all__ = ["Emulator", "as_bool", "as_int", "metadata_update"]

# The API version the emulator's events say they were rendered with: stripe-python's own.
try:
    from stripe._api_version import _ApiVersion

    API_VERSION = _ApiVersion.CURRENT
except ImportError:  # pragma: no cover
    API_VERSION = "2025-01-01"


class Emulator:
    """A local, stateful stand-in for the part of Stripe's API stripekit and its users touch.

    Serve it with ``run_emulator()`` (tests) or ``stripekit emulator`` (a terminal).

    Example:
        >>> emulator = Emulator()
        >>> emulator.state.clock.now() > 0
        True
    """

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:12111",
        retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.state = State()
        self.delivery = WebhookDelivery(retry_delays=retry_delays)

    # -- control -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, event, delivery and endpoint (the clock goes back too)."""
        with self.state.lock:
            self.state.reset()
            self.delivery.reset()

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt so far, oldest first."""
        return self.delivery.log()

    def add_webhook_endpoint(
        self, url: str, *, secret: str | None = None, events: list[str] | None = None
    ) -> dict[str, Any]:
        """Deliver events to ``url``, signed with ``secret`` (a new whsec_ when None)."""
        from stripekit._shapes import random_id

        with self.state.lock:
            return self.state.new(
                "webhook_endpoint",
                url=url,
                enabled_events=events or ["*"],
                status="enabled",
                secret=secret or random_id("whsec_", 32),
                api_version=None,
            )

    # -- events ------------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event about ``obj`` and deliver it to every endpoint that wants it."""
        data: dict[str, Any] = {"object": self.state.public(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        endpoints = [
            e
            for e in self.state.all("webhook_endpoint")
            if e.get("status") == "enabled" and _wants(e["enabled_events"], event_type)
        ]
        event = self.state.new(
            "event",
            type=event_type,
            api_version=API_VERSION,
            data=data,
            pending_webhooks=len(endpoints),
            request={"id": None, "idempotency_key": None},
        )
        event.pop("account", None)
        event.pop("context", None)
        for endpoint in reversed(endpoints):
            self.delivery.send(self.state.public(event), endpoint["url"], endpoint["secret"])
        return event

    def emit_updated(
        self, event_type: str, obj: dict[str, Any], before: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Emit ``*.updated`` with Stripe's ``previous_attributes``, if anything changed.

        ``before`` is a shallow copy of ``obj`` taken before the change; the event
        names each top-level field that changed, with its old value.
        """
        previous = {
            k: copy.deepcopy(before.get(k))
            for k in obj
            if not k.startswith("_") and k != "updated" and before.get(k) != obj[k]
        }
        if not previous:
            return None
        return self.emit(event_type, obj, previous)

    # -- rendering ---------------------------------------------------------------------------

    def render(self, obj: dict[str, Any], expand: list[str]) -> dict[str, Any]:
        """The object as sent, with the ``expand[]`` paths filled in."""
        out = self.state.public(obj)
        for path in expand:
            self._expand(out, path.split("."), path)
        return out

    def _expand(self, node: dict[str, Any], parts: list[str], path: str) -> None:
        key, rest = parts[0], parts[1:]
        build = COMPUTED.get((str(node.get("object")), key))
        if build is not None:
            node[key] = build(self.state, node)
        elif key not in node:
            raise StripeError(400, f"This property cannot be expanded ({path}).", param="expand")
        value = node[key]
        if isinstance(value, str) and value in self.state.objects:
            value = node[key] = self.state.public(self.state.objects[value])
        if value is None:
            return
        if not rest:
            if not isinstance(value, dict):
                raise StripeError(
                    400, f"This property cannot be expanded ({path}).", param="expand"
                )
            return
        if isinstance(value, dict) and value.get("object") == "list" and rest[0] == "data":
            for item in value.get("data", []):
                if rest[1:]:
                    self._expand(item, rest[1:], path)
            return
        if isinstance(value, dict):
            self._expand(value, rest, path)

    def list_of(
        self,
        items: list[dict[str, Any]],
        params: dict[str, Any],
        url: str,
        resource: str,
    ) -> dict[str, Any]:
        """A Stripe list object over ``items`` (newest first), paginated like Stripe."""
        limit = as_int(params, "limit", default=10)
        if not 1 <= limit <= 100:
            raise StripeError(
                400,
                "Invalid limit: must be between 1 and 100",
                code="parameter_invalid_integer",
                param="limit",
            )
        items = _created_between(items, params.get("created"))
        ids = [o["id"] for o in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after and before:
            raise StripeError(
                400, "You may only specify one of these parameters: ending_before, starting_after."
            )
        if after:
            if after not in ids:
                raise missing(resource, after, "starting_after")
            window = items[ids.index(after) + 1 :]
            page, has_more = window[:limit], len(window) > limit
        elif before:
            if before not in ids:
                raise missing(resource, before, "ending_before")
            window = items[: ids.index(before)]
            page, has_more = window[-limit:], len(window) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        expand = [
            p.removeprefix("data.") for p in params.get("expand", []) if p.startswith("data.")
        ]
        return {
            "object": "list",
            "data": [self.render(o, expand) for o in page],
            "has_more": has_more,
            "url": url,
        }


def _created_between(items: list[dict[str, Any]], created: Any) -> list[dict[str, Any]]:
    """Stripe's ``created`` filter: a timestamp, or ``created[gt|gte|lt|lte]``."""
    if created is None or created == "":
        return items
    if not isinstance(created, dict):
        exact = as_int({"created": created}, "created")
        return [o for o in items if o["created"] == exact]
    tests = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
    for op in created:
        bound = as_int(created, op, path=f"created[{op}]")
        test = tests[op]  # the params check let through only these four
        items = [o for o in items if test(o["created"], bound)]
    return items


def _wants(enabled: list[str], event_type: str) -> bool:
    return any(p == "*" or fnmatch.fnmatchcase(event_type, p) for p in enabled)


def as_int(
    params: dict[str, Any], name: str, *, default: int | None = None, path: str | None = None
) -> int:
    """A form value as an int, or Stripe's "Invalid integer" 400."""
    value = params.get(name)
    if value is None or value == "":
        if default is None:
            raise StripeError(
                400,
                f"Missing required param: {path or name}.",
                code="parameter_missing",
                param=path or name,
            )
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=path or name
        ) from None


def as_bool(params: dict[str, Any], name: str, default: bool = False) -> bool:
    """A form value (``true``/``false``) as a bool, or Stripe's 400."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if value in ("true", "false"):
        return bool(value == "true")
    raise StripeError(400, f"Invalid boolean: {value}", param=name)


def metadata_update(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's metadata semantics: merge; an empty value removes the key; "" clears all."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise StripeError(400, "Invalid metadata: must be a hash", param="metadata")
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged
