"""``GET /api/v1/catalog/offers`` (filters ``network``, ``range``; paginated) and ``/api/v1/catalog/offers/<code>``.

The catalog is shared by every partner; the scoped mixin still gates access (partner staff only) and the caller's
partner decides whether partner-platform delivery is offered (Init Sys, R-OPT-3).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from catalog.models import Range
from catalog.selectors import offer_list
from core.networks import Network

from .catalog_serializers import CatalogOfferFilterSerializer, CatalogOfferSerializer
from .scoping import PartnerScopedMixin

ERRORS = {
    400: OpenApiResponse(description="Filtre invalide : `{message, field}`."),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Offre inconnue."),
}


@extend_schema_view(
    list=extend_schema(
        summary="Lister les offres du catalogue",
        parameters=[
            OpenApiParameter("network", str, enum=Network.values, description="orange | bouygues"),
            OpenApiParameter("range", str, enum=Range.values, description="Gamme de l'offre."),
        ],
        responses={200: CatalogOfferSerializer(many=True), **{k: ERRORS[k] for k in (400, 401, 403)}},
    ),
    retrieve=extend_schema(
        summary="Lire une offre du catalogue",
        responses={200: CatalogOfferSerializer, **{k: ERRORS[k] for k in (401, 403, 404)}},
    ),
)
@extend_schema(tags=["catalog"])
class CatalogOfferViewSet(
    PartnerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = CatalogOfferSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_-]+"

    def scoped_queryset(self, partner):
        if self.action != "list":
            return offer_list()
        filters = CatalogOfferFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return offer_list(
            network=filters.validated_data.get("network"), range_=filters.validated_data.get("range")
        )
