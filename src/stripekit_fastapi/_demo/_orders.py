"""The demo shop's own database: the orders its webhook handlers fulfil."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Order", "OrderBook"]


@dataclass(frozen=True)
class Order:
    """One fulfilled checkout."""

    session_id: str
    product: str
    quantity: int
    total: str
    email: str | None
    status: str


class OrderBook:
    """Orders in SQLite (the app's data, apart from stripekit's event store)."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._connection:
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS orders (session_id TEXT PRIMARY KEY, product TEXT, "
                "quantity INTEGER, total TEXT, email TEXT, status TEXT, "
                "created TIMESTAMP DEFAULT CURRENT_TIMESTAMP)"
            )

    def record(self, order: Order) -> bool:
        """Record an order once; False if it was already there (a redelivery)."""
        with self._lock, self._connection:
            cursor = self._connection.execute(
                "INSERT OR IGNORE INTO orders (session_id, product, quantity, total, email, status)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (order.session_id, order.product, order.quantity, order.total, order.email,
                 order.status),
            )  # fmt: skip
            return cursor.rowcount == 1

    def set_status(self, session_id: str, status: str) -> None:
        """Update an order's status (a subscription renewed, ended...)."""
        with self._lock, self._connection:
            self._connection.execute(
                "UPDATE orders SET status = ? WHERE session_id = ?", (status, session_id)
            )

    def all(self) -> list[Order]:
        """Every order, newest first."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT session_id, product, quantity, total, email, status FROM orders "
                "ORDER BY created DESC, rowid DESC"
            ).fetchall()
        return [Order(*row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self._connection.close()
