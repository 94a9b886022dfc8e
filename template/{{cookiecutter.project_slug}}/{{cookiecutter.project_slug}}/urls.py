from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/stripe/pricing")),
    # Django's sign-in and sign-out (accounts/login/, accounts/logout/).
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("stripe/", include("stripekit_django.urls")),
]
