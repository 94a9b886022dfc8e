"""SQLBillingStore: the billing mirror in the SQL event store's database.

Its tables live beside the events' (``stripekit_billing_*``), are created and
upgraded by their own migrations, and are written through the event store's
transactions: with SQLite, the writer connection and, from async code, the
same batched commits as the events themselves.

Each write is one statement the database makes atomic: a guarded upsert
(``INSERT ... ON CONFLICT DO UPDATE ... WHERE version < new``), a grant
refused by the source's unique index, a spend that is an ``UPDATE ... WHERE
balance >= amount``. So two workers never both win, on SQLite or PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from stripekit.store._sql_direct import DirectStatement, driver_connection
from stripekit.store._sql_schema import UTCDateTime, apply_migrations

from ._models import CreditEntry
from ._store import ALL_ACCOUNTS, COLUMNS, Kind, PutResult, Row, SpendOutcome

if TYPE_CHECKING:
    from stripekit.store._sql import SQLEventStore

__all__ = ["SQLBillingStore"]

T = TypeVar("T")

PREFIX = "stripekit_billing_"


class _Tables:
    """The mirror's tables, and its hot statements built once (SQLAlchemy's cost is in
    building a statement, not in running a built one with new values).

    ``first=True``: the tables exactly as migration 1 creates them.
    """

    def __init__(self, prefix: str, *, first: bool = False) -> None:
        self._statements: dict[tuple[Any, ...], Any] = {}
        self.metadata = MetaData()
        self.objects: dict[Kind, Table] = {}
        for kind in Kind:
            table = _object_table_v1(self.metadata, prefix, kind)
            if not first:
                table.append_column(_account_column())  # migration 2
            self.objects[kind] = table
        self.credits = Table(
            f"{prefix}credits",
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("owner", String(255), nullable=False, index=True),
            Column("amount", BigInteger, nullable=False),
            Column("reason", Text, nullable=False),
            # Unique: a grant (or a spend's idempotency key) is written once, whoever asks.
            Column("source", String(255), nullable=False, unique=True),
            Column("created_at", UTCDateTime, nullable=False),
        )
        self.balances = Table(
            f"{prefix}balances",
            self.metadata,
            Column("owner", String(255), primary_key=True),
            Column("balance", BigInteger, nullable=False),
        )
        self.versions = Table(
            f"{prefix}schema_version",
            self.metadata,
            Column("version", Integer, primary_key=True, autoincrement=False),
            Column("applied_at", UTCDateTime, nullable=False),
        )

    def upsert(self, dialect: str, kind: Kind, allow_equal: bool) -> Any:
        """INSERT, or UPDATE over an older version (the same one too, with allow_equal)."""
        key = ("upsert", dialect, kind, allow_equal)
        statement = self._statements.get(key)
        if statement is None:
            table = self.objects[kind]
            module = postgresql if dialect == "postgresql" else sqlite
            names = ["id", "version", "event", "account", *COLUMNS[kind], "data"]
            insert_ = module.insert(table).values({name: bindparam(name) for name in names})
            newer = insert_.excluded.version
            guard = table.c.version <= newer if allow_equal else table.c.version < newer
            statement = insert_.on_conflict_do_update(
                index_elements=[table.c.id],
                set_={name: insert_.excluded[name] for name in names if name != "id"},
                where=guard,
            ).execution_options(preserve_rowcount=True)
            self._statements[key] = statement
        return statement

    def version_of(self, kind: Kind) -> Any:
        key = ("version", kind)
        if key not in self._statements:
            table = self.objects[kind]
            query = select(table.c.version, table.c.event).where(table.c.id == bindparam("b_id"))
            self._statements[key] = query
        return self._statements[key]

    def direct(
        self, key: tuple[Any, ...], statement: Any, dialect: Any, values: dict[str, Any]
    ) -> DirectStatement:
        """``statement`` compiled once for sqlite3 (its values through the types' own
        bind processors, JSON included), run without SQLAlchemy's per-call work."""
        found = self._statements.get(("direct", *key))
        if found is None:
            found = DirectStatement(statement, dialect, values.keys())
            self._statements[("direct", *key)] = found
        direct: DirectStatement = found
        return direct

    def sqlite_get(self, conn: Connection, kind: Kind, object_id: str) -> Row | None:
        """A row by id, read straight from sqlite3: the other hot statement."""
        key = ("sqlite_get", kind)
        sql = self._statements.get(key)
        if sql is None:
            # SQLAlchemy's own statement, compiled once: "SELECT ... WHERE id = ?".
            sql = str(self.select_by_id(kind).compile(dialect=conn.dialect))
            self._statements[key] = sql
        cursor = driver_connection(conn).execute(sql, (object_id,))
        found = cursor.fetchone()
        if found is None:
            return None
        mapping = dict(zip((c[0] for c in cursor.description), found, strict=True))
        mapping["data"] = json.loads(mapping["data"]) if mapping["data"] else {}
        if "deleted" in mapping:
            mapping["deleted"] = bool(mapping["deleted"])
        return _row_from_mapping(kind, mapping)

    def select_by_id(self, kind: Kind) -> Any:
        key = ("select", kind)
        if key not in self._statements:
            table = self.objects[kind]
            self._statements[key] = select(table).where(table.c.id == bindparam("b_id"))
        return self._statements[key]


def _object_table_v1(metadata: MetaData, prefix: str, kind: Kind) -> Table:
    # Migration 1 creates exactly this table. A later migration that changes it says
    # so beside it (see _Tables), never by editing this one.
    columns: list[Any] = [
        Column("id", String(255), primary_key=True),
        Column("version", BigInteger, nullable=False),
        Column("event", String(255), nullable=True),
    ]
    for name in COLUMNS[kind]:
        if name == "deleted":
            columns.append(Column(name, Boolean, nullable=False, default=False))
        else:
            columns.append(Column(name, String(255), nullable=True, index=True))
    if kind is Kind.CUSTOMER:
        # The link to the app's user: written by link() only, never by an object write.
        columns.append(Column("user_ref", String(255), nullable=True, index=True))
        columns.append(Column("linked_at", UTCDateTime, nullable=True))
    columns.append(Column("data", JSON, nullable=False))
    return Table(f"{prefix}{kind.value}s", metadata, *columns)


def _account_column() -> Column[str]:
    # The connected account (acct_...) the object lives in; NULL: the platform's own.
    return Column("account", String(255), nullable=True)


def _create(conn: Connection, prefix: str) -> None:
    _Tables(prefix, first=True).metadata.create_all(conn)


def _add_account(conn: Connection, prefix: str) -> None:
    # Rows written before it were all taken as the platform's (NULL): a platform that
    # mirrored Connect events before repairs them from Stripe (stripekit billing sync).
    kind = _account_column().type.compile(dialect=conn.dialect)
    for table in Kind:
        conn.exec_driver_sql(f"ALTER TABLE {prefix}{table.value}s ADD COLUMN account {kind}")


MIGRATIONS: list[Callable[[Connection, str], None]] = [
    _create,  # 1
    _add_account,  # 2: each mirrored object's account (Connect)
]
"""Migration ``n`` is ``MIGRATIONS[n - 1]``; append, never edit or reorder."""


class _Writer:
    def __init__(self, conn: Connection, tables: _Tables, now: datetime) -> None:
        self._conn = conn
        self._t = tables
        self._now = now

    def put(self, row: Row, *, allow_equal: bool = False) -> PutResult:
        dialect = self._conn.dialect
        statement = self._t.upsert(dialect.name, row.kind, allow_equal)
        values = _values(row)
        if dialect.name == "sqlite":
            # The hot write of every event: straight to sqlite3 (see DirectStatement).
            direct = self._t.direct(("upsert", row.kind, allow_equal), statement, dialect, values)
            applied = direct.run(self._conn, values) == 1
        else:
            applied = self._conn.execute(statement, values).rowcount == 1
        if applied:
            return PutResult.APPLIED
        found = self._conn.execute(self._t.version_of(row.kind), {"b_id": row.id}).one()
        version, event = found
        if version != row.version:
            return PutResult.STALE
        return PutResult.SAME if row.event is not None and event == row.event else PutResult.TIE

    def replace(self, row: Row) -> None:
        table = self._t.objects[row.kind]
        stored = self.get(row.kind, row.id)
        values = _values(row)
        values["version"] = max(row.version, stored.version if stored is not None else 0)
        if stored is not None and values["version"] != row.version:
            values["event"] = stored.event
        if stored is None:
            self._conn.execute(insert(table).values(values))
        else:
            self._conn.execute(update(table).where(table.c.id == row.id).values(values))

    def get(self, kind: Kind, object_id: str) -> Row | None:
        if self._conn.dialect.name == "sqlite":
            return self._t.sqlite_get(self._conn, kind, object_id)
        found = self._conn.execute(self._t.select_by_id(kind), {"b_id": object_id}).first()
        return None if found is None else _row(kind, found)

    def find(self, kind: Kind, column: str, values: Collection[str]) -> list[Row]:
        if not values:
            return []
        table = self._t.objects[kind]
        query = select(table).where(table.c[column].in_(list(values))).order_by(table.c.id)
        return [_row(kind, found) for found in self._conn.execute(query)]

    def link(self, customer: str, user: str, account: str | None = None) -> str:
        table = self._t.objects[Kind.CUSTOMER]
        module = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        # A customer not mirrored yet gets a placeholder row (version 0): its object,
        # when it comes, is written over it and the link stays.
        self._conn.execute(
            module.insert(table)
            .values(id=customer, version=0, deleted=False, data={}, account=account)
            .on_conflict_do_nothing(index_elements=[table.c.id])
        )
        self._conn.execute(
            update(table)
            .where(table.c.id == customer, table.c.user_ref.is_(None))
            .values(user_ref=user, linked_at=self._now)
        )
        linked = self._conn.execute(select(table.c.user_ref).where(table.c.id == customer))
        return str(linked.scalar_one())

    def user_of(self, customer: str) -> str | None:
        table = self._t.objects[Kind.CUSTOMER]
        found = self._conn.execute(select(table.c.user_ref).where(table.c.id == customer))
        return found.scalar()

    def customers_of(self, user: str, account: str | None = None) -> list[str]:
        table = self._t.objects[Kind.CUSTOMER]
        query = select(table.c.id).where(table.c.user_ref == user)
        if account is None:
            query = query.where(table.c.account.is_(None))
        elif account != ALL_ACCOUNTS:
            query = query.where(table.c.account == account)
        query = query.order_by(table.c.linked_at.desc(), table.c.id.desc())
        return list(self._conn.execute(query).scalars())

    def grant(self, owner: str, amount: int, reason: str, source: str) -> bool:
        if not self._add(owner, amount, reason, source):
            return False
        self._move_balance(owner, amount)
        return True

    def spend(self, owner: str, amount: int, reason: str, key: str) -> SpendOutcome:
        source = f"spend:{key}"
        # The ledger entry first: its unique source settles a repeated key at once
        # (PostgreSQL makes a concurrent twin wait here for the first one's commit).
        if not self._add(owner, -amount, reason, source):
            return SpendOutcome.DUPLICATE
        balances = self._t.balances
        taken = self._conn.execute(
            update(balances)
            .where(balances.c.owner == owner, balances.c.balance >= amount)
            .values(balance=balances.c.balance - amount)
        ).rowcount
        if taken == 1:
            return SpendOutcome.SPENT
        self._conn.execute(delete(self._t.credits).where(self._t.credits.c.source == source))
        return SpendOutcome.INSUFFICIENT

    def take_back(self, owner: str, amount: int, reason: str, source: str) -> int:
        credits = self._t.credits
        if self._conn.execute(select(credits.c.id).where(credits.c.source == source)).first():
            return 0
        taken = max(0, min(amount, self.balance(owner)))
        if self._add(owner, -taken, reason, source):
            self._move_balance(owner, -taken)
            return taken
        return 0

    def balance(self, owner: str) -> int:
        balances = self._t.balances
        found = self._conn.execute(select(balances.c.balance).where(balances.c.owner == owner))
        return int(found.scalar() or 0)

    def history(self, owner: str, limit: int) -> list[CreditEntry]:
        credits = self._t.credits
        query = (
            select(credits)
            .where(credits.c.owner == owner)
            .order_by(credits.c.id.desc())
            .limit(limit)
        )
        return [_entry(found) for found in self._conn.execute(query)]

    def entries_from(self, prefix: str) -> list[CreditEntry]:
        credits = self._t.credits
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(credits)
            .where(credits.c.source.like(f"{escaped}%", escape="\\"))
            .order_by(credits.c.id)
        )
        return [_entry(found) for found in self._conn.execute(query)]

    def move_credits(self, from_owner: str, to_owner: str) -> None:
        if from_owner == to_owner:
            return
        credits, balances = self._t.credits, self._t.balances
        self._conn.execute(
            update(credits).where(credits.c.owner == from_owner).values(owner=to_owner)
        )
        moved = self.balance(from_owner)
        self._conn.execute(delete(balances).where(balances.c.owner == from_owner))
        if moved:
            self._move_balance(to_owner, moved)

    def _add(self, owner: str, amount: int, reason: str, source: str) -> bool:
        credits = self._t.credits
        module = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        statement = (
            module.insert(credits)
            .values(owner=owner, amount=amount, reason=reason, source=source, created_at=self._now)
            .on_conflict_do_nothing(index_elements=[credits.c.source])
            .execution_options(preserve_rowcount=True)
        )
        return self._conn.execute(statement).rowcount == 1

    def _move_balance(self, owner: str, amount: int) -> None:
        balances = self._t.balances
        module = postgresql if self._conn.dialect.name == "postgresql" else sqlite
        statement = module.insert(balances).values(owner=owner, balance=amount)
        self._conn.execute(
            statement.on_conflict_do_update(
                index_elements=[balances.c.owner],
                set_={"balance": balances.c.balance + statement.excluded.balance},
            )
        )


def _values(row: Row) -> dict[str, Any]:
    return {"id": row.id, **row.stored_values()}


def _row(kind: Kind, found: Any) -> Row:
    return _row_from_mapping(kind, found._mapping)


def _row_from_mapping(kind: Kind, mapping: Any) -> Row:
    columns = {name: mapping[name] for name in COLUMNS[kind]}
    if kind is Kind.CUSTOMER:
        columns["user_ref"] = mapping["user_ref"]
    data = dict(mapping["data"] or {})
    version, event, account = int(mapping["version"]), mapping["event"], mapping["account"]
    return Row(kind, mapping["id"], columns, data, version, event, account)


def _entry(found: Any) -> CreditEntry:
    return CreditEntry(int(found.amount), found.reason, found.source, found.created_at)


class SQLBillingStore:
    """The billing mirror in the SQL event store's database, through its transactions.

    Example:
        >>> from stripekit import SQLEventStore
        >>> events = SQLEventStore("sqlite://")
        >>> SQLBillingStore(events).run(lambda tx: tx.balance("user:ada"))
        0
    """

    blocking = True

    def __init__(self, events: SQLEventStore, *, table_prefix: str = PREFIX) -> None:
        self.events = events
        self._tables = _Tables(table_prefix)
        self._prefix = table_prefix
        self._ready = False
        self._migrate_lock = threading.Lock()

    def migrate(self) -> int:
        """Create or upgrade the mirror's tables; a no-op when they are current."""
        with self._migrate_lock:
            engine = self.events.engine
            with self.events._errors(), engine.connect() as conn:
                version = apply_migrations(
                    conn, self._tables.versions, MIGRATIONS, self._prefix, _utcnow(),
                    what="billing mirror",
                )  # fmt: skip
                conn.commit()
            self._ready = True
            return version

    def run(self, work: Callable[[Any], T]) -> T:
        if not self._ready:
            self.migrate()
        with self.events.transaction() as conn:
            return work(_Writer(conn, self._tables, _utcnow()))

    async def arun(self, work: Callable[[Any], T]) -> T:
        call_async = getattr(self.events, "call_async", None)
        if not self._ready:
            await asyncio.to_thread(self.migrate)
        if call_async is not None:
            # SQLite: into the same batched commits as the events' own writes.
            result: T = await call_async(self.run, work)
            return result
        return await asyncio.to_thread(self.run, work)

    def __repr__(self) -> str:
        return f"<SQLBillingStore on {self.events!r}>"


def _utcnow() -> datetime:
    return datetime.now(tz=UTC)
