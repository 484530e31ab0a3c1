"""Host → door resolution (STYLE 14). Pure function over the request host."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class HostMatch:
    door: str  # "backoffice" or "selfcare"
    slug: str | None = None


def selfcare_suffix() -> str:
    return f".{settings.SELFCARE_SUBDOMAIN}.{settings.SELFCARE_DOMAIN}".lower()


def resolve_host(host: str) -> HostMatch:
    """``<slug>.espaceclient.<domain>`` → self-care of that slug; any other allowed host → back-office.

    ``espaceclient.<domain>`` alone, or a nested subdomain, is a self-care host with no valid slug
    (the middleware answers 404)."""
    host = (host or "").split(":", 1)[0].lower().rstrip(".")
    suffix = selfcare_suffix()
    if host == suffix.lstrip("."):
        return HostMatch("selfcare", slug="")
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        return HostMatch("selfcare", slug=slug if "." not in slug else "")
    return HostMatch("backoffice")


def selfcare_url(slug: str, request=None) -> str:
    """Absolute URL of a partner's self-care (R-SC-2), with the scheme of ``request`` and, in DEBUG, its port
    (``make run`` serves every host on one port)."""
    scheme = "https" if not settings.DEBUG else "http"
    port = ""
    if request is not None:
        scheme = request.scheme
        host = request.get_host()
        if settings.DEBUG and ":" in host:
            port = ":" + host.rsplit(":", 1)[1]
    return f"{scheme}://{slug}{selfcare_suffix()}{port}/"
