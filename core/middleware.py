"""Request guards shared by every door (back-office, self-care, API)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """A NUL character (``%00``) in the path or a query parameter is refused with a 400 naming the parameter.

    PostgreSQL cannot store or compare a text holding NUL: a search or filter carrying one would reach the
    database and fail there (a 500). Forms and API serializers refuse NUL in their fields already (Django's and
    DRF's ``ProhibitNullCharactersValidator``); the query string is read by list views directly, so it is
    checked here, once, for every door."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is None:
            return self.get_response(request)
        message = _("Caractère nul interdit dans « %(field)s ».") % {"field": field}
        if request.path.startswith("/api/"):
            return JsonResponse({"message": message, "field": field, "rule": None}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _nul_field(request: HttpRequest) -> str | None:
    if "\x00" in request.path:
        return "url"
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "\\0")
    return None
