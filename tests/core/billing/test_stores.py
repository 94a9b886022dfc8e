"""The billing store suite (tests/support/billing_store_suite.py): memory, SQLite, PostgreSQL."""

from __future__ import annotations

from billing_store_suite import *  # noqa: F403
