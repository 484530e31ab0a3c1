from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.parsers import JSONParser
from partners.models import ApiToken
from partners.services import API_TOKEN_NAME_MAX, api_token_create


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=API_TOKEN_NAME_MAX,
        required=False,
        default="API",
        help_text="Nom du jeton (le logiciel qui l'utilise), affiché dans le back-office.",
    )


class TokenSerializer(serializers.ModelSerializer):
    token = serializers.CharField(help_text="Le secret, affiché cette seule fois : gardez-le.")

    class Meta:
        model = ApiToken
        fields = ["token", "name", "prefix", "created_at", "expires_at"]


class ObtainTokenView(APIView):
    """Exchange a partner staff login and password for a new named API token (header
    ``Authorization: Token <secret>``). The secret is in this answer only; it expires after ``API_TOKEN_TTL_DAYS``
    days and can be revoked in the back-office (« Jeton API »)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes = [JSONParser, parsers.FormParser, parsers.MultiPartParser]  # a login: JSON or a form

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Identifiant ou mot de passe incorrect, ou saisie mal formée."),
            429: OpenApiResponse(description="Trop de tentatives : réessayez plus tard."),
        },
    )
    def post(self, request, *args, **kwargs):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Identifiant ou mot de passe incorrect.")]}, code="authorization"
            )
        token, secret = api_token_create(user=user, name=data.validated_data["name"])
        token.token = secret
        return Response(TokenSerializer(token).data, headers={"Cache-Control": "no-store"})
