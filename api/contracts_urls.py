"""``/api/v1/orders`` and ``/api/v1/contracts`` (mounted under ``v1/`` by ``api/urls.py``)."""

from rest_framework.routers import SimpleRouter

from .contract_actions import ContractActionViewSet
from .contracts_views import ContractViewSet, OrderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="api-order")
router.register("contracts", ContractViewSet, basename="api-contract")
router.register("contracts", ContractActionViewSet, basename="api-contract-action")  # POST …/{id}/<action>

urlpatterns = router.urls
