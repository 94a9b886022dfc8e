"""Event: a light, typed view of a verified webhook event, parsed once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from stripekit._errors import PayloadError, shown

from ._json import loads

if TYPE_CHECKING:
    import stripe

    from stripekit._types import JSONObject

__all__ = ["Event", "parse_event"]

THIN_OBJECT = "v2.core.event"


class Event:
    """A verified Stripe event, read from the raw body once.

    Snapshot events (``"object": "event"``) carry ``data.object``; thin events
    (``"object": "v2.core.event"``) carry only ``related_object`` and are
    recognised by ``is_thin``. Both dispatch by ``type``.

    Events arrive at least once and in any order: ``fetch_object()`` retrieves
    the object as it is now, which is what most handlers should act on.

    Example:
        >>> e = parse_event(b'{"id": "evt_1", "object": "event", "type": "invoice.paid",'
        ...                 b' "created": 1700000000, "livemode": false,'
        ...                 b' "data": {"object": {"id": "in_1", "object": "invoice"}}}')
        >>> e.type, e.object["id"]
        ('invoice.paid', 'in_1')
    """

    __slots__ = ("_client_factory", "payload", "raw")

    def __init__(
        self,
        payload: JSONObject,
        raw: bytes,
        client_factory: Callable[[], stripe.StripeClient] | None = None,
    ) -> None:
        self.payload = payload
        """The decoded JSON body."""
        self.raw = raw
        """The body exactly as received."""
        self._client_factory = client_factory

    @property
    def id(self) -> str:
        """The event id (``evt_...``)."""
        return str(self.payload["id"])

    @property
    def type(self) -> str:
        """The event type, e.g. ``checkout.session.completed``."""
        return str(self.payload["type"])

    @property
    def is_thin(self) -> bool:
        """Whether this is a thin (v2) event notification."""
        return self.payload.get("object") == THIN_OBJECT

    @property
    def created(self) -> datetime:
        """When Stripe created the event (UTC)."""
        value = self.payload["created"]  # checked by parse_event
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        return datetime.fromtimestamp(value, tz=UTC)

    @property
    def livemode(self) -> bool:
        """True for live-mode events."""
        return bool(self.payload.get("livemode"))

    @property
    def account(self) -> str | None:
        """The connected account (Connect), if any."""
        account = self.payload.get("account")
        if account is None and self.is_thin:
            context = self.payload.get("context")
            account = context if isinstance(context, str) else None
        return account if isinstance(account, str) else None

    @property
    def api_version(self) -> str | None:
        """The API version the event was rendered with."""
        version = self.payload.get("api_version")
        return version if isinstance(version, str) else None

    @property
    def object(self) -> JSONObject:
        """``data.object`` as a dict (for a thin event: its ``related_object`` reference)."""
        if self.is_thin:
            related = self.payload.get("related_object")
            return related if isinstance(related, dict) else {}
        data = self.payload.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        return obj if isinstance(obj, dict) else {}

    @property
    def previous_attributes(self) -> JSONObject:
        """``data.previous_attributes`` of an ``*.updated`` event; empty otherwise."""
        data = self.payload.get("data")
        prev = data.get("previous_attributes") if isinstance(data, dict) else None
        return prev if isinstance(prev, dict) else {}

    @property
    def request_id(self) -> str | None:
        """The id of the API request that caused the event, if one did."""
        request = self.payload.get("request")
        if isinstance(request, dict):
            rid = request.get("id")
            return rid if isinstance(rid, str) else None
        return request if isinstance(request, str) else None

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.type}>"

    def _client(self) -> stripe.StripeClient:
        if self._client_factory is None:
            from stripekit._errors import ConfigurationError

            raise ConfigurationError(
                "this Event has no Stripe client: process it through StripeKit "
                "(or pass client_factory to parse_event) to fetch objects"
            )
        return self._client_factory()

    def to_stripe(self) -> Any:
        """The full stripe-python object: ``stripe.Event``, or an EventNotification if thin.

        Building it costs about a millisecond; handlers that only read fields
        should use the Event's own properties.
        """
        import stripe

        client = self._client() if self._client_factory else stripe.StripeClient("sk_test_unused")
        if self.is_thin:
            return client.parse_event_notification_without_verification(self.raw)
        return stripe.Event.construct_from(self.payload, client._requestor.api_key or "")

    def _object_url(self) -> str:
        from urllib.parse import quote_plus

        from stripe._object_classes import OBJECT_CLASSES

        if self.is_thin:
            url = self.object.get("url")
            if not isinstance(url, str):
                raise PayloadError(f"thin event {self.id} has no related_object.url to fetch")
            return url
        obj = self.object
        kind, obj_id = obj.get("object"), obj.get("id")
        if not isinstance(kind, str) or not isinstance(obj_id, str) or kind not in OBJECT_CLASSES:
            raise PayloadError(f"event {self.id}: data.object has no retrievable object/id")
        module, name = OBJECT_CLASSES[kind]
        import importlib

        cls = getattr(importlib.import_module(module), name)
        return f"{cls.class_url()}/{quote_plus(obj_id)}"

    def _options(self) -> dict[str, Any]:
        # A connected account's object lives in that account: Stripe-Account fetches it
        # (from the platform it is "No such ...").
        account = self.account
        return {"stripe_account": account} if account is not None else {}

    def fetch_object(self) -> Any:
        """Retrieve ``data.object`` (or a thin event's related object) as it is now; a
        connected account's event (``account``) fetches it from that account."""
        from stripekit._stripe_api import call_stripe

        client = self._client()
        url = self._object_url()
        api_mode: Literal["V1", "V2"] = "V2" if url.startswith("/v2/") else "V1"
        options = self._options()
        response = call_stripe(lambda: client.raw_request("get", url, **options))
        return client.deserialize(response, api_mode=api_mode)

    async def afetch_object(self) -> Any:
        """Async twin of ``fetch_object``."""
        from stripekit._stripe_api import acall_stripe

        client = self._client()
        url = self._object_url()
        api_mode: Literal["V1", "V2"] = "V2" if url.startswith("/v2/") else "V1"
        options = self._options()
        response = await acall_stripe(lambda: client.raw_request_async("get", url, **options))
        return client.deserialize(response, api_mode=api_mode)


def parse_event(
    raw: bytes,
    client_factory: Callable[[], stripe.StripeClient] | None = None,
) -> Event:
    """Parse a (verified) body into an Event, or raise PayloadError saying why it is not one.

    Everything the kit reads from an event (id, type, account, created, livemode)
    is checked here, the same way for every event store, so that a payload no
    store can record is a 400, never a 5xx that Stripe would retry for days.
    """
    try:
        payload = loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the body is not valid JSON ({exc.__class__.__name__})") from None
    except RecursionError:
        raise PayloadError("the body nests too deeply to be a Stripe event") from None
    if not isinstance(payload, dict):
        raise PayloadError("the body is not a JSON object, so not a Stripe event")
    kind = payload.get("object")
    if kind not in ("event", THIN_OBJECT):
        raise PayloadError(
            f"the body is not a Stripe event (object is {shown(kind, 40)}, expected 'event' "
            f"or {THIN_OBJECT!r})"
        )
    for field in ("id", "type"):
        _check_name(payload.get(field), field, required=True)
    if kind == "event":
        data = payload.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
            raise PayloadError("the event has no data.object")
    _check_name(payload.get("account"), "account", required=False)
    if kind == THIN_OBJECT and isinstance(payload.get("context"), str):
        _check_name(payload["context"], "context", required=False)
    _check_created(payload.get("created"), thin=kind == THIN_OBJECT)
    if "livemode" in payload and not isinstance(payload["livemode"], bool):
        raise PayloadError("the event's livemode is not true or false")
    return Event(payload, raw, client_factory)


MAX_NAME_LENGTH = 255
"""Longest id, type or account an event may carry (the event stores' column size)."""

MAX_TIMESTAMP = 253_402_300_799
"""The last second of year 9999: the latest ``created`` a date column can hold."""


def _check_name(value: object, field: str, *, required: bool) -> None:
    """An id, type or account: a non-empty string every store can keep as it is."""
    if value is None and not required:
        return
    if not isinstance(value, str) or not value:
        raise PayloadError(f"the event has no {field!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise PayloadError(f"the event's {field} is over {MAX_NAME_LENGTH} characters")
    if "\x00" in value:
        raise PayloadError(f"the event's {field} holds a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise PayloadError(
                f"the event's {field} is not valid Unicode (a lone surrogate)"
            ) from None


def _check_created(value: object, *, thin: bool) -> None:
    """``created``: a whole number of seconds (a thin event: an ISO 8601 time), in range."""
    if thin and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PayloadError("the event's created is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise PayloadError("the event's created has no time zone")
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("the event's created is not a timestamp (whole seconds since 1970)")
    if not 0 <= value <= MAX_TIMESTAMP:
        raise PayloadError("the event's created is not a timestamp Stripe could send")
