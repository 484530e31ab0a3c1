"""Back-office pages of the contract actions (R-CON-9 "Actions possibles" tab, R-OPT-8 Options tab).

Each enabled action of the "Actions possibles" tab opens a small form at ``/contrats/<id>/actions/<action>/``
with its French confirmation text (suspension: "la facturation continue", R-CON-5). The POST (CSRF) calls one
``contracts.lifecycle`` service; a refusal (``RuleViolation``) re-renders the form with the message next to its
field; a success redirects to the History tab with a message. The Options tab links to "Ajouter une option",
"Changer l'itinérance" and each option's "Résilier". No business rule here: the services decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from catalog.labels import roaming_choice_label, zone_label
from catalog.rules import COMPTEUR_RANGES, RoamingChoiceFacts, option_termination_effective_at
from contracts import datablocks, lifecycle, selectors, topups
from contracts import rules as contract_rules
from contracts.models import Contract, ContractOption
from contracts.rules import msisdn_display
from core.errors import RuleViolation
from core.money import GB, format_bytes
from inventory.selectors import sims_swappable

from .access import partner_required

# --------------------------------------------------------------------------------------------------------
# Forms (input shape only)
# --------------------------------------------------------------------------------------------------------


class ConfirmForm(forms.Form):
    """Nothing to enter: the page shows what will happen, the button confirms."""


class SimSwapForm(forms.Form):
    iccid = forms.CharField(
        label=_lazy("ICCID de la nouvelle carte SIM"),
        max_length=22,
        help_text=_lazy(
            "Une SIM du stock du partenaire ou du stock affecté au client, du même réseau (R-ORD-5)."
        ),
        widget=forms.TextInput(attrs={"list": "sim-choices", "autocomplete": "off", "inputmode": "numeric"}),
    )


class EsimSwapForm(forms.Form):
    contact_email = forms.CharField(
        label=_lazy("E-mail du contact"), max_length=254, help_text=_lazy("Il reçoit le QR code de l'eSIM.")
    )
    contact_mobile = forms.CharField(
        label=_lazy("Mobile du contact"),
        max_length=20,
        help_text=_lazy("Il reçoit le code de confirmation par SMS (un autre numéro que celui de la ligne)."),
    )


class OfferChangeForm(forms.Form):
    offer = forms.ChoiceField(label=_lazy("Nouvelle offre"))

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].choices = [("", "—")] + [
            (offer.code, f"{offer.label} — {decision.reason}") for offer, decision in targets
        ]


class OptionAddForm(forms.Form):
    option = forms.ChoiceField(label=_lazy("Option"))

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [("", "—")] + [(o.code, o.label) for o in options]


class RoamingForm(forms.Form):
    zone = forms.ChoiceField(label=_lazy("Zone"))
    choice = forms.ChoiceField(label=_lazy("Nouveau choix"))

    def __init__(self, *args, zones=None, **kwargs):
        super().__init__(*args, **kwargs)
        zones = zones or {}
        self.fields["zone"].choices = [("", "—")] + [(z, zone_label(z)) for z in zones]
        self.fields["choice"].choices = [("", "—")] + [
            (zone_label(z), [(c.code, _choice_label(c)) for c in choices]) for z, choices in zones.items()
        ]


class TopupForm(forms.Form):
    """« Recharge data »: a volume among the line's allowed top-ups (R-CAT-10/6/7), the page's request key (a
    double submit makes one top-up, STYLE 33) and, once R-PRV-5 refused a repeat, « Commander quand même »."""

    volume = forms.TypedChoiceField(label=_lazy("Volume"), coerce=int, widget=forms.RadioSelect)
    confirm_repeat = forms.BooleanField(
        label=_lazy("Commander quand même"), required=False, widget=forms.HiddenInput
    )
    request_key = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volume"].choices = [
            (c.volume_bytes, f"{c.label} — {topups.format_price(c.price_ht)}") for c in choices
        ]
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)

    def add_error(self, field, error):
        if field == "confirm_repeat":  # R-PRV-5 refused a repeat: the user may confirm it
            self.fields["confirm_repeat"].widget = forms.CheckboxInput()
        super().add_error(field, error)


class DataThresholdForm(forms.Form):
    threshold_go = forms.IntegerField(
        label=_lazy("Seuil data (Go)"),
        required=False,
        min_value=1,
        max_value=100,
        help_text=_lazy("De 1 à 100 Go. Laissez vide pour supprimer le seuil."),
    )


def _choice_label(choice) -> str:
    label = roaming_choice_label(RoamingChoiceFacts.of(choice))
    if choice.kind == "option" and choice.price_ht is not None:
        label = f"{label} — {choice.price_ht} € HT/mois"
    return label


def _add_violation(form: forms.Form, exc: RuleViolation, *, show_rule: bool = True) -> None:
    """The French message next to its field (or above the form), with the rule id unless ``show_rule`` is off
    (pages that show French only, STYLE 31)."""
    message = f"{exc.message} ({exc.rule})" if exc.rule and show_rule else str(exc.message)
    form.add_error(exc.field if exc.field in form.fields else None, message)


# --------------------------------------------------------------------------------------------------------
# The actions of the "Actions possibles" tab
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionPage:
    """One action page: its title, what the user must know before confirming, its form, the service call."""

    title: str
    confirmation: tuple[str, ...]
    button: str
    #: The service call of an "Actions possibles" page; returns the success message.
    perform: Callable[[HttpRequest, Contract, dict], str] | None = None
    form_class: type[forms.Form] = ConfirmForm
    rule: str = "R-CON-9"
    danger: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)
    #: Keyword arguments of ``form_class`` for the line (e.g. the top-up volumes it may buy).
    form_kwargs: Callable[[Contract], dict] | None = None


def _suspend(request, contract, data) -> str:
    lifecycle.contract_suspend(contract=contract, actor=request.user)
    return _(
        "Suspension demandée à l'opérateur : la ligne sera suspendue à sa confirmation. "
        "La facturation continue pendant la suspension (R-CON-5)."
    )


def _resume(request, contract, data) -> str:
    lifecycle.contract_resume(contract=contract, actor=request.user)
    return _("Réactivation demandée à l'opérateur : la ligne redeviendra active à sa confirmation.")


def _terminate(request, contract, data) -> str:
    lifecycle.contract_terminate(contract=contract, actor=request.user)
    return _(
        "Résiliation demandée : la ligne est en cours de résiliation ; le numéro et la SIM seront retirés "
        "définitivement (R-CON-6)."
    )


def _swap_sim(request, contract, data) -> str:
    op = lifecycle.contract_sim_swap(contract=contract, actor=request.user, iccid=data["iccid"])
    return _(
        "SIM swap demandé vers la SIM %(iccid)s : envoyé à l'opérateur dans ses horaires (R-PRV-1/3)."
    ) % {"iccid": op.payload.get("iccid", "")}


def _swap_esim(request, contract, data) -> str:
    lifecycle.contract_sim_swap(
        contract=contract,
        actor=request.user,
        esim=True,
        contact_email=data["contact_email"],
        contact_mobile=data["contact_mobile"],
    )
    return _(
        "SIM swap vers eSIM demandé : envoyé à Orange du lundi au vendredi de 9 h à 17 h 30 (R-PRV-2) ; "
        "le QR code et le code de confirmation partiront au contact à la confirmation."
    )


def _offer_change(request, contract, data) -> str:
    lifecycle.contract_offer_change(contract=contract, offer_code=data["offer"], actor=request.user)
    return _("Changement d'offre programmé : il prendra effet le 1er du mois prochain (R-CON-1/2).")


def _cancel_change(request, contract, data) -> str:
    lifecycle.contract_offer_change_cancel(contract=contract, actor=request.user)
    return _("Changement d'offre programmé annulé.")


def _topup(request, contract, data) -> str:
    bought = topups.contract_topup(
        contract=contract,
        volume_bytes=data["volume"],
        actor=request.user,
        source="backoffice",
        confirm_repeat=data["confirm_repeat"],
        request_key=data["request_key"],
    )
    return _(
        "Recharge de %(volume)s commandée : elle peut mettre jusqu'à 30 minutes à apparaître sur la ligne."
    ) % {"volume": format_bytes(bought.volume_bytes)}


def _retry(request, contract, data) -> str:
    lifecycle.contract_retry(contract=contract, actor=request.user)
    return _("Mise en service relancée : la demande repart vers l'opérateur.")


ACTION_PAGES: dict[str, ActionPage] = {
    contract_rules.ACTION_SUSPEND: ActionPage(
        title=_lazy("Suspendre la ligne"),
        confirmation=(
            _lazy("Les services de la ligne (appels, SMS, data) seront coupés jusqu'à sa réactivation."),
            _lazy(
                "La facturation continue : l'abonnement et les options restent facturés pendant la suspension "
                "(R-CON-5)."
            ),
        ),
        button=_lazy("Suspendre"),
        perform=_suspend,
        rule="R-CON-5",
    ),
    contract_rules.ACTION_RESUME: ActionPage(
        title=_lazy("Réactiver la ligne"),
        confirmation=(_lazy("Les services de la ligne seront rétablis à la confirmation de l'opérateur."),),
        button=_lazy("Réactiver"),
        perform=_resume,
        rule="R-CON-5",
    ),
    contract_rules.ACTION_TERMINATE: ActionPage(
        title=_lazy("Résilier la ligne"),
        confirmation=(
            _lazy(
                "La ligne passe « En cours de résiliation » puis « Résiliée » à la confirmation de l'opérateur."
            ),
            _lazy(
                "Le numéro et la carte SIM (ou l'eSIM) seront retirés définitivement : ils ne seront jamais "
                "réattribués (R-CON-6)."
            ),
            _lazy(
                "Les options s'arrêtent ; un changement d'offre programmé est annulé. Action irréversible."
            ),
        ),
        button=_lazy("Résilier la ligne"),
        perform=_terminate,
        rule="R-CON-6",
        danger=True,
    ),
    contract_rules.ACTION_SWAP_SIM: ActionPage(
        title=_lazy("SIM Swap vers SIM physique"),
        confirmation=(
            _lazy(
                "Choisissez une carte SIM du stock du partenaire ou du stock affecté au client, du même réseau."
            ),
            _lazy(
                "Le swap est envoyé dans les horaires de l'opérateur (Orange : lundi–samedi 7 h–22 h, R-PRV-1 ; "
                "Bouygues : 24 h/24, R-PRV-3). L'ancienne SIM est alors retirée définitivement."
            ),
        ),
        button=_lazy("Demander le SIM swap"),
        perform=_swap_sim,
        form_class=SimSwapForm,
        rule="R-ORD-5",
    ),
    contract_rules.ACTION_SWAP_ESIM: ActionPage(
        title=_lazy("SIM Swap vers eSIM"),
        confirmation=(
            _lazy("Orange uniquement (R-OPT-2) ; frais de mise en service de l'eSIM : 1,50 € HT."),
            _lazy(
                "Le swap est envoyé à Orange du lundi au vendredi de 9 h à 17 h 30 (R-PRV-2). Le contact reçoit "
                "le QR code par e-mail et le code de confirmation par SMS (R-ORD-4)."
            ),
        ),
        button=_lazy("Demander le SIM swap vers eSIM"),
        perform=_swap_esim,
        form_class=EsimSwapForm,
        rule="R-ORD-5",
    ),
    contract_rules.ACTION_CHANGE_SPEED: ActionPage(
        title=_lazy("Upgrade / Downgrade"),
        confirmation=(
            _lazy(
                "Le changement d'enveloppe prend effet le 1er du mois prochain à 0 h (R-CON-1) ; il reste "
                "annulable jusque-là."
            ),
        ),
        button=_lazy("Programmer le changement"),
        perform=_offer_change,
        form_class=OfferChangeForm,
        rule="R-CON-1",
    ),
    contract_rules.ACTION_MIGRATE: ActionPage(
        title=_lazy("Migration d'offre"),
        confirmation=(
            _lazy(
                "La migration bloqué ⇄ non bloqué prend effet le 1er du mois prochain à 0 h (R-CON-2) ; elle "
                "reste annulable jusque-là."
            ),
        ),
        button=_lazy("Programmer la migration"),
        perform=_offer_change,
        form_class=OfferChangeForm,
        rule="R-CON-2",
    ),
    contract_rules.ACTION_CANCEL_CHANGE: ActionPage(
        title=_lazy("Annuler le changement d'offre programmé"),
        confirmation=(_lazy("La ligne garde son offre actuelle."),),
        button=_lazy("Annuler le changement"),
        perform=_cancel_change,
        rule="R-CON-1",
    ),
    contract_rules.ACTION_TOPUP: ActionPage(
        title=_lazy("Recharge data"),
        confirmation=(
            _lazy(
                "Une recharge peut mettre jusqu'à 30 minutes à apparaître sur la ligne : ne la commandez pas à "
                "nouveau pendant ce temps, elle serait facturée deux fois."
            ),
            _lazy(
                "Le volume s'ajoute à l'enveloppe France et Europe du mois en cours et débloque la data de la "
                "ligne si elle était bloquée."
            ),
        ),
        button=_lazy("Commander la recharge"),
        perform=_topup,
        form_class=TopupForm,
        rule="",  # STYLE 31: the user sees French, not the rule id (R-CAT-10, R-PRV-5)
        form_kwargs=lambda contract: {"choices": topups.topup_choices(contract)},
    ),
    contract_rules.ACTION_RETRY: ActionPage(
        title=_lazy("Relancer la mise en service"),
        confirmation=(_lazy("La demande opérateur en échec repart : la ligne repasse « En cours »."),),
        button=_lazy("Relancer"),
        perform=_retry,
        rule="R-CON-7",
    ),
}


def _history_url(contract: Contract) -> str:
    return reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "historique"})


def _done(request: HttpRequest, contract: Contract, message: str) -> HttpResponse:
    messages.success(request, message)
    url = _history_url(contract)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _page_context(contract: Contract) -> dict:
    return {"contract": contract, "msisdn": msisdn_display(contract.msisdn)}


@partner_required
@require_http_methods(["GET", "POST"])
def contract_action_view(request: HttpRequest, contract_id: int, action: str) -> HttpResponse:
    """``/contrats/<id>/actions/<action>/``: the form of one action of the "Actions possibles" tab."""
    page = ACTION_PAGES.get(action)
    if page is None:
        raise Http404("action")
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    possible = {a.code: a for a in selectors.contract_possible_actions(contract)}
    state = possible.get(action)
    pending_change = lifecycle.pending_offer_change(contract)
    if state is not None:
        enabled, reason = state.enabled, state.reason
    elif action == contract_rules.ACTION_CANCEL_CHANGE:
        enabled, reason = False, _("Aucun changement d'offre programmé.")
    else:
        enabled, reason = False, _("Action indisponible.")
    kwargs: dict = page.form_kwargs(contract) if page.form_kwargs is not None else {}
    if page.form_class is OfferChangeForm:
        kwargs["targets"] = lifecycle.offer_change_targets(contract, action)
    form = page.form_class(request.POST if request.method == "POST" else None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            message = page.perform(request, contract, form.cleaned_data)
        except RuleViolation as exc:
            _add_violation(form, exc, show_rule=bool(page.rule))
        else:
            return _done(request, contract, message)
    context = {
        **_page_context(contract),
        "page": page,
        "action": action,
        "form": form,
        "enabled": enabled,
        "reason": reason,
        "pending_change": pending_change,
        "sim_choices": sims_swappable(contract.partner, client=contract.client, network=contract.network)
        if action == contract_rules.ACTION_SWAP_SIM
        else [],
        "form_url": reverse(
            "backoffice:contract_action", kwargs={"contract_id": contract.pk, "action": action}
        ),
    }
    return render(request, "backoffice/contracts/actions/form.html", context, status=200)


# --------------------------------------------------------------------------------------------------------
# Options tab (R-OPT-3, R-OPT-4, R-OPT-8)
# --------------------------------------------------------------------------------------------------------


@partner_required
@require_http_methods(["GET", "POST"])
def contract_option_add_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """ "Ajouter une option" (R-OPT-8): the catalog options this line may add (R-OPT-3 eligibility)."""
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    form = OptionAddForm(
        request.POST if request.method == "POST" else None, options=lifecycle.addable_options(contract)
    )
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.contract_option_add(
                contract=contract, option_code=form.cleaned_data["option"], actor=request.user
            )
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            return _done(request, contract, _("Ajout de l'option demandé à l'opérateur (R-OPT-8)."))
    page = ActionPage(
        title=_lazy("Ajouter une option"),
        confirmation=(
            _lazy(
                "L'option est « En cours » jusqu'à la confirmation de l'opérateur, puis active et facturée."
            ),
            _lazy("Une option ne se suspend pas : elle se résilie (R-OPT-8)."),
        ),
        button=_lazy("Ajouter l'option"),
        rule="R-OPT-8",
    )
    context = {
        **_page_context(contract),
        "page": page,
        "form": form,
        "enabled": contract.state in lifecycle.LIVE_STATES,
        "reason": _("Les options s'ajoutent à une ligne active (R-OPT-8)."),
        "form_url": reverse("backoffice:contract_option_add", kwargs={"contract_id": contract.pk}),
    }
    return render(request, "backoffice/contracts/actions/form.html", context)


@partner_required
@require_http_methods(["GET", "POST"])
def contract_option_terminate_view(request: HttpRequest, contract_id: int, option_id: int) -> HttpResponse:
    """ "Résilier" an option (R-OPT-3: Orange on the 1st of next month, Bouygues at once; R-OPT-8)."""
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    option = selectors.contract_option_get_or_404(request.staff_partner, contract, option_id)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.contract_option_terminate(contract=contract, contract_option=option, actor=request.user)
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            return _done(
                request,
                contract,
                _("Résiliation de l'option « %(label)s » demandée (R-OPT-3).") % {"label": option.label},
            )
    effective = option_termination_effective_at(contract.network, timezone.now())
    when = (
        _("L'option prendra fin le %(date)s (Orange : le 1er du mois suivant, R-OPT-3).")
        % {"date": timezone.localtime(effective).strftime("%d/%m/%Y")}
        if effective > timezone.now()
        else _("L'option prendra fin immédiatement, à la confirmation de l'opérateur (Bouygues, R-OPT-3).")
    )
    page = ActionPage(
        title=_("Résilier l'option « %(label)s »") % {"label": option.label},
        confirmation=(when, _lazy("Une option ne se suspend pas : elle se résilie (R-OPT-8).")),
        button=_lazy("Résilier l'option"),
        rule="R-OPT-3",
        danger=True,
    )
    context = {
        **_page_context(contract),
        "page": page,
        "form": form,
        "enabled": option.status == ContractOption.Status.ACTIVE and contract.state in lifecycle.LIVE_STATES,
        "reason": _("Seule une option active d'une ligne active se résilie."),
        "form_url": reverse(
            "backoffice:contract_option_terminate",
            kwargs={"contract_id": contract.pk, "option_id": option.pk},
        ),
    }
    return render(request, "backoffice/contracts/actions/form.html", context)


@partner_required
@require_http_methods(["GET", "POST"])
def contract_roaming_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """Change the roaming cut-off or option of a zone (R-OPT-4: both billed this month, envelope replaced;
    R-ALR-5: data unblocked at once)."""
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    zones = lifecycle.roaming_zone_choices(contract)
    form = RoamingForm(request.POST if request.method == "POST" else None, zones=zones)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle.contract_roaming_change(
                contract=contract,
                zone=form.cleaned_data["zone"],
                choice_code=form.cleaned_data["choice"],
                actor=request.user,
            )
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            return _done(
                request,
                contract,
                _("Changement d'itinérance demandé : la data est débloquée immédiatement (R-ALR-5)."),
            )
    current = [(z, zone_label(z), lifecycle.roaming_envelope(contract, z)) for z in zones]
    page = ActionPage(
        title=_lazy("Changer l'itinérance"),
        confirmation=(
            _lazy(
                "Changer d'option dans le mois : les deux options sont facturées, mais les enveloppes ne "
                "s'additionnent pas — l'enveloppe devient celle de la nouvelle option (R-OPT-4)."
            ),
            _lazy("La ligne est débloquée immédiatement (R-ALR-5)."),
        ),
        button=_lazy("Changer"),
        rule="R-OPT-4",
    )
    context = {
        **_page_context(contract),
        "page": page,
        "form": form,
        "enabled": bool(zones) and contract.state in lifecycle.LIVE_STATES,
        "reason": _("Aucune zone d'itinérance à choisir sur cette ligne, ou ligne inactive."),
        "roaming_current": current,
        "form_url": reverse("backoffice:contract_roaming", kwargs={"contract_id": contract.pk}),
    }
    return render(request, "backoffice/contracts/actions/form.html", context)


# --------------------------------------------------------------------------------------------------------
# Data threshold of a compteur line (R-CAT-7, R-CAT-8), from the Informations tab
# --------------------------------------------------------------------------------------------------------


@partner_required
@require_http_methods(["GET", "POST"])
def contract_data_threshold_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """« Seuil data » of a Compteur / Compteur Data line: 1 to 100 Go, or none. Raising or removing it unblocks a
    line blocked at its threshold (``contracts.datablocks.contract_data_threshold_set``)."""
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    current = contract.data_threshold_bytes
    initial = {"threshold_go": current // GB if current and current % GB == 0 else None}
    form = DataThresholdForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        go = form.cleaned_data["threshold_go"]
        try:
            datablocks.contract_data_threshold_set(
                contract=contract, threshold_bytes=go * GB if go else None, actor=request.user
            )
        except RuleViolation as exc:
            _add_violation(form, exc, show_rule=False)
        else:
            return _done(
                request,
                contract,
                _("Seuil data réglé à %(go)d Go.") % {"go": go} if go else _("Seuil data supprimé."),
            )
    is_compteur = contract.offer.range in COMPTEUR_RANGES
    page = ActionPage(
        title=_lazy("Seuil data"),
        confirmation=(
            _("Seuil actuel : %(value)s.") % {"value": format_bytes(current) if current else _("aucun")},
            _lazy(
                "Quand la consommation data du mois atteint le seuil, la data de la ligne est bloquée ; une "
                "recharge peut alors être commandée. Relever ou supprimer le seuil débloque la ligne."
            ),
        ),
        button=_lazy("Enregistrer le seuil"),
        rule="",  # STYLE 31 (R-CAT-7/8)
    )
    context = {
        **_page_context(contract),
        "page": page,
        "form": form,
        "enabled": is_compteur
        and contract.state not in (Contract.State.TERMINATED, Contract.State.TERMINATING),
        "reason": _(
            "Le seuil data ne se règle que sur les offres Compteur et Compteur Data d'une ligne non résiliée."
        ),
        "form_url": reverse("backoffice:contract_data_threshold", kwargs={"contract_id": contract.pk}),
    }
    return render(request, "backoffice/contracts/actions/form.html", context)
