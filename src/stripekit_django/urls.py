"""``path("stripe/", include("stripekit_django.urls"))``: every shop route, namespaced."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "stripekit"

urlpatterns = [
    path("checkout", views.checkout, name="checkout"),
    path("success", views.success, name="success"),
    path("cancel", views.cancel, name="cancel"),
    path("pricing", views.pricing_page, name="pricing"),
    path("portal", views.portal, name="portal"),
    path("products", views.products, name="products"),
    path("config", views.config, name="config"),
    path("webhook", views.webhook, name="webhook"),
]
