"""``POST /api/v1/contracts/{id}/<action>``: the lifecycle actions of a line (issue 4; R-CON-1..9, R-OPT-3/4/8,
R-ORD-5), each one call of a ``contracts.lifecycle`` service.

Every action requires an ``Idempotency-Key`` (``api.idempotency``): replaying a key replays the first answer and
never writes a second operator request. The contract is looked up first, through ``PartnerScopedMixin``: another
partner's contract is a 404 whatever the headers. A refused action is a 422 ``{message, field, rule}``.

Actions sent to an operator answer ``202 Accepted``: the operator request is written (planned in the operator's
window), the change is complete when the operator confirms (the contract's ``state``/``options`` show it then).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts import datablocks, lifecycle, topups
from contracts.models import Contract, ContractOption, ContractTopup, OperatorRequest, ScheduledChange
from contracts.selectors import contract_option_get_or_404, contract_topups

from .contracts_serializers import ContractDetailSerializer
from .idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from .scoping import PartnerScopedMixin

# --------------------------------------------------------------------------------------------------------
# Input (shape only: the services enforce the rules)
# --------------------------------------------------------------------------------------------------------


class SimSwapInputSerializer(serializers.Serializer):
    """R-ORD-5: to a physical SIM of your stock or of the client's assigned stock, or to an eSIM (Orange)."""

    target = serializers.ChoiceField(
        choices=[("sim", "SIM physique"), ("esim", "eSIM")],
        default="sim",
        help_text="`sim` : une carte SIM du stock (ICCID obligatoire) ; `esim` : une eSIM Orange (R-OPT-2).",
    )
    iccid = serializers.CharField(max_length=22, allow_blank=True, default="")
    contact_email = serializers.CharField(
        max_length=254, allow_blank=True, default="", help_text="eSIM : reçoit le QR code."
    )
    contact_mobile = serializers.CharField(
        max_length=20,
        allow_blank=True,
        default="",
        help_text="eSIM : reçoit le code de confirmation par SMS.",
    )


class OptionAddInputSerializer(serializers.Serializer):
    option = serializers.CharField(max_length=40, help_text="Code de l'option du catalogue (ex. fixed_ip).")


class RoamingInputSerializer(serializers.Serializer):
    zone = serializers.CharField(
        max_length=20, help_text="usa_canada, maghreb_turquie, reste_du_monde, monde…"
    )
    choice = serializers.CharField(max_length=60, help_text="Code du choix (coupure ou option) du catalogue.")


class OfferChangeInputSerializer(serializers.Serializer):
    offer = serializers.CharField(max_length=40, help_text="Code de l'offre cible (même réseau, même gamme).")


class TopupInputSerializer(serializers.Serializer):
    volume_bytes = serializers.IntegerField(
        min_value=1,
        help_text="Volume de la recharge en octets (1 Go = 10^9), parmi ceux que l'offre accepte (R-CAT-10, "
        "R-CAT-6 M2M, R-CAT-7 compteur une fois le seuil atteint).",
    )
    confirm_repeat = serializers.BooleanField(
        default=False,
        help_text="R-PRV-5 : une recharge commandée il y a moins de 30 minutes peut ne pas encore apparaître ; "
        "la commander à nouveau la facture deux fois. `true` pour la commander quand même.",
    )


class DataThresholdInputSerializer(serializers.Serializer):
    threshold_bytes = serializers.IntegerField(
        allow_null=True,
        help_text="Seuil data en octets, de 1 Go (10^9) à 100 Go ; `null` supprime le seuil (R-CAT-7, R-CAT-8).",
    )


# --------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------


class ActionRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperatorRequest
        fields = ["id", "kind", "state", "not_before", "planned_at", "created_at"]
        read_only_fields = fields


class ContractTopupSerializer(serializers.ModelSerializer):
    """A data top-up of the line: pending until the operator confirms it (up to 30 minutes, R-PRV-5), then
    confirmed and counted for ``month``. ``price_ht`` null = « à définir » (copied from the catalog)."""

    contract_id = serializers.IntegerField(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    operator_request = ActionRequestSerializer(allow_null=True, read_only=True)

    class Meta:
        model = ContractTopup
        fields = [
            "id",
            "contract_id",
            "volume_bytes",
            "price_ht",
            "state",
            "state_label",
            "source",
            "requested_at",
            "confirmed_at",
            "month",
            "last_error",
            "operator_request",
        ]
        read_only_fields = fields


class ContractTopupPageSerializer(serializers.Serializer):
    """One page of a line's top-ups (``?page=``, 50 a page)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ContractTopupSerializer(many=True)


class ContractActionResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    operator_request = ActionRequestSerializer(allow_null=True)
    scheduled_change = serializers.DictField(allow_null=True, required=False)
    contract = ContractDetailSerializer()


ERRORS = {
    400: OpenApiResponse(
        description="Saisie mal formée, ou en-tête Idempotency-Key absent : `{message, field}`."
    ),
    401: OpenApiResponse(description="Jeton absent ou invalide."),
    403: OpenApiResponse(description="L'utilisateur n'est membre d'aucun partenaire."),
    404: OpenApiResponse(description="Contrat (ou option) inconnu, ou d'un autre partenaire."),
    422: OpenApiResponse(
        description="Action refusée par une règle (R-CON-5, R-CON-6, R-ORD-5, R-OPT-2/3/4/8, R-CAT-10, "
        "R-PRV-5…) : "
        "`{message, field, rule}` ; ou clé d'idempotence déjà utilisée pour une autre requête."
    ),
}


def _responses(ok_status: int = 202, description: str = "Demande enregistrée.") -> dict:
    return {
        ok_status: OpenApiResponse(response=ContractActionResultSerializer, description=description),
        **ERRORS,
    }


def _schema(
    summary: str, description: str, request=None, ok_status: int = 202, ok: str = "Demande enregistrée."
):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=request,
        responses=_responses(ok_status, ok),
    )


def _change_data(change: ScheduledChange | None) -> dict | None:
    """A scheduled offer change (``contracts.scheduling``) as plain JSON."""
    if change is None:
        return None
    return {
        "id": change.pk,
        "kind": change.kind,
        "state": change.state,
        "from_offer": change.from_offer.code,
        "to_offer": change.to_offer.code,
        "effective_at": change.effective_at.isoformat(),
        "rule": change.rule,
    }


# --------------------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------------------


@extend_schema(tags=["contrats : actions"])
class ContractActionViewSet(PartnerScopedMixin, viewsets.GenericViewSet):
    """The lifecycle actions of a line (R-CON-9)."""

    lookup_value_regex = r"\d+"
    serializer_class = ContractActionResultSerializer

    def scoped_queryset(self, partner):
        return Contract.objects.filter(partner=partner).select_related(
            "offer", "order", "sim", "esim", "client"
        )

    # --- plumbing ---------------------------------------------------------------------------------------

    def _option(self, contract: Contract, option_id) -> ContractOption:
        return contract_option_get_or_404(contract.partner, contract, option_id)

    def _result(
        self,
        contract: Contract,
        message: str,
        *,
        operator_request: OperatorRequest | None = None,
        change: Any = None,
        status_code: int = status.HTTP_202_ACCEPTED,
    ) -> Response:
        fresh = (
            Contract.objects.filter(pk=contract.pk)
            .select_related("offer", "order", "sim", "esim", "partner", "client")
            .prefetch_related("options", "fees", "operator_requests")
            .get()
        )
        body = {
            "message": message,
            "operator_request": ActionRequestSerializer(operator_request).data if operator_request else None,
            "scheduled_change": _change_data(change),
            "contract": ContractDetailSerializer(fresh).data,
        }
        return Response(body, status=status_code)

    @idempotent
    def _run(self, request, *, perform):
        """Run ``perform()`` under the request's Idempotency-Key (the contract was found before: 404 first)."""
        return perform()

    def _input(self, serializer_class, request) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- suspend / resume / terminate (R-CON-5, R-CON-6) -----------------------------------------------

    @_schema(
        "Suspendre la ligne",
        "R-CON-5 : services coupés jusqu'à la réactivation, **la facturation continue** (abonnement et options). "
        "La ligne passe « Suspendu » à la confirmation de l'opérateur.",
    )
    @action(detail=True, methods=["post"], url_path="suspend", url_name="suspend")
    def suspend(self, request, pk=None):
        contract = self.get_object()

        def perform():
            op = lifecycle.contract_suspend(contract=contract, actor=request.user)
            return self._result(
                contract,
                _("Suspension demandée : la facturation continue pendant la suspension (R-CON-5)."),
                operator_request=op,
            )

        return self._run(request, perform=perform)

    @_schema("Réactiver la ligne", "R-CON-5 : Suspendu → Actif à la confirmation de l'opérateur.")
    @action(detail=True, methods=["post"], url_path="resume", url_name="resume")
    def resume(self, request, pk=None):
        contract = self.get_object()

        def perform():
            op = lifecycle.contract_resume(contract=contract, actor=request.user)
            return self._result(contract, _("Réactivation demandée."), operator_request=op)

        return self._run(request, perform=perform)

    @_schema(
        "Résilier la ligne (« À résilier »)",
        "La ligne passe « En cours de résiliation », puis « Résilié » à la confirmation de l'opérateur ; le "
        "numéro et la SIM/eSIM sont alors retirés définitivement (R-CON-6).",
    )
    @action(detail=True, methods=["post"], url_path="terminate", url_name="terminate")
    def terminate(self, request, pk=None):
        contract = self.get_object()

        def perform():
            op = lifecycle.contract_terminate(contract=contract, actor=request.user)
            return self._result(
                contract,
                _("Résiliation demandée : le numéro et la SIM seront retirés définitivement (R-CON-6)."),
                operator_request=op,
            )

        return self._run(request, perform=perform)

    # --- SIM swap (R-ORD-5) ------------------------------------------------------------------------------

    @_schema(
        "SIM swap",
        "R-ORD-5 : vers une SIM physique (ICCID du stock du partenaire ou du stock affecté au client, même réseau) "
        "ou vers une eSIM (Orange seulement, e-mail et mobile du contact obligatoires). Envoyé dans les horaires "
        "de l'opérateur (R-PRV-1/2/3).",
        request=SimSwapInputSerializer,
    )
    @action(detail=True, methods=["post"], url_path="sim-swap", url_name="sim-swap")
    def sim_swap(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(SimSwapInputSerializer, request)
            op = lifecycle.contract_sim_swap(
                contract=contract,
                actor=request.user,
                iccid=data["iccid"],
                esim=data["target"] == "esim",
                contact_email=data["contact_email"],
                contact_mobile=data["contact_mobile"],
            )
            return self._result(contract, _("SIM swap demandé."), operator_request=op)

        return self._run(request, perform=perform)

    # --- options (R-OPT-3, R-OPT-8) and roaming (R-OPT-4) ------------------------------------------------

    @_schema(
        "Ajouter une option",
        "R-OPT-8 : une option s'ajoute à une ligne active ; éligibilité du catalogue (R-OPT-3 IP fixe, "
        "plateforme partenaire Init Sys ; R-OPT-6/7 ; R-CAT-9).",
        request=OptionAddInputSerializer,
    )
    @action(detail=True, methods=["post"], url_path="options", url_name="option-add")
    def option_add(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(OptionAddInputSerializer, request)
            op = lifecycle.contract_option_add(
                contract=contract, option_code=data["option"], actor=request.user
            )
            return self._result(contract, _("Ajout d'option demandé."), operator_request=op)

        return self._run(request, perform=perform)

    @_schema(
        "Résilier une option",
        "R-OPT-3 : une option Orange se termine le 1er du mois suivant, une option Bouygues immédiatement. "
        "R-OPT-8 : une option se résilie, elle ne se suspend pas.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"options/(?P<option_id>\d+)/terminate",
        url_name="option-terminate",
    )
    def option_terminate(self, request, pk=None, option_id=None):
        contract = self.get_object()
        option = self._option(contract, option_id)

        def perform():
            op = lifecycle.contract_option_terminate(
                contract=contract, contract_option=option, actor=request.user
            )
            return self._result(contract, _("Résiliation d'option demandée."), operator_request=op)

        return self._run(request, perform=perform)

    @_schema(
        "Suspendre une option (toujours refusé)",
        "R-OPT-8 : une option ne peut pas être suspendue, seulement résiliée — la réponse est toujours 422.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"options/(?P<option_id>\d+)/suspend",
        url_name="option-suspend",
    )
    def option_suspend(self, request, pk=None, option_id=None):
        contract = self.get_object()
        option = self._option(contract, option_id)

        def perform():
            lifecycle.contract_option_suspend(contract=contract, contract_option=option, actor=request.user)
            raise AssertionError("unreachable")  # pragma: no cover - the service always refuses

        return self._run(request, perform=perform)

    @_schema(
        "Changer la coupure ou l'option d'itinérance d'une zone",
        "R-OPT-4 : dans le mois, les deux choix sont facturés mais les enveloppes ne s'additionnent pas (la "
        "nouvelle remplace l'ancienne) ; la data est débloquée immédiatement (R-ALR-5).",
        request=RoamingInputSerializer,
    )
    @action(detail=True, methods=["post"], url_path="roaming", url_name="roaming")
    def roaming(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(RoamingInputSerializer, request)
            op = lifecycle.contract_roaming_change(
                contract=contract, zone=data["zone"], choice_code=data["choice"], actor=request.user
            )
            return self._result(contract, _("Changement d'itinérance demandé."), operator_request=op)

        return self._run(request, perform=perform)

    # --- offer changes (R-CON-1..3) and retry (R-CON-7) --------------------------------------------------

    @_schema(
        "Programmer un changement d'offre",
        "Upgrade/downgrade (R-CON-1) ou migration bloqué ⇄ non bloqué (R-CON-2), effectif le 1er du mois "
        "suivant à 00:00 (Paris) ; refusé entre gammes, d'un forfait vers le compteur, de Travel vers Illimité "
        "(R-CON-3).",
        request=OfferChangeInputSerializer,
        ok_status=201,
        ok="Changement programmé.",
    )
    @action(detail=True, methods=["post"], url_path="offer-change", url_name="offer-change")
    def offer_change(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(OfferChangeInputSerializer, request)
            change = lifecycle.contract_offer_change(
                contract=contract, offer_code=data["offer"], actor=request.user
            )
            return self._result(
                contract,
                _("Changement d'offre programmé pour le 1er du mois prochain."),
                change=change,
                status_code=status.HTTP_201_CREATED,
            )

        return self._run(request, perform=perform)

    @_schema(
        "Annuler le changement d'offre programmé",
        "Avant sa date d'effet (le 1er du mois suivant).",
        ok_status=200,
        ok="Changement annulé.",
    )
    @action(detail=True, methods=["post"], url_path="offer-change/cancel", url_name="offer-change-cancel")
    def offer_change_cancel(self, request, pk=None):
        contract = self.get_object()

        def perform():
            change = lifecycle.contract_offer_change_cancel(contract=contract, actor=request.user)
            return self._result(
                contract, _("Changement d'offre annulé."), change=change, status_code=status.HTTP_200_OK
            )

        return self._run(request, perform=perform)

    @_schema(
        "Relancer la mise en service",
        "Pour une ligne « En erreur » : la demande opérateur en échec repart (R-CON-7, R-CON-8).",
    )
    @action(detail=True, methods=["post"], url_path="retry", url_name="retry")
    def retry(self, request, pk=None):
        contract = self.get_object()

        def perform():
            op = lifecycle.contract_retry(contract=contract, actor=request.user)
            return self._result(contract, _("Mise en service relancée."), operator_request=op)

        return self._run(request, perform=perform)

    # --- top-ups (R-CAT-10, R-CAT-6, R-CAT-7, R-PRV-5) and the data threshold (R-CAT-7/8) -------------------

    @extend_schema(
        summary="Recharges data de la ligne",
        description="Les recharges commandées sur la ligne, des plus récentes aux plus anciennes (paginé) : "
        "volume, prix HT (null = à définir), état (en cours jusqu'à la confirmation de l'opérateur, jusqu'à "
        "30 minutes — R-PRV-5), mois de consommation.",
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="Numéro de page (50 par page).")],
        responses={200: ContractTopupPageSerializer, **{k: v for k, v in ERRORS.items() if k != 422}},
    )
    @action(detail=True, methods=["get"], url_path="topups", url_name="topups")
    def topups(self, request, pk=None):
        contract = self.get_object()
        page = self.paginate_queryset(contract_topups(contract.partner, contract))
        return self.get_paginated_response(ContractTopupSerializer(page, many=True).data)

    @extend_schema(
        summary="Commander une recharge data",
        description="R-CAT-10 : volumes Illimité et Data only ; Bouygues non bloqué : seulement le volume du "
        "forfait ; R-CAT-6 : volumes M2M ; R-CAT-7 : une offre compteur seulement quand son seuil data est "
        "atteint ; R-CAT-4 : pas de recharge Travel. R-PRV-5 : une deuxième recharge moins de 30 minutes après "
        "la précédente est refusée (422, champ `confirm_repeat`) sauf `confirm_repeat: true`. Le volume compte "
        "pour le mois de la confirmation par l'opérateur et débloque la data de la ligne.",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        request=TopupInputSerializer,
        responses={
            201: OpenApiResponse(response=ContractTopupSerializer, description="Recharge commandée."),
            **ERRORS,
        },
    )
    @topups.mapping.post
    def topup_create(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(TopupInputSerializer, request)
            topup = topups.contract_topup(
                contract=contract,
                volume_bytes=data["volume_bytes"],
                actor=request.user,
                source=ContractTopup.Source.API,
                confirm_repeat=data["confirm_repeat"],
            )
            topup = ContractTopup.objects.select_related("operator_request").get(pk=topup.pk)
            return Response(ContractTopupSerializer(topup).data, status=status.HTTP_201_CREATED)

        return self._run(request, perform=perform)

    @_schema(
        "Régler le seuil data (offres compteur)",
        "R-CAT-7 / R-CAT-8 : de 1 Go à 100 Go, seulement sur les offres Compteur et Compteur Data ; `null` "
        "supprime le seuil. Quand la consommation du mois l'atteint, la data est bloquée ; relever ou supprimer "
        "le seuil la débloque.",
        request=DataThresholdInputSerializer,
        ok_status=200,
        ok="Seuil enregistré.",
    )
    @action(detail=True, methods=["post"], url_path="data-threshold", url_name="data-threshold")
    def data_threshold(self, request, pk=None):
        contract = self.get_object()

        def perform():
            data = self._input(DataThresholdInputSerializer, request)
            datablocks.contract_data_threshold_set(
                contract=contract, threshold_bytes=data["threshold_bytes"], actor=request.user
            )
            return self._result(contract, _("Seuil data enregistré."), status_code=status.HTTP_200_OK)

        return self._run(request, perform=perform)
