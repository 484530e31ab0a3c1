"""Test URLconf: the site's URLs plus the DEBUG-only mailbox pages (alphalink/urls.py mounts them only when
DEBUG, and tests run with DEBUG off)."""

from django.urls import include, path

from alphalink.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("dev/boite-mail/", include("notifications.dev_urls")),
    *site_urlpatterns,
]
