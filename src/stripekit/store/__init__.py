"""Event stores: where every verified event is recorded before it is acknowledged.

Implementations of the protocol that ``stripekit.webhooks`` owns: ``_memory``
(tests, one process), ``_sql`` over SQLAlchemy Core (SQLite by default,
PostgreSQL for many processes; ``_sql_schema``, ``_sql_engine``,
``_sql_direct``, ``_sql_batch`` and ``_sqlite_writer`` are its parts), and
``_factory``, which opens one from a URL. ``_rows`` holds what every
implementation shares, the Django store (``stripekit_django.store``) included.

May import: ``webhooks`` (the protocol and the event) and the top-level
helpers; never the reverse. Public names are exported from ``stripekit``.
"""
