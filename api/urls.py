"""API v1. Each area owns its own module, included here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/auth/token", views.ObtainTokenView.as_view(), name="api-token"),
    path("v1/", include("api.clients_urls")),
    path("v1/", include("api.catalog_urls")),
    path("v1/", include("api.inventory_urls")),
    path("v1/", include("api.contracts_urls")),
    path("v1/", include("api.billing_urls")),
]
