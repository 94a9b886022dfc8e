"""The emulator's memory: objects by id, its clock, the event log and idempotent replies."""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from stripekit._shapes import ID_PREFIXES, random_id, shape

from ._wire import StripeError, missing

__all__ = ["Clock", "Dunning", "State"]

_EXTRA_PREFIXES = {
    "account": "acct_",
    "dispute": "dp_",
    "invoice_payment": "inpay_",
    "invoiceitem": "ii_",
    "item": "li_",
    "subscription_item": "si_",
    "test_helpers.test_clock": "clock_",
}


class Clock:
    """The emulator's time: the real time plus however far it was advanced.

    It stands still while a request is handled (``held``): the events of one
    request, or of one thing falling due, share one moment, whatever the wall
    clock does meanwhile.
    """

    def __init__(self) -> None:
        self.offset = 0
        self._held: int | None = None
        self._depth = 0

    def _real(self) -> int:
        return int(time.time()) + self.offset

    def now(self) -> int:
        """Seconds since the epoch, as the emulator sees them."""
        return self._real() if self._held is None else self._held

    def advance(self, seconds: int) -> int:
        """Move time forward (never back); returns the new now."""
        if seconds < 0:
            raise StripeError(400, "the emulator's clock only moves forward", param="seconds")
        self.move_to(self.now() + seconds)
        return self.now()

    def move_to(self, moment: int) -> None:
        """Move time forward to ``moment`` (a time already past changes nothing)."""
        step = max(0, moment - self.now())
        self.offset += step
        if self._held is not None:
            self._held += step

    @contextmanager
    def held(self) -> Iterator[None]:
        """Time stands still inside the block (blocks nest)."""
        if self._depth == 0:
            self._held = self._real()
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._held = None


@dataclass
class _Reply:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class Dunning:
    """What happens after a subscription's payment fails (Stripe's Billing settings).

    Stripe retries on a schedule of its own ("Smart Retries") or one set in the
    Dashboard; the emulator retries ``retry_days[n]`` days after the n-th failed
    attempt, then cancels the subscription, marks it unpaid or leaves it past due.
    """

    retry_days: tuple[int, ...] = (3, 5, 7)
    then: str = "cancel"
    """``cancel``, ``unpaid`` or ``past_due``."""


@dataclass
class State:
    """Everything the emulator holds; one lock guards it (requests are short)."""

    clock: Clock = field(default_factory=Clock)
    dunning: Dunning = field(default_factory=Dunning)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every object by id, in creation order."""
    line_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """A checkout session's line items (Stripe sends them only when asked)."""
    replies: dict[tuple[str, str], _Reply] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    acting: str | None = None
    """The connected account the current operation acts for (``Stripe-Account``); None:
    the platform. Objects are made in it, and only its own are found or listed."""
    _sequence: itertools.count[int] = field(default_factory=itertools.count)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """The lock, held, and the clock standing still: how every change is made."""
        with self.lock, self.clock.held():
            yield

    @contextmanager
    def acting_as(self, account: str | None) -> Iterator[None]:
        """Act for ``account`` (None: the platform) inside the block; the lock is held."""
        with self.lock:
            before, self.acting = self.acting, account
            try:
                yield
            finally:
                self.acting = before

    def accounts(self) -> list[str | None]:
        """The platform (None) and every connected account."""
        return [None, *(o["id"] for o in self.objects.values() if o.get("object") == "account")]

    def reset(self) -> None:
        """Forget every object, event and reply; the clock goes back to real time."""
        with self.lock:
            self.objects.clear()
            self.line_items.clear()
            self.replies.clear()
            self.clock.offset = 0
            self.dunning = Dunning()

    # -- objects -----------------------------------------------------------------------------

    def new(self, kind: str, **values: Any) -> dict[str, Any]:
        """A new object of ``kind`` shaped like Stripe's, stored and returned."""
        obj = shape(kind)
        prefix = ID_PREFIXES.get(kind) or _EXTRA_PREFIXES.get(kind, "obj_")
        obj["id"] = random_id(prefix)
        if "created" in obj:
            obj["created"] = self.clock.now()
        if "livemode" in obj:
            obj["livemode"] = False
        if "metadata" in obj:
            obj["metadata"] = {}
        obj.update(values)
        obj["_seq"] = next(self._sequence)
        obj["_account"] = self.acting
        self.objects[obj["id"]] = obj
        return obj

    def get(
        self,
        kind: str,
        object_id: str,
        *,
        resource: str | None = None,
        deleted_too: bool = False,
        param: str = "id",
    ) -> dict[str, Any]:
        """The stored object, or Stripe's 404 naming the resource.

        A deleted object is a 404 too, unless ``deleted_too`` (Stripe still
        answers a retrieve of a deleted customer, with ``deleted: true``).
        """
        obj = self.objects.get(object_id)
        if (
            obj is None
            or obj.get("object") != kind
            or (obj.get("deleted") is True and not deleted_too)
            # Another account's object is "No such ..." (Stripe says no more).
            or obj.get("_account") != self.acting
        ):
            raise missing(resource or kind.replace("_", " ").split(".")[-1], object_id, param)
        return obj

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind of the acting account (deleted ones left out), newest first
        (Stripe's list order)."""
        found = [
            o
            for o in self.objects.values()
            if o.get("object") == kind
            and o.get("deleted") is not True
            and o.get("_account") == self.acting
        ]
        return sorted(found, key=lambda o: o["_seq"], reverse=True)

    def delete(self, object_id: str) -> None:
        """Leave only Stripe's stub of a deleted object: ``{id, object, deleted: true}``."""
        obj = self.objects[object_id]
        self.objects[object_id] = {
            "id": object_id,
            "object": obj["object"],
            "deleted": True,
            "_seq": obj["_seq"],
            "_account": obj.get("_account"),
        }

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        """A copy fit to send: without the emulator's bookkeeping."""
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    # -- idempotency -------------------------------------------------------------------------

    def replay(
        self, api_key: str, idempotency_key: str, method: str, path: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]] | None:
        """The first answer given for this key, or None; another request with it is a 400."""
        reply = self.replies.get((api_key, idempotency_key))
        if reply is None:
            return None
        if (reply.method, reply.path, reply.params) != (method, path, params):
            raise StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{idempotency_key}' if you "
                "meant to execute a different request.",
                type="idempotency_error",
            )
        return reply.status, reply.body

    def remember(
        self,
        api_key: str,
        idempotency_key: str,
        method: str,
        path: str,
        params: dict[str, Any],
        status: int,
        body: dict[str, Any],
    ) -> None:
        """Keep an answer for replays of the same idempotency key."""
        self.replies[(api_key, idempotency_key)] = _Reply(method, path, params, status, body)
