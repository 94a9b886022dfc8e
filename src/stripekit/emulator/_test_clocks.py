"""Stripe's test clocks (``/v1/test_helpers/test_clocks``), driving the emulator's one clock.

Test code written for Stripe's test mode works unchanged: make a clock, make a
customer on it (``test_clock=``), subscribe, ``advance`` to a later
``frozen_time``, and the renewals, trial ends and retries happen on the way.
The emulator has a single clock, though: advancing a test clock by a day moves
the whole emulator on by a day (every subscription, not just the clock's), and
the objects of a clock's customers are dated by the emulator's clock, which
is the test clock's ``frozen_time`` shifted by their difference when the test
clock was made.
"""

from __future__ import annotations

from typing import Any

from stripe.params.test_helpers import (
    TestClockAdvanceParams,
    TestClockCreateParams,
    TestClockListParams,
)

from ._clock import advance_clock
from ._core import Emulator, as_int
from ._customers import delete_customer
from ._routes import route
from ._wire import StripeError

__all__: list[str] = []

_KEPT = 30 * 86400
"""Stripe deletes a test clock 30 days after it is made."""


@route(
    "POST",
    "/v1/test_helpers/test_clocks",
    TestClockCreateParams,
    honours=("frozen_time", "name"),
)
def create_test_clock(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    frozen_time = as_int(params, "frozen_time")
    clock = emu.state.new(
        "test_helpers.test_clock",
        frozen_time=frozen_time,
        name=params.get("name") or None,
        status="ready",
        status_details={},
    )
    clock["deletes_after"] = clock["created"] + _KEPT
    emu.emit("test_helpers.test_clock.created", clock)
    return clock


@route("GET", "/v1/test_helpers/test_clocks/{id}")
def retrieve_test_clock(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("test_helpers.test_clock", id, resource="test_clock")


@route("GET", "/v1/test_helpers/test_clocks", TestClockListParams)
def list_test_clocks(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("test_helpers.test_clock")
    return emu.list_of(items, params, "/v1/test_helpers/test_clocks", "test_clock")


@route(
    "POST",
    "/v1/test_helpers/test_clocks/{id}/advance",
    TestClockAdvanceParams,
    honours=("frozen_time",),
)
def advance_test_clock(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Move to ``frozen_time``: the emulator's clock moves on by as much.

    Events: ``test_helpers.test_clock.advancing``, whatever falls due on the
    way, ``test_helpers.test_clock.ready``. Stripe advances in the background
    and answers ``advancing``; the emulator is done when it answers (``ready``).
    """
    clock = emu.state.get("test_helpers.test_clock", id, resource="test_clock")
    target = as_int(params, "frozen_time")
    if target <= clock["frozen_time"]:
        raise StripeError(
            400,
            f"The frozen_time ({target}) must be later than the test clock's current "
            f"frozen_time ({clock['frozen_time']}).",
            param="frozen_time",
        )
    clock.update(
        status="advancing",
        status_details={"advancing": {"target_frozen_time": target}},
    )
    emu.emit("test_helpers.test_clock.advancing", clock)
    advance_clock(emu, target - clock["frozen_time"])
    clock.update(frozen_time=target, status="ready", status_details={})
    emu.emit("test_helpers.test_clock.ready", clock)
    return clock


@route("DELETE", "/v1/test_helpers/test_clocks/{id}")
def delete_test_clock(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Delete the clock and, as Stripe does, its customers (their subscriptions end first)."""
    clock = emu.state.get("test_helpers.test_clock", id, resource="test_clock")
    for customer in reversed(emu.state.all("customer")):
        if customer.get("test_clock") == id:
            delete_customer(emu, {}, customer["id"])
    emu.emit("test_helpers.test_clock.deleted", clock)
    emu.state.delete(id)
    return emu.state.public(emu.state.objects[id])
