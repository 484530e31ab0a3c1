"""``/api/v1/orders`` and ``/api/v1/contracts`` (partner-scoped through PartnerScopedMixin).

``POST /api/v1/orders`` requires an ``Idempotency-Key`` header (``api.idempotency``): the same key and body replay
the first response, the same key with another body is refused (422), keys are scoped to the partner.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from catalog.models import Offer
from contracts.models import Contract, ContractOption, Order
from contracts.selectors import contract_list, order_list
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from partners.models import ClientAccount

from .contracts_serializers import (
    ContractDetailSerializer,
    ContractSerializer,
    OrderInputSerializer,
    OrderSerializer,
    OrderSummarySerializer,
)
from .idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from .scoping import PartnerScopedMixin

ERRORS = {
    400: OpenApiResponse(
        description="Saisie mal formée, ou en-tête Idempotency-Key absent : `{message, field}`."
    ),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Inconnu (ou d'un autre partenaire)."),
    422: OpenApiResponse(
        description="Règle métier refusée (R-ORD-1..3, R-CON-6, R-OPT-2…) : `{message, field, rule}` ; ou clé "
        "d'idempotence déjà utilisée pour une autre requête."
    ),
}


@extend_schema_view(
    list=extend_schema(
        summary="Lister les commandes",
        parameters=[
            OpenApiParameter("client", int, description="Identifiant du client."),
            OpenApiParameter("search", str, description="Numéro de commande ou raison sociale."),
        ],
        responses={200: OrderSummarySerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="Lire une commande et ses lignes",
        responses={200: OrderSerializer, **{k: ERRORS[k] for k in (401, 403, 404)}},
    ),
    create=extend_schema(
        summary="Passer une commande",
        description="Crée la commande, un contrat « En cours » par ligne, leurs options, frais (FAS eSIM 1,50 €), "
        "le stock alloué et une demande opérateur par ligne, en une transaction (R-ORD-1..3).",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=OrderInputSerializer,
        responses={201: OrderSerializer, **{k: ERRORS[k] for k in (400, 401, 403, 422)}},
    ),
)
@extend_schema(tags=["commandes"])
class OrderViewSet(
    PartnerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        if self.action == "list":
            return OrderSummarySerializer
        if self.action == "create":
            return OrderInputSerializer
        return OrderSerializer

    def scoped_queryset(self, partner):
        if self.action == "list":
            params = self.request.query_params
            return order_list(
                partner, client=_int(params.get("client")), search=params.get("search", "")
            ).prefetch_related("options")
        return (
            Order.objects.filter(partner=partner)
            .select_related("offer")
            .prefetch_related(
                "options",
                Prefetch(
                    "contracts",
                    queryset=Contract.objects.select_related("offer", "order", "sim", "esim").order_by(
                        "number"
                    ),
                ),
            )
        )

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner = request.staff_partner
        client = ClientAccount.objects.filter(partner=partner, pk=data["client_id"]).first()
        if client is None:
            raise RuleViolation(_("Client inconnu."), field="client_id", rule="R-ORD-1")
        offer = Offer.objects.filter(code=data["offer"], active=True).first()
        if offer is None:
            raise RuleViolation(_("Offre inconnue ou plus commercialisée."), field="offer", rule="R-ORD-1")
        order = order_place(
            partner=partner,
            client=client,
            created_by=request.user,
            offer=offer,
            quantity=data["quantity"],
            lines=[LineSpec(**line) for line in data["lines"]],
            configuration=data["configuration"],
            sim_type=data["sim_type"],
            five_g=data["five_g"],
            allow_sva=data["allow_sva"],
            option_codes=data["options"],
            roaming=data["roaming"],
            activation_date=data["activation_date"],
            source=Order.Source.API,
        )
        order = self.scoped_queryset(partner).get(pk=order.pk)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # an unparsable id matches nothing


@extend_schema_view(
    list=extend_schema(
        summary="Lister les contrats (lignes)",
        parameters=[
            OpenApiParameter(
                "state",
                str,
                description="État (pending, active, suspended, terminating, terminated, failed) ou groupe "
                "affiché `user:pending`, `user:active`… (R-CON-8).",
            ),
            OpenApiParameter("client", int, description="Identifiant du client."),
            OpenApiParameter("offer", str, description="Code de l'offre."),
            OpenApiParameter("number", str, description="Début du numéro de ligne, ou numéro de contrat."),
            OpenApiParameter("sim", str, description="Début de l'ICCID (SIM ou eSIM)."),
            OpenApiParameter("order", int, description="Identifiant de la commande."),
        ],
        responses={200: ContractSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="Lire un contrat",
        responses={200: ContractDetailSerializer, **{k: ERRORS[k] for k in (401, 403, 404)}},
    ),
)
@extend_schema(tags=["contrats"])
class ContractViewSet(
    PartnerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = r"\d+"

    def get_serializer_class(self):
        return ContractDetailSerializer if self.action == "retrieve" else ContractSerializer

    def scoped_queryset(self, partner):
        if self.action == "list":
            params = self.request.query_params
            return contract_list(
                partner,
                state=params.get("state", ""),
                client=_int(params.get("client")),
                offer=params.get("offer", ""),
                number=params.get("number", ""),
                sim=params.get("sim", ""),
                order=_int(params.get("order")),
            )
        return (
            Contract.objects.filter(partner=partner)
            .select_related("offer", "order", "sim", "esim", "partner", "client")
            .prefetch_related(
                Prefetch("options", queryset=ContractOption.objects.order_by("created_at", "id")),
                "fees",
                "operator_requests",
            )
        )
