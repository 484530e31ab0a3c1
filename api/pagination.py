"""Pagination of every API list: ``?page=`` and ``?page_size=`` are checked, a wrong value is a 400 naming it.

DRF's own class answers a non-numeric or out-of-range page with a 404 and silently ignores a wrong page size;
here both are refused with the API's error body ``{message, field, rule}`` (issue 10 item 3)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

MAX_PAGE_SIZE = 200


def _positive_int(raw: str) -> int | None:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    value = int(raw)
    return value if value >= 1 else None


class PageNumberPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_query_description = "Numéro de page, à partir de 1."
    page_size_query_description = f"Nombre de résultats par page (1 à {MAX_PAGE_SIZE})."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        size = _positive_int(raw)
        if size is None or size > self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("La taille de page doit être un entier de 1 à %(max)d.")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param) or "1"
        if raw in self.last_page_strings:
            return paginator.num_pages
        number = _positive_int(raw)
        if number is None or number > paginator.num_pages:
            raise ValidationError(
                {
                    self.page_query_param: [
                        _("Page invalide : un entier de 1 à %(last)d.") % {"last": paginator.num_pages}
                    ]
                }
            )
        return number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
