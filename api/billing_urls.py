"""``/api/v1/invoices``, ``/api/v1/invoices/{id}`` and ``/api/v1/invoices/{id}/pdf`` (mounted under ``v1/``)."""

from rest_framework.routers import SimpleRouter

from .billing_views import InvoiceViewSet

router = SimpleRouter(trailing_slash=False)
router.register("invoices", InvoiceViewSet, basename="api-invoice")

urlpatterns = router.urls
