"""Automatic collection on the clock: drafts finalized, failed payments retried.

A draft with ``auto_advance`` is finalized and paid at its
``automatically_finalizes_at``. An open invoice with a ``next_payment_attempt``
is tried again when the clock reaches it: paid, it brings its subscription back
to ``active``; declined again, the next attempt is scheduled, until the
dunning settings (``State.dunning``) say what becomes of the subscription.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ._core import Emulator
from ._invoices import collect, finalize
from ._schedule import Pending, timer
from ._subscriptions import after_payment

__all__: list[str] = []


@timer
def _collection(emu: Emulator) -> Pending:
    for invoice in reversed(emu.state.all("invoice")):
        if invoice["status"] == "open" and invoice["next_payment_attempt"] is not None:
            yield invoice["next_payment_attempt"], partial(_retry, emu, invoice)
        elif (
            invoice["status"] == "draft"
            and invoice["auto_advance"]
            and invoice["automatically_finalizes_at"] is not None
        ):
            yield invoice["automatically_finalizes_at"], partial(_advance, emu, invoice)


def _advance(emu: Emulator, invoice: dict[str, Any]) -> None:
    finalize(emu, invoice)
    _retry(emu, invoice)


def _retry(emu: Emulator, invoice: dict[str, Any]) -> None:
    """``invoice.paid`` then the subscription ``active``; or ``invoice.payment_failed`` again."""
    paid = collect(emu, invoice) is None
    after_payment(emu, invoice, paid=paid)
