from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.throttling import AnonRateThrottle


class ObtainTokenView(ObtainAuthToken):
    """Exchange a partner staff login and password for an API token (header ``Authorization: Token <key>``)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle]  # DRF's ObtainAuthToken has none: per IP, beside django-axes

    @extend_schema(tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
