"""The demo shop: the emulator and a FastAPI shop wired together (``stripekit demo``).

A one-time product, a credits pack and a monthly subscription with a trial; a
SQLite event store; handlers that record fulfilment in the shop's own SQLite
table and print it; an orders page that shows it. With a real test key in
STRIPE_SECRET_KEY (and no STRIPE_API_BASE) it talks to Stripe instead.
"""

from __future__ import annotations

from ._app import create_demo_app, demo_catalog
from ._run import DemoShop, run_demo, running_demo

__all__ = ["DemoShop", "create_demo_app", "demo_catalog", "run_demo", "running_demo"]
