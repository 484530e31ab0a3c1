"""Health endpoints for the container stack (docs/deploy.md), answered before any host check.

``/healthz`` runs one ``SELECT 1`` on the default database: 200 ``{"status": "ok"}``, or 503
``{"status": "error", "database": "…"}``. ``/healthz/tls?domain=<host>`` is the reverse proxy's « ask »
endpoint for on-demand TLS (deploy/Caddyfile): 200 for the back-office host and for the self-care host of an
existing partner, 404 for any other name, so nobody makes the proxy request certificates for made-up hosts.

Both are answered by :class:`HealthMiddleware`, first in ``MIDDLEWARE``: the container health check and the
proxy call the web server as ``localhost:8000`` or ``web:8000``, hosts that are not in ``ALLOWED_HOSTS``, over
plain HTTP (no ``SECURE_SSL_REDIRECT``), and no session, CSRF or CSP is involved. They are not URL patterns of
either URLconf, so they exist on every host and under no door.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
TLS_ASK_PATH = "/healthz/tls"


def database_ok() -> tuple[bool, str]:
    """One round trip to the default database; ``(False, reason)`` when it fails."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; the reason is logged and returned
        logger.warning("health check: database unavailable: %s", exc)
        return False, exc.__class__.__name__
    return True, ""


def healthz(request: HttpRequest) -> HttpResponse:
    ok, reason = database_ok()
    if ok:
        response = JsonResponse({"status": "ok", "database": "ok"})
    else:
        response = JsonResponse({"status": "error", "database": reason}, status=503)
    response["Cache-Control"] = "no-store"
    return response


def tls_allowed(request: HttpRequest) -> HttpResponse:
    from partners.hosts import resolve_host
    from partners.selectors import partner_get_by_slug

    domain = (request.GET.get("domain") or "").strip().lower().rstrip(".")
    allowed = False
    if domain and "\x00" not in domain:
        if domain == settings.BACKOFFICE_HOST.lower():
            allowed = True
        else:
            match = resolve_host(domain)
            allowed = bool(match.door == "selfcare" and match.slug and partner_get_by_slug(match.slug))
    return HttpResponse(status=200 if allowed else 404)


class HealthMiddleware:
    """Answers ``/healthz`` and ``/healthz/tls`` (GET or HEAD) before every other middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path_info == HEALTH_PATH:
                return healthz(request)
            if request.path_info == TLS_ASK_PATH:
                return tls_allowed(request)
        return self.get_response(request)
