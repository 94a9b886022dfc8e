"""The project's own pages."""

from importlib.resources import files

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shop.models import CreditBalance, Order, Subscription

from . import SHOP_NAME


def account(request: HttpRequest) -> HttpResponse:
    """What the webhook handlers recorded (a real shop shows only the signed-in customer's)."""
    return render(
        request,
        "account.html",
        {
            "shop_name": SHOP_NAME,
            "stripekit_css": files("stripekit").joinpath("templates/stripekit/style.css").read_text(),
            "orders": Order.objects.order_by("-id"),
            "subscriptions": Subscription.objects.all(),
            "credits": CreditBalance.objects.all(),
        },
    )
