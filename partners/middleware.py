from django.conf import settings
from django.http import Http404

from .hosts import resolve_host
from .selectors import partner_get_by_slug


class HostRoutingMiddleware:
    """Maps the request host to a door (STYLE 14).

    Self-care hosts set ``request.partner`` and the self-care URLconf; an unknown slug is a 404.
    Everything else is the back-office/API (``request.partner`` stays None there: staff are scoped
    through their membership, never through the host).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = resolve_host(request.get_host())
        request.door = match.door
        request.partner = None
        if match.door == "selfcare":
            partner = partner_get_by_slug(match.slug) if match.slug else None
            if partner is None:
                from django.views import defaults

                return defaults.page_not_found(request, Http404("espace client inconnu"))
            request.partner = partner
            request.urlconf = settings.SELFCARE_URLCONF
        return self.get_response(request)
