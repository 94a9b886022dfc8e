"""The shop: what a buyer does before paying and sees after.

``_checkout`` builds Checkout Sessions from the catalog; ``_portal`` opens the
billing portal; ``_views`` is what the ready-made routes decide, for every web
framework (the integrations only translate requests and responses);
``_pages`` renders the pages from the package's ``stripekit/templates/`` (kept at
the package's top: generated projects read its stylesheet from there).

May import: ``catalog`` and the top-level helpers; never the kit (``ShopKit``
in ``_views`` says what the shop needs of it). Public names are exported from
``stripekit``.
"""
