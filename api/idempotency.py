"""``Idempotency-Key`` for POST endpoints that create or change something (orders, contract actions).

Usage on a DRF view method (``APIView.post`` or a ``@action``)::

    @extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER], ...)
    @idempotent
    def post(self, request): ...

- The header is required: missing or longer than 255 characters → 400 JSON.
- Keys are scoped to the partner of the authenticated staff user (partners A and B may use the same key).
- The first call stores its response (status and JSON body); the same key with the same request (method, path
  and canonical JSON body: SHA-256 fingerprint) replays it with the header ``Idempotent-Replayed: true``;
  the same key with another request → 422 with a French message.
- Concurrent duplicates: the record is inserted first, in the same transaction as the work; a second request
  with the same key blocks on the unique index (partner, key) until the first commits, then replays its
  response — never a second order. If the first fails with an unexpected error (5xx), its transaction rolls
  back with the record, so the key can be used again.
- Business refusals (4xx, e.g. 422 ``RuleViolation``) are stored and replayed like successes (the request was
  handled; sending it again gives the same answer).
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.response import Response

from contracts.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "Clé unique choisie par le client (ex. un UUID), propre au partenaire. Rejouer la même requête avec la "
        "même clé renvoie la première réponse ; la même clé avec un autre contenu est refusée (422)."
    ),
)


def _plain(data):
    """``request.data`` as plain JSON-able values (a QueryDict for form posts)."""
    if hasattr(data, "lists"):
        return {key: values if len(values) > 1 else values[0] for key, values in data.lists()}
    return data


def request_fingerprint(request) -> str:
    """SHA-256 of method, full path and canonical JSON body (sorted keys, no spaces)."""
    body = json.dumps(_plain(request.data), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    raw = f"{request.method}\n{request.get_full_path()}\n{body}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _error(message: str, status_code: int, field: str | None = HEADER) -> Response:
    return Response({"message": message, "field": field, "rule": None}, status=status_code)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        return _error(
            _(
                "Cette clé d'idempotence a déjà servi pour une autre requête : "
                "utilisez une nouvelle clé pour une nouvelle demande."
            ),
            status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if record.response_status is None:  # cannot happen once committed; defensive
        return _error(_("La requête d'origine est encore en cours de traitement."), status.HTTP_409_CONFLICT)
    body = json.loads(record.response_body) if record.response_body else None
    response = Response(body, status=record.response_status)
    response[REPLAY_HEADER] = "true"
    return response


def idempotent(view_method):
    """Decorate a DRF view method (``self, request, *args, **kwargs``) handling a POST."""

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = (request.headers.get(HEADER) or "").strip()
        if not key:
            return _error(
                _("L'en-tête Idempotency-Key est obligatoire pour cette requête."),
                status.HTTP_400_BAD_REQUEST,
            )
        if "\x00" in key:
            return _error(
                _("L'en-tête Idempotency-Key ne doit pas contenir de caractère nul."),
                status.HTTP_400_BAD_REQUEST,
            )
        if len(key) > MAX_KEY_LENGTH:
            return _error(
                _("L'en-tête Idempotency-Key ne doit pas dépasser %(n)d caractères.") % {"n": MAX_KEY_LENGTH},
                status.HTTP_400_BAD_REQUEST,
            )
        partner = request.staff_partner  # set by api.permissions.IsPartnerStaff (fail-closed)
        fingerprint = request_fingerprint(request)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        partner=partner,
                        key=key,
                        fingerprint=fingerprint,
                        method=request.method,
                        path=request.get_full_path()[:500],
                    )
            except IntegrityError:
                # Another request holds (or held) this key: the unique index made us wait for its commit.
                record = IdempotencyRecord.objects.get(partner=partner, key=key)
                return _replay(record, fingerprint)
            try:
                with transaction.atomic():
                    response = view_method(self, request, *args, **kwargs)
            except Exception as exc:  # turned into a Response by the API's exception handler, or re-raised
                response = self.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)  # forget the key: the client may try again
                return response
            record.response_status = response.status_code
            # Stored as JSON text, not jsonb: a replay gives the very same body, key order included.
            record.response_body = json.dumps(response.data, cls=DjangoJSONEncoder)
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper
