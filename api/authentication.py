"""API authentication: ``Authorization: Token <secret>`` (kept from the first API) or ``Bearer <secret>``, checked
against the hashed, named, expiring tokens of ``partners.ApiToken`` (issue 10 item 6). A refused token is a 401
with a French reason (invalid, expired, revoked, account deactivated)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from core.errors import RuleViolation
from partners.services import api_token_authenticate

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower().decode(errors="replace") not in KEYWORDS:
            return None  # another scheme (or none): let the next authentication class try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("En-tête Authorization attendu : « Token <jeton> ».")
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Jeton API invalide.") from None
        try:
            token = api_token_authenticate(secret=secret)
        except RuleViolation as exc:
            raise exceptions.AuthenticationFailed(str(exc.message)) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword  # makes DRF answer 401 (with WWW-Authenticate), not 403


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """drf-spectacular: document the header of :class:`ApiTokenAuthentication` in the OpenAPI schema."""

    target_class = "api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Jeton API d'un membre d'un partenaire, préfixé par « Token » (ou « Bearer ») : "
            "`Authorization: Token alk_…`. Créé dans le back-office (« Jeton API ») ou par "
            "`POST /api/v1/auth/token` ; affiché une seule fois ; expire, révocable.",
        }
