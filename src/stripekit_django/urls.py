"""``path("stripe/", include("stripekit_django.urls"))``: every shop route, namespaced."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "stripekit"

urlpatterns = [
    path("checkout", views.checkout, name="checkout"),
    path("success", views.success, name="success"),
    path("checkout/embedded", views.checkout_embedded, name="checkout_embedded"),
    path("checkout/return", views.checkout_return, name="checkout_return"),
    path("pay", views.pay, name="pay"),
    path("pay/intent", views.pay_intent, name="pay_intent"),
    path("pay/return", views.pay_return, name="pay_return"),
    path("cancel", views.cancel, name="cancel"),
    path("pricing", views.pricing_page, name="pricing"),
    path("portal", views.portal, name="portal"),
    path("products", views.products, name="products"),
    path("config", views.config, name="config"),
    path("webhook", views.webhook, name="webhook"),
    path("health", views.health, name="health"),
    path("metrics", views.metrics, name="metrics"),
    path("account", views.account, name="account"),
    path("account/cancel", views.account_cancel, name="account_cancel"),
    path("account/resume", views.account_resume, name="account_resume"),
    path("account/change-plan", views.account_change_plan, name="account_change_plan"),
    path("account/preview-change", views.account_preview_change, name="account_preview_change"),
    path("account/retry", views.account_retry, name="account_retry"),
]
