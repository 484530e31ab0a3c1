"""``/api/v1/invoices`` (issue 9 item 4): the partner's invoices and credit notes from AlphaLink, one with its
lines, and its Factur-X PDF. Partner-scoped through ``PartnerScopedMixin`` over ``billing.selectors``: another
partner's invoice is a 404, like a missing one."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing import selectors
from billing.models import Invoice, InvoiceLine

from .billing_serializers import InvoiceDetailSerializer, InvoiceQuerySerializer, InvoiceSerializer
from .scoping import PartnerScopedMixin

ERRORS = {
    400: OpenApiResponse(description="Paramètre mal formé : `{message, field}`."),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Facture inconnue, ou d'un autre partenaire."),
    409: OpenApiResponse(
        description="Le PDF n'est pas encore produit (quelques instants après l'émission) : `{message}`."
    ),
}


class PDFRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the PDF itself is sent as is, an error as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return renderers.JSONRenderer().render(data)


@extend_schema_view(
    list=extend_schema(
        summary="Lister les factures et avoirs",
        description="Les factures et avoirs émis par AlphaLink au partenaire, du plus récent au plus ancien, "
        "paginés (50 par page). Montants en euros, chaînes décimales.",
        parameters=[
            OpenApiParameter(
                "month", OpenApiTypes.STR, description="Mois de facturation AAAA-MM (facultatif)."
            ),
        ],
        responses={200: InvoiceSerializer(many=True), **{k: ERRORS[k] for k in (400, 401, 403)}},
    ),
    retrieve=extend_schema(
        summary="Lire une facture (en-tête, totaux, lignes)",
        description="Lignes dans l'ordre imprimé, regroupées par client et contrat (`group`). Un avoir indique "
        "la facture qu'il crédite (`credit_note_of`) ; une facture, ses avoirs (`credit_notes`).",
        responses={200: InvoiceDetailSerializer, **{k: ERRORS[k] for k in (401, 403, 404)}},
    ),
)
@extend_schema(tags=["factures"])
class InvoiceViewSet(
    PartnerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return InvoiceSerializer if self.action == "list" else InvoiceDetailSerializer

    def scoped_queryset(self, partner):
        if self.action == "list":
            query = InvoiceQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            value = query.validated_data["month"]
            month = dt.date.fromisoformat(f"{value}-01") if value else None
            return selectors.invoice_list(partner, month=month).select_related("credit_note_of").defer("pdf")
        invoices = selectors.invoice_list(partner).select_related("credit_note_of")
        if self.action == "pdf":
            return invoices
        return invoices.defer("pdf").prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
            Prefetch("credit_notes", queryset=Invoice.objects.defer("pdf").order_by("sequence")),
        )

    @extend_schema(
        summary="Télécharger le PDF Factur-X",
        description="Le PDF/A-3 de la facture avec son XML EN 16931 embarqué, tel que stocké à l'émission "
        "(`Content-Disposition: attachment`, nom de fichier = numéro de la facture).",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="Le PDF Factur-X."),
            **{k: ERRORS[k] for k in (401, 403, 404, 409)},
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pdf",
        url_name="pdf",
        renderer_classes=[renderers.JSONRenderer, PDFRenderer],
    )
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        if invoice.pdf is None:
            return Response(
                {
                    "message": _(
                        "Le PDF de la facture %(number)s est en cours de production : réessayez dans "
                        "quelques instants."
                    )
                    % {"number": invoice.number},
                    "field": None,
                    "rule": None,
                },
                status=status.HTTP_409_CONFLICT,
            )
        response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
        return response
