"""Self-care host URLconf: ``<slug>.espaceclient.<domain>`` (request.partner is set by the middleware)."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

urlpatterns = [
    path("", include("selfcare.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
