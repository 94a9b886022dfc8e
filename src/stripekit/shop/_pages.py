"""The shop's pages (pricing, success, cancel, account, error), rendered from Jinja2 templates.

The templates ship in the package under ``stripekit/``; an app overrides one
by putting a file of the same name (e.g. ``stripekit/pricing.html``) in one of
its own template directories, which are searched first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ERROR_TITLES", "Pages"]

ERROR_TITLES = {
    400: "Check your order",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    422: "Check your order",
    502: "Payment provider error",
}


class Pages:
    """Renders the shop pages; the app's template directories come first.

    Example:
        >>> pages = Pages(shop_name="Book shop")
        >>> "Checkout canceled" in pages.render(
        ...     "cancel.html", urls={"pricing": "/stripe/pricing", "checkout": ""})
        True
    """

    def __init__(
        self,
        template_dirs: Sequence[str | os.PathLike[str]] = (),
        *,
        shop_name: str = "Shop",
        mode: str | None = None,
    ) -> None:
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader

        self.shop_name = shop_name
        self.mode = mode
        self.environment = Environment(
            loader=ChoiceLoader(
                [
                    FileSystemLoader([os.fspath(d) for d in template_dirs]),
                    PackageLoader("stripekit", "templates"),
                ]
            ),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(self, name: str, *, urls: Mapping[str, str], **context: Any) -> str:
        """Render ``stripekit/<name>`` with the shop's name, mode and route URLs."""
        template = self.environment.get_template(f"stripekit/{name}")
        return template.render(shop_name=self.shop_name, mode=self.mode, urls=urls, **context)

    def render_template(self, path: str, *, urls: Mapping[str, str], **context: Any) -> str:
        """Render one of the app's own templates (``orders.html``) in the shop's frame."""
        template = self.environment.get_template(path)
        return template.render(shop_name=self.shop_name, mode=self.mode, urls=urls, **context)

    def error(self, status: int, message: str, *, urls: Mapping[str, str], **context: Any) -> str:
        """The error page for an HTTP status."""
        title = ERROR_TITLES.get(status, "Something went wrong")
        return self.render(
            "error.html", urls=urls, title=title, message=message, status=status, **context
        )
