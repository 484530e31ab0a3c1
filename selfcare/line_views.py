"""The self-care line page (R-SC-5): one line of the logged-in client — user, state, delivery date, offer,
options, SIM and PUK; month totals for one of the last 3 months and the consumption journal with its tabs and
filters.

No business rule here: the line is fetched through ``contracts.selectors.contract_get_for_client_or_404`` (another
client's line, of the same partner or not, is a 404), ``usage.selectors`` reads and ``usage.display`` formats —
the journal is the back-office's (``backoffice.usage_views.journal_context`` and its partial), pointed at this
page. Every control is a plain GET link or form; htmx swaps only the ``#usage`` block."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from backoffice.usage_views import journal_context
from contracts import selectors as contract_selectors
from contracts import topups
from contracts.models import ContractOption
from contracts.rules import msisdn_display
from core.errors import RuleViolation
from inventory.selectors import sims_assigned_to_client

from . import services
from .access import selfcare_login_required
from .models import SelfcareOrder

Action = SelfcareOrder.Action

TEMPLATE = "selfcare/line.html"
USAGE_PARTIAL = "backoffice/contracts/tabs/consommations.html#usage"


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request and htmx.target == "usage"


def line_context(request: HttpRequest, contract) -> dict:
    options = [
        o
        for o in contract_selectors.contract_options(contract.partner, contract)
        if o.status != ContractOption.Status.TERMINATED
    ]
    context = {
        "partner": request.partner,
        "client": request.client_account,
        "contract": contract,
        "msisdn": msisdn_display(contract.msisdn),
        "options": options,
        "card": contract.esim if contract.is_esim else contract.sim,
        "actions": services.selfcare_possible_actions(contract, request.client_account),
        **journal_context(request, contract, usage_url=reverse("selfcare:line", kwargs={"pk": contract.pk})),
    }
    return context


@selfcare_login_required
@require_GET
def line_view(request: HttpRequest, pk: int) -> HttpResponse:
    """``/lignes/<pk>/``: the line page; an htmx request targeting ``#usage`` gets the journal block only."""
    contract = contract_selectors.contract_get_for_client_or_404(request.client_account, pk)
    context = line_context(request, contract)
    template = USAGE_PARTIAL if _is_partial(request) else TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


# --------------------------------------------------------------------------------------------------------
# Actions (R-SC-6): one confirmation page per action; the POST goes through selfcare.services
# --------------------------------------------------------------------------------------------------------


#: The hidden request key is missing or mangled (a page from a cache, a stripped form): the POST is refused (422)
#: with this message on top of the form, never next to the invisible field.
MISSING_KEY = _lazy(
    "Votre demande n'a pas pu être vérifiée : la page a expiré ou a été envoyée incomplète. "
    "Rien n'a été commandé ; rechargez la page puis confirmez à nouveau."
)


class _KeyedForm(forms.Form):
    """Every action page carries a hidden request key: a double submit makes one action (STYLE 33)."""

    request_key = forms.CharField(
        max_length=64,
        widget=forms.HiddenInput,
        error_messages={"required": MISSING_KEY, "max_length": MISSING_KEY},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)

    def renew_missing_key(self) -> None:
        """After a refused POST without a usable key, the re-rendered page carries a fresh one, so that
        confirming again works."""
        if "request_key" in self.errors:
            data = self.data.copy()
            data["request_key"] = uuid.uuid4().hex
            self.data = data


class TopupForm(_KeyedForm):
    volume_bytes = forms.TypedChoiceField(label=_lazy("Volume"), coerce=int, widget=forms.RadioSelect)
    confirm_repeat = forms.BooleanField(
        label=_lazy("Commander quand même"), required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volume_bytes"].choices = [
            (c.volume_bytes, f"{c.label} — {topups.format_price(c.price_ht)}")
            for c in topups.topup_choices(contract)
        ]

    def add_error(self, field, error):
        if field == "confirm_repeat":  # R-PRV-5 refused a repeat: the client may confirm it
            self.fields["confirm_repeat"].widget = forms.CheckboxInput()
        super().add_error(field, error)


class SimSwapForm(_KeyedForm):
    iccid = forms.CharField(
        label=_lazy("ICCID de la nouvelle carte SIM"),
        max_length=22,
        help_text=_lazy("Une des cartes SIM que votre opérateur vous a affectées."),
        widget=forms.TextInput(attrs={"list": "sim-choices", "autocomplete": "off", "inputmode": "numeric"}),
    )


class EsimSwapForm(_KeyedForm):
    contact_email = forms.CharField(
        label=_lazy("E-mail du contact"), max_length=254, help_text=_lazy("Il reçoit le QR code de l'eSIM.")
    )
    contact_mobile = forms.CharField(
        label=_lazy("Mobile du contact"),
        max_length=20,
        help_text=_lazy("Il reçoit le code de confirmation par SMS (un autre numéro que celui de la ligne)."),
    )


class RenameForm(_KeyedForm):
    user_name = forms.CharField(label=_lazy("Nom de l'utilisateur"), max_length=120)


FORMS = {
    Action.TOPUP: TopupForm,
    Action.SUSPEND: _KeyedForm,
    Action.RESUME: _KeyedForm,
    Action.SIM_SWAP: SimSwapForm,
    Action.ESIM_SWAP: EsimSwapForm,
    Action.RENAME: RenameForm,
}
WARNINGS = {
    Action.TOPUP: (
        _lazy(
            "La recharge peut prendre jusqu'à 30 minutes pour apparaître sur la ligne : ne pas la recommander "
            "pendant ce délai, elle serait facturée deux fois."
        ),
    ),
    Action.SUSPEND: (
        _lazy("La ligne sera suspendue à la confirmation de l'opérateur."),
        _lazy("Cette action n'entraîne pas l'arrêt de la facturation de la ligne."),
    ),
    Action.RESUME: (_lazy("La ligne redeviendra active à la confirmation de l'opérateur."),),
    Action.SIM_SWAP: (
        _lazy(
            "La carte SIM actuelle cessera de fonctionner dès que l'opérateur aura effectué le changement."
        ),
    ),
    Action.ESIM_SWAP: (
        _lazy(
            "Le QR code de la nouvelle eSIM est envoyé par e-mail et le code de confirmation par SMS au contact ; "
            "la carte actuelle cessera de fonctionner au changement."
        ),
    ),
    Action.RENAME: (),
}


def _action_or_404(code: str) -> str:
    if code not in Action.values:
        raise Http404("action")
    return code


def _form(action: str, contract, data=None):
    form_class = FORMS[action]
    if form_class is TopupForm:
        return TopupForm(data, contract=contract)
    if form_class is RenameForm and data is None:
        return RenameForm(initial={"user_name": contract.user_name})
    return form_class(data)


def _action_page(request, contract, action, form, allowed, status=200) -> HttpResponse:
    if form.is_bound:
        form.renew_missing_key()
    context = {
        "partner": request.partner,
        "client": request.client_account,
        "contract": contract,
        "msisdn": msisdn_display(contract.msisdn),
        "action": allowed,
        "form": form,
        # errors of hidden fields (the request key) are shown on top of the form: the user cannot see the field
        "hidden_errors": [e for f in form.hidden_fields() for e in f.errors],
        "warnings": WARNINGS[action],
        "sims_url": reverse("selfcare:line_sims", kwargs={"pk": contract.pk}),
    }
    return render(request, "selfcare/line_action.html", context, status=status)


@selfcare_login_required
@require_http_methods(["GET", "POST"])
def line_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """``/lignes/<pk>/<action>/``: the confirmation page (GET) and the order (POST) of one self-care action.
    A greyed action shows its reason and the POST is refused with it (nothing done)."""
    contract = contract_selectors.contract_get_for_client_or_404(request.client_account, pk)
    action = _action_or_404(action)
    allowed = services.selfcare_action_get(contract, request.client_account, action)
    if request.method == "GET":
        return _action_page(request, contract, action, _form(action, contract), allowed)
    form = _form(action, contract, request.POST)
    if not allowed.enabled:
        form.is_valid()
        form.add_error(None, allowed.reason)
        return _action_page(request, contract, action, form, allowed, status=422)
    if not form.is_valid():
        return _action_page(request, contract, action, form, allowed, status=422)
    data = form.cleaned_data
    try:
        order = services.selfcare_action_perform(
            contract=contract,
            client=request.client_account,
            user=request.user,
            action=action,
            request_key=data["request_key"],
            data=data,
        )
    except RuleViolation as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return _action_page(request, contract, action, form, allowed, status=422)
    messages.success(
        request,
        _("Votre demande « %(action)s » est enregistrée : bon de commande n° %(number)s.")
        % {"action": order.get_action_display(), "number": order.number},
    )
    return redirect("selfcare:line", pk=contract.pk)


@selfcare_login_required
@require_GET
def line_sims_view(request: HttpRequest, pk: int) -> HttpResponse:
    """``/lignes/<pk>/sims/?iccid=…``: the client's assigned SIMs (R-SC-7) of the line's network whose ICCID
    contains the typed digits, as ``<option>`` rows of the swap form's datalist (htmx autocomplete)."""
    contract = contract_selectors.contract_get_for_client_or_404(request.client_account, pk)
    typed = "".join(ch for ch in request.GET.get("iccid", "") if ch.isdigit())[:22]
    sims = sims_assigned_to_client(contract.partner, request.client_account, network=contract.network)
    if typed:
        sims = sims.filter(iccid__contains=typed)
    iccids = list(sims.order_by("iccid").values_list("iccid", flat=True)[:20])
    response = render(request, "selfcare/_sim_choices.html", {"iccids": iccids})
    patch_vary_headers(response, ("HX-Request",))
    return response
