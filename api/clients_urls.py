"""``/api/v1/clients`` and ``/api/v1/clients/<id>`` (mounted under ``v1/`` by ``api/urls.py``)."""

from rest_framework.routers import SimpleRouter

from .clients_views import ClientViewSet

router = SimpleRouter(trailing_slash=False)
router.register("clients", ClientViewSet, basename="api-client")

urlpatterns = router.urls
