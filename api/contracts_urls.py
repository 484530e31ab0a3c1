"""``/api/v1/orders`` and ``/api/v1/contracts`` (mounted under ``v1/`` by ``api/urls.py``)."""

from rest_framework.routers import SimpleRouter

from .contract_actions import ContractActionViewSet
from .contracts_views import ContractViewSet, OrderViewSet
from .usage_views import ContractUsageViewSet

router = SimpleRouter(trailing_slash=False)
router.register("orders", OrderViewSet, basename="api-order")
router.register("contracts", ContractViewSet, basename="api-contract")
router.register("contracts", ContractActionViewSet, basename="api-contract-action")  # POST …/{id}/<action>
# GET …/{id}/usage (month totals) and …/{id}/consumptions (journal), R-SC-5
router.register("contracts", ContractUsageViewSet, basename="api-contract-usage")

urlpatterns = router.urls
