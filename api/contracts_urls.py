"""``/api/v1/orders`` and ``/api/v1/contracts`` (mounted under ``v1/`` by ``api/urls.py``)."""

from rest_framework.routers import SimpleRouter

from .contracts_views import ContractViewSet, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="api-order")
router.register("contracts", ContractViewSet, basename="api-contract")

urlpatterns = router.urls
