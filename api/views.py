from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny


class ObtainTokenView(ObtainAuthToken):
    """Exchange a partner staff login and password for an API token (header ``Authorization: Token <key>``)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(tags=["auth"])
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
