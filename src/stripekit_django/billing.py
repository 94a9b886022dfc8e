"""The billing mirror through the Django ORM: the same semantics as the core's stores.

``run`` is one ``transaction.atomic``: inside the Django kit's own unit of work
(the atomic block around an event's handlers and its status) it is a savepoint
of that same transaction, so the state an event produced commits with the
event, and rolls back with it when an app handler raises.

Every write that two workers could race on is one the database settles: a
conditional ``UPDATE ... WHERE version < new`` (then an ``INSERT`` refused by
the primary key if the row is new), a ledger entry refused by its unique
source, a spend that is ``UPDATE ... WHERE balance >= amount``. Each refused
``INSERT`` runs in a savepoint of its own, so that on PostgreSQL it does not
abort the transaction around it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.db.models import F

from stripekit.billing._models import CreditEntry
from stripekit.billing._store import ALL_ACCOUNTS, COLUMNS, Kind, PutResult, Row, SpendOutcome

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import CreditBalance, CreditLedgerEntry, MirroredObject

__all__ = ["DjangoBillingStore"]

T = TypeVar("T")


class _Insufficient(Exception):
    """Rolls a spend's savepoint back: the balance was smaller than the amount."""


class _Writer:
    """The mirror's operations on one database, inside ``DjangoBillingStore.run``."""

    def __init__(self, using: str, now: datetime) -> None:
        self._using = using
        self._now = now

    def _objects(self, kind: Kind) -> QuerySet[MirroredObject]:
        from .models import MODELS

        return MODELS[kind].objects.using(self._using)

    @property
    def _ledger(self) -> QuerySet[CreditLedgerEntry]:
        from .models import CreditLedgerEntry

        return CreditLedgerEntry.objects.using(self._using)

    @property
    def _balances(self) -> QuerySet[CreditBalance]:
        from .models import CreditBalance

        return CreditBalance.objects.using(self._using)

    def _insert(self, rows: QuerySet[Any], **values: Any) -> bool:
        """Insert a row; False if the database refused it as a duplicate."""
        try:
            with transaction.atomic(using=self._using):
                rows.create(**values)
        except IntegrityError:
            return False
        return True

    # -- objects --------------------------------------------------------------------------

    def put(self, row: Row, *, allow_equal: bool = False) -> PutResult:
        objects = self._objects(row.kind)
        values = row.stored_values()
        older = {"version__lte" if allow_equal else "version__lt": row.version}
        if objects.filter(id=row.id, **older).update(**values):
            return PutResult.APPLIED
        stored = objects.filter(id=row.id).values_list("version", "event").first()
        if stored is None:
            if self._insert(objects, id=row.id, **values):
                return PutResult.APPLIED
            # Another worker inserted it meanwhile: the same guarded write, over its row.
            if objects.filter(id=row.id, **older).update(**values):
                return PutResult.APPLIED
            stored = objects.filter(id=row.id).values_list("version", "event").get()
        version, event = stored
        if version != row.version:
            return PutResult.STALE
        return PutResult.SAME if row.event is not None and event == row.event else PutResult.TIE

    def replace(self, row: Row) -> None:
        objects = self._objects(row.kind)
        stored = self.get(row.kind, row.id)
        values = row.stored_values()
        values["version"] = max(row.version, stored.version if stored is not None else 0)
        if stored is not None and values["version"] != row.version:
            values["event"] = stored.event
        if stored is None:
            objects.create(id=row.id, **values)
        else:
            objects.filter(id=row.id).update(**values)

    def get(self, kind: Kind, object_id: str) -> Row | None:
        found = self._objects(kind).filter(id=object_id).first()
        return None if found is None else _row(kind, found)

    def find(self, kind: Kind, column: str, values: Collection[str]) -> list[Row]:
        if not values:
            return []
        found = self._objects(kind).filter(**{f"{column}__in": list(values)}).order_by("id")
        return [_row(kind, obj) for obj in found]

    # -- customers and users --------------------------------------------------------------

    def link(self, customer: str, user: str, account: str | None = None) -> str:
        customers = self._objects(Kind.CUSTOMER)
        link = {"user_ref": user, "linked_at": self._now}
        if customers.filter(id=customer, user_ref__isnull=True).update(**link):
            return user
        linked = self.user_of(customer)
        if linked is not None:
            return linked  # the first link stays
        # A customer not mirrored yet gets a placeholder row (version 0): its object,
        # when it comes, is written over it and the link stays.
        placeholder = {"version": 0, "deleted": False, "data": {}, "account": account}
        if self._insert(customers, id=customer, **placeholder, **link):
            return user
        customers.filter(id=customer, user_ref__isnull=True).update(**link)
        return self.user_of(customer) or user

    def user_of(self, customer: str) -> str | None:
        found = self._objects(Kind.CUSTOMER).filter(id=customer).values_list("user_ref")
        first = found.first()
        return None if first is None else first[0]

    def customers_of(self, user: str, account: str | None = None) -> list[str]:
        found = self._objects(Kind.CUSTOMER).filter(user_ref=user)
        if account is None:
            found = found.filter(account__isnull=True)
        elif account != ALL_ACCOUNTS:
            found = found.filter(account=account)
        return list(found.order_by("-linked_at", "-id").values_list("id", flat=True))

    # -- credits --------------------------------------------------------------------------

    def grant(self, owner: str, amount: int, reason: str, source: str) -> bool:
        if not self._add(owner, amount, reason, source):
            return False
        self._move_balance(owner, amount)
        return True

    def spend(self, owner: str, amount: int, reason: str, key: str) -> SpendOutcome:
        try:
            with transaction.atomic(using=self._using):
                # The ledger entry first: its unique source settles a repeated key at once
                # (PostgreSQL makes a concurrent twin wait here for the first one's commit).
                self._ledger.create(
                    owner=owner, amount=-amount, reason=reason, source=f"spend:{key}",
                    created_at=self._now,
                )  # fmt: skip
                # One conditional UPDATE: concurrent spends queue on the balance's row,
                # and each sees what the one before it left.
                taken = self._balances.filter(owner=owner, balance__gte=amount).update(
                    balance=F("balance") - amount
                )
                if not taken:
                    raise _Insufficient  # rolls the ledger entry back: no trace
        except IntegrityError:
            return SpendOutcome.DUPLICATE
        except _Insufficient:
            return SpendOutcome.INSUFFICIENT
        return SpendOutcome.SPENT

    def take_back(self, owner: str, amount: int, reason: str, source: str) -> int:
        if self._ledger.filter(source=source).exists():
            return 0
        # Locked (PostgreSQL) from the read to the write: a spend cannot slip between.
        held = self._balances.select_for_update().filter(owner=owner).values_list("balance")
        balance = held.first()
        taken = max(0, min(amount, balance[0] if balance is not None else 0))
        if self._add(owner, -taken, reason, source):
            self._move_balance(owner, -taken)
            return taken
        return 0

    def balance(self, owner: str) -> int:
        found = self._balances.filter(owner=owner).values_list("balance").first()
        return 0 if found is None else int(found[0])

    def history(self, owner: str, limit: int) -> list[CreditEntry]:
        entries = self._ledger.filter(owner=owner).order_by("-id")[:limit]
        return [_entry(entry) for entry in entries]

    def entries_from(self, prefix: str) -> list[CreditEntry]:
        entries = self._ledger.filter(source__startswith=prefix).order_by("id")
        return [_entry(entry) for entry in entries]

    def move_credits(self, from_owner: str, to_owner: str) -> None:
        if from_owner == to_owner:
            return
        self._ledger.filter(owner=from_owner).update(owner=to_owner)
        moved = self.balance(from_owner)
        self._balances.filter(owner=from_owner).delete()
        if moved:
            self._move_balance(to_owner, moved)

    def _add(self, owner: str, amount: int, reason: str, source: str) -> bool:
        return self._insert(
            self._ledger, owner=owner, amount=amount, reason=reason, source=source,
            created_at=self._now,
        )  # fmt: skip

    def _move_balance(self, owner: str, amount: int) -> None:
        balances = self._balances
        if balances.filter(owner=owner).update(balance=F("balance") + amount):
            return
        if not self._insert(balances, owner=owner, balance=amount):
            # Another worker made the row meanwhile.
            balances.filter(owner=owner).update(balance=F("balance") + amount)


def _row(kind: Kind, obj: MirroredObject) -> Row:
    columns = {name: getattr(obj, name) for name in COLUMNS[kind]}
    if kind is Kind.CUSTOMER:
        columns["user_ref"] = getattr(obj, "user_ref", None)
    data = dict(obj.data or {})
    return Row(kind, obj.id, columns, data, int(obj.version), obj.event, obj.account)


def _entry(entry: CreditLedgerEntry) -> CreditEntry:
    return CreditEntry(int(entry.amount), entry.reason, entry.source, entry.created_at)


class DjangoBillingStore:
    """The billing mirror in the project's database (the ``Billing*`` and ``Credit*`` models).

    The Django integration's kit uses it (``stripekit_django.get_kit()``); pass
    ``using`` for a database other than ``default``.

    Example:
        >>> kit = StripeKit(store=DjangoEventStore(),  # doctest: +SKIP
        ...                 billing_store=DjangoBillingStore(), unit_of_work=transaction.atomic)
        >>> kit.billing.is_subscribed(str(request.user.pk), "pro")  # doctest: +SKIP
        True
    """

    blocking = True

    def __init__(self, using: str = "default") -> None:
        self.using = using

    def __repr__(self) -> str:
        return f"<DjangoBillingStore using={self.using!r}>"

    def run(self, work: Callable[[Any], T]) -> T:
        """Run ``work`` in ``transaction.atomic``: its own transaction, or a savepoint of
        the caller's (the kit's unit of work), rolled back entirely if ``work`` raises."""
        with transaction.atomic(using=self.using):
            return work(_Writer(self.using, datetime.now(UTC)))

    async def arun(self, work: Callable[[Any], T]) -> T:
        """Async twin of ``run``: on the thread Django's own async ORM calls use."""
        result: T = await sync_to_async(self.run, thread_sensitive=True)(work)
        return result
