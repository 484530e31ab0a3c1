"""``GET /api/v1/contracts/{id}/usage`` (month totals) and ``GET /api/v1/contracts/{id}/consumptions`` (the
consumption journal, cursor-paginated) — R-SC-5, R-ORD-6.

The contract is looked up through ``PartnerScopedMixin`` (another partner's contract is a 404); the reads are
``usage.selectors`` on that scoped contract."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from contracts.models import Contract
from usage import selectors

from .scoping import PartnerScopedMixin
from .usage_serializers import (
    JOURNAL_TAB_CHOICES,
    ConsumptionQuerySerializer,
    ConsumptionSerializer,
    UsageQuerySerializer,
    UsageTotalsSerializer,
)


class ConsumptionCursorPagination(CursorPagination):
    """Newest first, stable under inserts (ties on ``event_at`` broken by ``id``)."""

    ordering = ("-event_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


ERRORS = {
    400: OpenApiResponse(description="Paramètre mal formé ou mois hors des 3 derniers : `{message, field}`."),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Contrat inconnu, ou d'un autre partenaire."),
}

CONSUMPTION_PARAMETERS = [
    OpenApiParameter(
        "tab",
        OpenApiTypes.STR,
        enum=[value for value, _label in JOURNAL_TAB_CHOICES],
        description="Onglet : all (toutes), voice, voice_sva (numéros spéciaux), sms_mms, data (la data "
        "n'apparaît que hors forfait, R-SC-5).",
    ),
    OpenApiParameter("number", OpenApiTypes.STR, description="N° appelé (contient ; +33 6… ou 06…)."),
    OpenApiParameter("label", OpenApiTypes.STR, description="Désignation (contient)."),
    OpenApiParameter(
        "destination",
        OpenApiTypes.STR,
        description="Zone (france, zone1, usa_canada, maghreb_turquie, reste_du_monde) ou pays ISO 3166 "
        "alpha-3 (ESP).",
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="Depuis ce jour inclus (Europe/Paris)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Jusqu'à ce jour inclus (Europe/Paris)."),
    OpenApiParameter(
        "out_of_plan",
        OpenApiTypes.BOOL,
        description="true : hors forfait seulement ; false : dans le forfait.",
    ),
]


def _input(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["contrats : consommations"])
class ContractUsageViewSet(PartnerScopedMixin, viewsets.GenericViewSet):
    """Month totals and consumption journal of a line (R-SC-5)."""

    lookup_value_regex = r"\d+"
    serializer_class = ConsumptionSerializer

    def scoped_queryset(self, partner):
        return Contract.objects.filter(partner=partner).select_related("offer")

    @extend_schema(
        summary="Totaux des consommations d'un mois",
        description="R-SC-5 : data (consommé / recharge / hors forfait, itinérance par zone), voix (consommé / "
        "hors forfait), numéros spéciaux et surtaxés (non facturable / facturé), SMS + MMS (consommé / hors "
        "forfait). Unités explicites : octets, secondes, nombres ; montants HT en chaînes décimales (euros). "
        "Le mois est l'un des 3 derniers (par défaut le mois en cours).",
        parameters=[
            OpenApiParameter(
                "month",
                OpenApiTypes.STR,
                description="AAAA-MM, l'un des 3 derniers mois (défaut : en cours).",
            )
        ],
        responses={200: UsageTotalsSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get"], url_path="usage", url_name="totals")
    def usage(self, request, pk=None):
        contract = self.get_object()
        months = selectors.journal_months()
        value = _input(UsageQuerySerializer, request)["month"]
        month = months[0]
        if value:
            month = next((m for m in months if f"{m:%Y-%m}" == value), None)
            if month is None:
                raise serializers.ValidationError(
                    {
                        "month": _("Mois hors des 3 derniers mois : choisissez %(months)s.")
                        % {"months": ", ".join(f"{m:%Y-%m}" for m in months)}
                    }
                )
        totals = selectors.contract_usage_totals(contract, month)
        return Response(UsageTotalsSerializer(UsageTotalsSerializer.from_totals(totals)).data)

    @extend_schema(
        summary="Journal des consommations",
        description="R-SC-5 : les enregistrements des 3 derniers mois, du plus récent au plus ancien, paginés par "
        "curseur (`next` / `previous`, 50 par page, `page_size` jusqu'à 200). Quantités en `unit` : seconds "
        "(voix), bytes (data), count (SMS/MMS).",
        parameters=[
            *CONSUMPTION_PARAMETERS,
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 à 200 (défaut 50)."),
        ],
        responses={200: ConsumptionSerializer(many=True), **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="consumptions",
        url_name="consumptions",
        pagination_class=ConsumptionCursorPagination,
    )
    def consumptions(self, request, pk=None):
        contract = self.get_object()
        data = _input(ConsumptionQuerySerializer, request)
        records = selectors.contract_consumptions(
            contract,
            tab=data["tab"],
            number=data["number"],
            label=data["label"],
            destination=data["destination"],
            date_from=data["from"],
            date_to=data["to"],
            out_of_plan=data["out_of_plan"],
        )
        page = self.paginate_queryset(records)
        return self.get_paginated_response(ConsumptionSerializer(page, many=True).data)
