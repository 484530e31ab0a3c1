"""``/api/v1/catalog/offers`` and ``/api/v1/catalog/offers/<code>`` (mounted under ``v1/`` by ``api/urls.py``)."""

from rest_framework.routers import SimpleRouter

from .catalog_views import CatalogOfferViewSet

router = SimpleRouter(trailing_slash=False)
router.register("catalog/offers", CatalogOfferViewSet, basename="api-catalog-offer")

urlpatterns = router.urls
