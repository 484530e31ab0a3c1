"""One handler turns domain errors and DRF errors into JSON ``{"message", "field", "rule"}`` (STYLE 3)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError, ValidationFailed


def _first_error(detail, prefix: str = "") -> tuple[str | None, str]:
    """The first (field, message) of a DRF ValidationError detail (dict/list nesting)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else None
            if prefix:
                field = f"{prefix}.{key}" if field else prefix
            sub_field, message = _first_error(value, field or "")
            return (sub_field or field), message
    if isinstance(detail, list) and detail:
        for index, item in enumerate(detail):
            if isinstance(item, dict):
                return _first_error(item, f"{prefix}[{index}]" if prefix else str(index))
            return (prefix or None), str(item)
    return (prefix or None), str(detail)


def exception_handler(exc, context):
    if isinstance(exc, ValidationFailed):
        return Response(exc.as_dict(), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Ressource introuvable.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_error(exc.detail)
        response.data = {"message": message, "field": field, "rule": None, "errors": exc.detail}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = (
            response.data.get("detail", response.data) if isinstance(response.data, dict) else response.data
        )
        response.data = {"message": str(detail), "field": None, "rule": None}
    return response
