from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(url="/stripe/pricing")),
{%- if cookiecutter.account_page %}
    path("account", views.account, name="account"),
{%- endif %}
    path("admin/", admin.site.urls),
    path("stripe/", include("stripekit_django.urls")),
]
