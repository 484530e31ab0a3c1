"""``/api/v1/clients``: a partner's client accounts (R-BO-1), partner-scoped through PartnerScopedMixin."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from partners.selectors import client_list
from partners.services import client_create, client_update

from .clients_serializers import ClientInputSerializer, ClientSerializer
from .scoping import PartnerScopedMixin

ERRORS = {
    400: OpenApiResponse(description="Saisie mal formée : `{message, field, rule: null, errors}`."),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Client inconnu (ou d'un autre partenaire)."),
    422: OpenApiResponse(description="Règle métier refusée (R-BO-1) : `{message, field, rule}`."),
}


@extend_schema_view(
    list=extend_schema(
        summary="Lister les clients",
        parameters=[
            OpenApiParameter(
                "search", str, description="Raison sociale, début de SIRET, nom, prénom ou e-mail."
            )
        ],
        responses={200: ClientSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    ),
    retrieve=extend_schema(
        summary="Lire un client", responses={200: ClientSerializer, **{k: ERRORS[k] for k in (401, 403, 404)}}
    ),
    create=extend_schema(
        summary="Créer un client",
        request=ClientInputSerializer,
        responses={201: ClientSerializer, **{k: ERRORS[k] for k in (400, 401, 403, 422)}},
    ),
    update=extend_schema(
        summary="Remplacer un client",
        request=ClientInputSerializer,
        responses={200: ClientSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Modifier un client",
        request=ClientInputSerializer,
        responses={200: ClientSerializer, **ERRORS},
    ),
)
@extend_schema(tags=["clients"])
class ClientViewSet(
    PartnerScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ClientSerializer
    lookup_value_regex = r"\d+"

    def scoped_queryset(self, partner):
        search = self.request.query_params.get("search", "") if self.action == "list" else ""
        return client_list(partner, search=search).prefetch_related("sites")

    def create(self, request, *args, **kwargs):
        data = self._input(request, partial=False)
        client = client_create(partner=request.staff_partner, **data)
        return Response(self._output(client.pk), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        client = self.get_object()
        data = self._input(request, partial=kwargs.get("partial", False))
        client_update(client=client, **data)
        return Response(self._output(client.pk))

    def _input(self, request, *, partial: bool) -> dict:
        serializer = ClientInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _output(self, pk: int) -> dict:
        client = self.get_queryset().get(pk=pk)
        return ClientSerializer(client, context=self.get_serializer_context()).data
