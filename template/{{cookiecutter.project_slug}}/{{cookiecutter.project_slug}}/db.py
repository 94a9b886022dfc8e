"""The shop's own records, in SQLite: orders, subscriptions{% if cookiecutter.credits_product %}, credits{% endif %}."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from . import ROOT

_lock = threading.Lock()


def path() -> Path:
    return Path(os.environ.get("SHOP_DATABASE", ROOT / "shop.sqlite3"))


def connect() -> sqlite3.Connection:
    connection = sqlite3.connect(path(), check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.executescript(
        """
        CREATE TABLE IF NOT EXISTS orders (
            session_id TEXT PRIMARY KEY, product TEXT, quantity INTEGER, email TEXT,
            amount INTEGER, currency TEXT, created TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE IF NOT EXISTS subscriptions (
            id TEXT PRIMARY KEY, customer TEXT, status TEXT, last_invoice TEXT);
        CREATE TABLE IF NOT EXISTS credits (email TEXT PRIMARY KEY, balance INTEGER NOT NULL);
        """
    )
    return connection


def write(sql: str, params: tuple[object, ...]) -> int:
    """One write, committed; the number of rows it changed."""
    with _lock:
        connection = connect()
        try:
            with connection:
                return connection.execute(sql, params).rowcount
        finally:
            connection.close()


def read(sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    connection = connect()
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()
