"""API tokens for tests: ``api_token(user)`` creates a named token through the service and returns its secret,
ready for ``APIClient.credentials(HTTP_AUTHORIZATION=f"Token {secret}")``."""

from __future__ import annotations

from partners.services import api_token_create


def api_token(user, *, name: str = "Tests") -> str:
    _, secret = api_token_create(user=user, name=name)
    return secret
