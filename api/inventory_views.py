"""Stock endpoints (R-BO-2, R-SC-7): list SIMs, eSIM profiles and numbers; assign and release SIMs.

Everything is scoped to the partner of the token: another partner's client is a 404, another partner's SIM is
refused like a SIM that does not exist (422), and lists never contain another partner's rows."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.scoping import PartnerScopedMixin
from inventory import selectors, services
from partners.selectors import client_get_for_partner_or_404

from . import inventory_serializers as s

ERRORS = {
    400: OpenApiResponse(description="Saisie mal formée : `{message, field, rule: null, errors}`."),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Client inconnu (ou d'un autre partenaire)."),
    422: OpenApiResponse(
        description="Refus d'une règle : `{message, field, rule}` (ex. plage décroissante, R-SC-7)."
    ),
}


def _filters(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["stock"], parameters=[s.SimFilterSerializer], summary="Cartes SIM du partenaire")
class SimListView(PartnerScopedMixin, generics.ListAPIView):
    serializer_class = s.SimCardSerializer

    def scoped_queryset(self, partner):
        f = _filters(s.SimFilterSerializer, self.request)
        return selectors.sim_list(
            partner,
            state=f.get("state", ""),
            network=f.get("network", ""),
            client=f.get("client_id"),
            search=f.get("iccid", ""),
            with_pin=f.get("with_pin"),
        )


@extend_schema(tags=["stock"], parameters=[s.EsimFilterSerializer], summary="Profils eSIM du partenaire")
class EsimListView(PartnerScopedMixin, generics.ListAPIView):
    serializer_class = s.EsimProfileSerializer

    def scoped_queryset(self, partner):
        f = _filters(s.EsimFilterSerializer, self.request)
        return selectors.esim_list(partner, state=f.get("state", ""), client=f.get("client_id"))


@extend_schema(tags=["stock"], parameters=[s.NumberFilterSerializer], summary="Numéros de la réserve")
class NumberListView(PartnerScopedMixin, generics.ListAPIView):
    serializer_class = s.PhoneNumberSerializer

    def scoped_queryset(self, partner):
        f = _filters(s.NumberFilterSerializer, self.request)
        return selectors.number_list(
            partner,
            state=f.get("state", ""),
            network=f.get("network", ""),
            kind=f.get("kind", ""),
            client=f.get("client_id"),
            search=f.get("msisdn", ""),
        )


class SimAssignView(APIView):
    @extend_schema(
        tags=["stock"],
        summary="Affecter des SIM à un client (R-SC-7)",
        description="Une liste d'ICCID (tout ou rien) ou une plage croissante first_iccid → last_iccid "
        "(seules les SIM en stock du partenaire dans la plage sont affectées).",
        request=s.SimAssignSerializer,
        responses={200: s.SimAssignResultSerializer, **ERRORS},
    )
    def post(self, request):
        partner = request.staff_partner
        serializer = s.SimAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = client_get_for_partner_or_404(partner, data["client_id"])
        if "iccids" in data:
            assigned = services.sim_assign(partner=partner, client=client, iccids=data["iccids"])
            skipped = 0
        else:
            result = services.sim_assign_range(
                partner=partner, client=client, first_iccid=data["first_iccid"], last_iccid=data["last_iccid"]
            )
            assigned, skipped = result.count, result.skipped
        return Response({"assigned": assigned, "skipped": skipped}, status=status.HTTP_200_OK)


class SimReleaseView(APIView):
    @extend_schema(
        tags=["stock"],
        summary="Libérer des SIM affectées (R-SC-7)",
        description="Les SIM reviennent dans le stock du partenaire. Liste d'ICCID (tout ou rien) ou plage.",
        request=s.SimReleaseSerializer,
        responses={200: s.SimReleaseResultSerializer, **ERRORS},
    )
    def post(self, request):
        partner = request.staff_partner
        serializer = s.SimReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        client = client_get_for_partner_or_404(partner, data["client_id"]) if "client_id" in data else None
        if "iccids" in data:
            released = services.sim_release(partner=partner, iccids=data["iccids"], client=client)
            skipped = 0
        else:
            result = services.sim_release_range(
                partner=partner, client=client, first_iccid=data["first_iccid"], last_iccid=data["last_iccid"]
            )
            released, skipped = result.count, result.skipped
        return Response({"released": released, "skipped": skipped}, status=status.HTTP_200_OK)
