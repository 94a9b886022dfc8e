"""What every page's layout needs, stripekit's pages or not (the sign-in page)."""

from functools import cache
from importlib.resources import files

from django.http import HttpRequest

from . import SHOP_NAME


@cache
def _stylesheet() -> str:
    return files("stripekit").joinpath("templates/stripekit/style.css").read_text()


def shop(request: HttpRequest) -> dict[str, str]:
    return {"shop_name": SHOP_NAME, "stripekit_css": _stylesheet()}
