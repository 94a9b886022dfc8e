"""The Emulator: state, events and the helpers every resource uses (lists, expand, values)."""

from __future__ import annotations

import copy
import fnmatch
import operator
from collections.abc import Callable
from typing import Any

from ._computed import COMPUTED
from ._delivery import Delivery, WebhookDelivery
from ._state import State
from ._wire import StripeError, missing

__all__ = ["Emulator", "as_bool", "as_int", "matching", "metadata_update", "required"]

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
        self._later: list[Callable[[], None]] = []

    # -- control -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, event, delivery and endpoint (the clock goes back too)."""
        with self.state.lock:
            self.state.reset()
            self.delivery.reset()
            self._later.clear()

    def configure_dunning(
        self, *, retry_days: tuple[int, ...] | None = None, then: str | None = None
    ) -> None:
        """What follows a failed subscription payment (until the next reset).

        ``retry_days``: days between automatic attempts (``(3, 5, 7)``: retried 3,
        then 5, then 7 days after the previous failure). ``then``: what becomes of
        the subscription once they are used up: ``cancel`` (the default),
        ``unpaid`` or ``past_due``.
        """
        with self.state.lock:
            dunning = self.state.dunning
            if retry_days is not None:
                if any(not isinstance(d, int) or d < 1 for d in retry_days):
                    raise StripeError(400, "retry_days must be whole days, 1 or more")
                dunning.retry_days = tuple(retry_days)
            if then is not None:
                if then not in ("cancel", "unpaid", "past_due"):
                    raise StripeError(400, "then must be cancel, unpaid or past_due")
                dunning.then = then

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt so far, oldest first."""
        return self.delivery.log()

    def add_webhook_endpoint(
        self,
        url: str,
        *,
        secret: str | None = None,
        events: list[str] | None = None,
        api_version: str | None = API_VERSION,
        connect: bool = False,
    ) -> dict[str, Any]:
        """Deliver events to ``url``, signed with ``secret`` (a new whsec_ when None).

        ``connect``: a Connect endpoint, which gets the connected accounts' events
        (``"account": "acct_..."``) instead of the account's own.

        ``api_version``: what the endpoint's events say they are rendered with (the
        Dashboard pins one; ``None``, as the API leaves it unasked: the account's
        default, the emulator's own). The emulator labels events with it; it renders
        every version alike.
        """
        from stripekit._shapes import random_id

        with self.state.lock:
            return self.state.new(
                "webhook_endpoint",
                url=url,
                enabled_events=events or ["*"],
                status="enabled",
                secret=secret or random_id("whsec_", 32),
                api_version=api_version,
                _connect=connect,
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
        account = obj.get("_account")
        endpoints = [
            e
            for e in self._endpoints_for(account)
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
        event.pop("context", None)
        event["_account"] = account
        if account is None:
            event.pop("account", None)
        else:
            event["account"] = account  # a connected account's event (Connect)
        for endpoint in reversed(endpoints):
            sent = self.state.public(event)
            sent["api_version"] = endpoint.get("api_version") or API_VERSION
            self.delivery.send(sent, endpoint["url"], endpoint["secret"])
        return event

    def _endpoints_for(self, account: str | None) -> list[dict[str, Any]]:
        """Who hears an account's events: its own endpoints, and for a connected account
        the platform's Connect endpoints; newest first."""
        found = [
            e
            for e in self.state.objects.values()
            if e.get("object") == "webhook_endpoint"
            and e.get("deleted") is not True
            and (
                (e.get("_account") == account and not e.get("_connect"))
                or (account is not None and e.get("_account") is None and e.get("_connect"))
            )
        ]
        return sorted(found, key=lambda e: e["_seq"], reverse=True)

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

    def later(self, action: Callable[[], None]) -> None:
        """Do ``action`` once the current operation and its events are done.

        What Stripe does moments after a request (a dispute opened on a payment)
        comes after that request's own events, not in the middle of them.
        """
        self._later.append(action)

    def settle(self) -> None:
        """Run what ``later`` queued (and whatever that queues in turn)."""
        while self._later:
            self._later.pop(0)()

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
        return [o for o in items if _created(o) == exact]
    tests = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
    for op in created:
        bound = as_int(created, op, path=f"created[{op}]")
        test = tests[op]  # the params check let through only these four
        items = [o for o in items if test(_created(o), bound)]
    return items


def _created(obj: dict[str, Any]) -> int:
    # An invoice item says when it was made in `date`.
    when: int = obj["created"] if "created" in obj else obj["date"]
    return when


def _wants(enabled: list[str], event_type: str) -> bool:
    return any(p == "*" or fnmatch.fnmatchcase(event_type, p) for p in enabled)


def as_int(
    params: dict[str, Any], name: str, *, default: int | None = None, path: str | None = None
) -> int:
    """A form value as an int, or Stripe's "Invalid integer" 400."""
    value = params.get(name)
    if (value is None or value == "") and default is not None:
        return default
    value = required(params, name, path=path)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=path or name
        ) from None


def required(params: dict[str, Any], name: str, *, path: str | None = None) -> Any:
    """A param Stripe requires, or its "Missing required param" 400."""
    value = params.get(name)
    if value is None or value == "":
        raise StripeError(
            400,
            f"Missing required param: {path or name}.",
            code="parameter_missing",
            param=path or name,
        )
    return value


def matching(
    items: list[dict[str, Any]], params: dict[str, Any], *names: str
) -> list[dict[str, Any]]:
    """The items whose ``name`` field equals each of ``names`` the list request gives."""
    for name in names:
        if params.get(name):
            items = [o for o in items if o.get(name) == params[name]]
    return items


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
