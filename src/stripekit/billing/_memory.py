"""MemoryBillingStore: the billing mirror in this process's memory (tests, one process)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar

from ._models import CreditEntry
from ._store import ALL_ACCOUNTS, Kind, PutResult, Row, SpendOutcome

__all__ = ["MemoryBillingStore"]

T = TypeVar("T")


class _State:
    def __init__(self) -> None:
        self.rows: dict[tuple[Kind, str], Row] = {}
        # customer -> (user, order linked, the customer's account)
        self.links: dict[str, tuple[str, int, str | None]] = {}
        self.ledger: list[tuple[str, CreditEntry]] = []  # (owner, entry)
        self.sources: set[str] = set()
        self.balances: dict[str, int] = {}

    def copy(self) -> _State:
        """A copy to roll back to: the containers are copied, their items are immutable."""
        saved = _State()
        saved.rows = dict(self.rows)
        saved.links = dict(self.links)
        saved.ledger = list(self.ledger)
        saved.sources = set(self.sources)
        saved.balances = dict(self.balances)
        return saved


class _Writer:
    def __init__(self, state: _State, clock: Callable[[], datetime]) -> None:
        self._s = state
        self._now = clock

    def put(self, row: Row, *, allow_equal: bool = False) -> PutResult:
        key = (row.kind, row.id)
        stored = self._s.rows.get(key)
        if stored is not None and stored.version > row.version:
            return PutResult.STALE
        if stored is not None and stored.version == row.version and not allow_equal:
            same = row.event is not None and stored.event == row.event
            return PutResult.SAME if same else PutResult.TIE
        self._s.rows[key] = row
        return PutResult.APPLIED

    def replace(self, row: Row) -> None:
        stored = self._s.rows.get((row.kind, row.id))
        version = max(row.version, stored.version if stored is not None else 0)
        event = row.event if version == row.version else (stored.event if stored else None)
        self._s.rows[(row.kind, row.id)] = Row(
            row.kind, row.id, row.columns, row.data, version, event, row.account
        )

    def get(self, kind: Kind, object_id: str) -> Row | None:
        return self._s.rows.get((kind, object_id))

    def find(self, kind: Kind, column: str, values: Collection[str]) -> list[Row]:
        wanted = set(values)
        found = [
            row
            for (row_kind, _), row in self._s.rows.items()
            if row_kind is kind and row.columns.get(column) in wanted
        ]
        return sorted(found, key=lambda row: row.id)

    def link(self, customer: str, user: str, account: str | None = None) -> str:
        linked = self._s.links.get(customer)
        if linked is None:
            self._s.links[customer] = (user, len(self._s.links), account)
            return user
        return linked[0]

    def user_of(self, customer: str) -> str | None:
        linked = self._s.links.get(customer)
        return None if linked is None else linked[0]

    def customers_of(self, user: str, account: str | None = None) -> list[str]:
        mine = [
            (order, c)
            for c, (u, order, linked_in) in self._s.links.items()
            if u == user and (account == ALL_ACCOUNTS or self._account_of(c, linked_in) == account)
        ]
        return [customer for _, customer in sorted(mine, reverse=True)]

    def _account_of(self, customer: str, linked_in: str | None) -> str | None:
        # The customer's row, once written, says which account it is in (as a database's
        # one row does); before, the account it was linked in.
        stored = self._s.rows.get((Kind.CUSTOMER, customer))
        return stored.account if stored is not None else linked_in

    def grant(self, owner: str, amount: int, reason: str, source: str) -> bool:
        if source in self._s.sources:
            return False
        self._add(owner, amount, reason, source)
        return True

    def spend(self, owner: str, amount: int, reason: str, key: str) -> SpendOutcome:
        source = f"spend:{key}"
        if source in self._s.sources:
            return SpendOutcome.DUPLICATE
        if self._s.balances.get(owner, 0) < amount:
            return SpendOutcome.INSUFFICIENT
        self._add(owner, -amount, reason, source)
        return SpendOutcome.SPENT

    def take_back(self, owner: str, amount: int, reason: str, source: str) -> int:
        if source in self._s.sources:
            return 0
        taken = max(0, min(amount, self._s.balances.get(owner, 0)))
        self._add(owner, -taken, reason, source)
        return taken

    def balance(self, owner: str) -> int:
        return self._s.balances.get(owner, 0)

    def history(self, owner: str, limit: int) -> list[CreditEntry]:
        mine = [entry for who, entry in self._s.ledger if who == owner]
        return list(reversed(mine))[:limit]

    def entries_from(self, prefix: str) -> list[CreditEntry]:
        return [entry for _, entry in self._s.ledger if entry.source.startswith(prefix)]

    def move_credits(self, from_owner: str, to_owner: str) -> None:
        if from_owner == to_owner:
            return
        self._s.ledger = [
            (to_owner if who == from_owner else who, entry) for who, entry in self._s.ledger
        ]
        moved = self._s.balances.pop(from_owner, 0)
        self._s.balances[to_owner] = self._s.balances.get(to_owner, 0) + moved

    def _add(self, owner: str, amount: int, reason: str, source: str) -> None:
        self._s.sources.add(source)
        self._s.ledger.append((owner, CreditEntry(amount, reason, source, self._now())))
        self._s.balances[owner] = self._s.balances.get(owner, 0) + amount


class MemoryBillingStore:
    """The billing mirror in memory: thread-safe, gone when the process ends.

    ``run`` holds one lock for the whole transaction and puts everything back
    if ``work`` raises, as a database would.

    Example:
        >>> from stripekit.billing._store import Kind, Row
        >>> store = MemoryBillingStore()
        >>> store.run(lambda tx: tx.put(Row(Kind.CUSTOMER, "cus_1", {}, version=5))).value
        'applied'
    """

    blocking = False

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._state = _State()
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))

    def run(self, work: Callable[[Any], T]) -> T:
        with self._lock:
            saved = self._state.copy()
            try:
                return work(_Writer(self._state, self._clock))
            except BaseException:
                self._state = saved
                raise

    async def arun(self, work: Callable[[Any], T]) -> T:
        return self.run(work)

    def __repr__(self) -> str:
        return f"<MemoryBillingStore objects={len(self._state.rows)}>"
