"""Back-office URLs. Each area owns its own module, included here."""

from django.urls import include, path

from . import views

app_name = "backoffice"

urlpatterns = [
    path("", views.home, name="home"),
    path("clients/", include("backoffice.clients_urls")),
    path("catalogue/", include("backoffice.catalog_urls")),
    path("stock/", include("backoffice.inventory_urls")),
    path("parametres/", include("backoffice.settings_urls")),
    path("factures/", include("backoffice.billing_urls")),
    path("", include("backoffice.contracts_urls")),
]
