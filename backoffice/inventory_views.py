"""Back-office « Ressources » pages (R-BO-2, R-SC-7): SIM, eSIM and number stock, assignment to clients,
release, CSV imports. No business rule here: forms check the input shape, ``inventory.services`` decide."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import RuleViolation, ValidationFailed
from core.networks import Network
from inventory import selectors, services
from inventory.importing import SIM_COLUMNS
from inventory.models import EsimProfile, PhoneNumber, SimCard
from partners.selectors import client_get_for_partner_or_404, client_list

from .access import admin_required, partner_required

PAGE_SIZE = 50


# --- forms (input shape only) ----------------------------------------------------------------------------


class _PartnerClientForm(forms.Form):
    client = forms.ModelChoiceField(
        label=gettext_lazy("Client"), queryset=None, empty_label=gettext_lazy("— choisir un client —")
    )

    def __init__(self, *args, partner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = client_list(partner)  # another partner's client is not a choice


class SimRangeForm(_PartnerClientForm):
    first_iccid = forms.CharField(label=gettext_lazy("Premier ICCID"), max_length=32)
    last_iccid = forms.CharField(label=gettext_lazy("Dernier ICCID"), max_length=32)
    action = forms.ChoiceField(
        choices=[("assign", gettext_lazy("Affecter")), ("release", gettext_lazy("Libérer"))], initial="assign"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].required = False

    def clean(self):
        data = super().clean()
        if data.get("action") == "assign" and not data.get("client"):
            self.add_error("client", _("Choisissez le client à qui affecter les cartes SIM."))
        return data


def _check_import_size(file):
    """Refuse an import file over ``IMPORT_MAX_BYTES`` before reading a byte of it."""
    if file and file.size > settings.IMPORT_MAX_BYTES:
        raise forms.ValidationError(
            _(
                "Fichier trop volumineux (%(size)s) : un import est limité à %(max)s, soit environ "
                "100 000 lignes. Découpez le fichier en plusieurs imports."
            )
            % {"size": filesizeformat(file.size), "max": filesizeformat(settings.IMPORT_MAX_BYTES)},
            code="too_large",
        )
    return file


class SimImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Fichier CSV"))

    def clean_file(self):
        return _check_import_size(self.cleaned_data.get("file"))


class NumberImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Fichier CSV"), required=False)

    def clean_file(self):
        return _check_import_size(self.cleaned_data.get("file"))

    network = forms.ChoiceField(label=gettext_lazy("Réseau"), choices=Network.choices, required=False)
    first = forms.CharField(label=gettext_lazy("Premier numéro"), max_length=20, required=False)
    last = forms.CharField(label=gettext_lazy("Dernier numéro"), max_length=20, required=False)

    def clean(self):
        data = super().clean()
        if "file" in self.errors:  # e.g. over IMPORT_MAX_BYTES: that error says it all
            return data
        has_range = bool(data.get("first") or data.get("last"))
        if bool(data.get("file")) == has_range:
            raise forms.ValidationError(
                _("Envoyez soit un fichier, soit une plage (premier et dernier numéro).")
            )
        if has_range:
            for field in ("network", "first", "last"):
                if not data.get(field):
                    self.add_error(field, _("Ce champ est obligatoire pour une plage."))
        return data


# --- helpers ---------------------------------------------------------------------------------------------


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Redirect to the ``next`` page the form came from (same host only), keeping its filters."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = default
    return redirect(target or default)


def _filters(request: HttpRequest, allowed_states, *, with_network: bool = True) -> dict:
    params = request.GET
    state = params.get("state", "")
    network = params.get("network", "")
    client = params.get("client", "")
    return {
        "state": state if state in allowed_states else "",
        "network": network if with_network and network in Network.values else "",
        "client": client if client.isascii() and client.isdigit() else "",  # "²".isdigit() too
        "q": params.get("q", "").strip()[:32],
    }


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(filters: dict) -> str:
    return urlencode({k: v for k, v in filters.items() if v})


def _list_page(request, template: str, context: dict) -> HttpResponse:
    """The whole page, or only the table partial for an htmx filter/pagination request."""
    if request.htmx and request.htmx.target == "stock-table":
        template = f"{template}#stock-table"
    return render(request, template, context)


def _common(request, tab: str, filters: dict) -> dict:
    partner = request.staff_partner
    summary = selectors.stock_summary(partner)
    return {
        "tab": tab,
        "filters": filters,
        "querystring": _querystring(filters),
        "clients": client_list(partner),
        "networks": Network.choices,
        "counts": {name: sum(values.values()) for name, values in summary.items()},
    }


# --- pages -----------------------------------------------------------------------------------------------


@partner_required
def stock_sims(request: HttpRequest) -> HttpResponse:
    """R-BO-2: SIM cards with filters, pagination, single/bulk assignment to a client and release."""
    partner = request.staff_partner
    filters = _filters(request, SimCard.State.values)
    sims = selectors.sim_list(
        partner,
        state=filters["state"],
        network=filters["network"],
        client=int(filters["client"]) if filters["client"] else None,
        search=filters["q"],
    )
    context = _common(request, "sims", filters) | {
        "page": _page(request, sims),
        "states": SimCard.State.choices,
        "range_form": SimRangeForm(partner=partner),
    }
    return _list_page(request, "backoffice/inventory/sims.html", context)


@partner_required
def stock_esims(request: HttpRequest) -> HttpResponse:
    partner = request.staff_partner
    filters = _filters(request, EsimProfile.State.values, with_network=False)
    profiles = selectors.esim_list(
        partner,
        state=filters["state"],
        client=int(filters["client"]) if filters["client"] else None,
        search=filters["q"],
    )
    context = _common(request, "esims", filters) | {
        "page": _page(request, profiles),
        "states": EsimProfile.State.choices,
    }
    return _list_page(request, "backoffice/inventory/esims.html", context)


@partner_required
def stock_numbers(request: HttpRequest) -> HttpResponse:
    partner = request.staff_partner
    filters = _filters(request, PhoneNumber.State.values)
    numbers = selectors.number_list(
        partner,
        state=filters["state"],
        network=filters["network"],
        client=int(filters["client"]) if filters["client"] else None,
        search=filters["q"],
    )
    context = _common(request, "numbers", filters) | {
        "page": _page(request, numbers),
        "states": PhoneNumber.State.choices,
    }
    return _list_page(request, "backoffice/inventory/numbers.html", context)


@partner_required
@require_POST
def sims_assign(request: HttpRequest) -> HttpResponse:
    """R-SC-7: assign the ticked SIMs (one or several) to a client."""
    partner = request.staff_partner
    default = reverse("backoffice:stock")
    iccids = request.POST.getlist("iccids")
    client_id = request.POST.get("client", "")
    if not (client_id.isascii() and client_id.isdigit()):
        messages.error(request, _("Choisissez le client à qui affecter les cartes SIM."))
        return _back(request, default)
    client = client_get_for_partner_or_404(partner, int(client_id))
    try:
        count = services.sim_assign(partner=partner, client=client, iccids=iccids)
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(n)d carte(s) SIM affectée(s) à %(client)s.") % {"n": count, "client": client.company_name},
        )
    return _back(request, default)


@partner_required
@require_POST
def sims_release(request: HttpRequest) -> HttpResponse:
    """R-SC-7: take the ticked SIMs back into the partner's stock."""
    partner = request.staff_partner
    try:
        count = services.sim_release(partner=partner, iccids=request.POST.getlist("iccids"))
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d carte(s) SIM libérée(s), de retour en stock.") % {"n": count})
    return _back(request, reverse("backoffice:stock"))


@partner_required
def sims_range(request: HttpRequest) -> HttpResponse:
    """R-SC-7: assign (or release) every SIM of an ascending ICCID range."""
    partner = request.staff_partner
    form = SimRangeForm(request.POST or None, partner=partner)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "assign":
                result = services.sim_assign_range(
                    partner=partner,
                    client=data["client"],
                    first_iccid=data["first_iccid"],
                    last_iccid=data["last_iccid"],
                )
                message = _("%(n)d carte(s) SIM affectée(s) à %(client)s.") % {
                    "n": result.count,
                    "client": data["client"].company_name,
                }
            else:
                result = services.sim_release_range(
                    partner=partner,
                    client=data["client"],
                    first_iccid=data["first_iccid"],
                    last_iccid=data["last_iccid"],
                )
                message = _("%(n)d carte(s) SIM libérée(s).") % {"n": result.count}
        except RuleViolation as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            if result.skipped:
                message += " " + _("%(n)d SIM de la plage laissée(s) telle(s) quelle(s) (autre état).") % {
                    "n": result.skipped
                }
            messages.success(request, message)
            return redirect("backoffice:stock")
    template = "backoffice/inventory/sim_range.html"
    if request.htmx:
        template += "#range-form"
    return render(request, template, {"form": form, "tab": "sims"}, status=400 if form.errors else 200)


def _import_page(request, *, form, template: str, run, success: str) -> HttpResponse:
    errors: list = []
    more_errors = 0
    headline = ""
    if request.method == "POST" and form.is_valid():
        try:
            count = run(form.cleaned_data)
        except ValidationFailed as exc:  # the service bounds the list (MAX_IMPORT_ERRORS) and counts the rest
            headline, errors, more_errors = exc.message, exc.errors, exc.more
        except RuleViolation as exc:
            headline = exc.message
        else:
            messages.success(request, success % {"n": count})
            return redirect(request.path)
    return render(
        request,
        template,
        {
            "form": form,
            "headline": headline,
            "errors": errors,
            "more_errors": more_errors,
            "columns": ";".join(SIM_COLUMNS),
        },
        status=400 if (headline or form.errors) else 200,
    )


@admin_required
def sims_import(request: HttpRequest) -> HttpResponse:
    """Upload a SIM stock CSV (iccid;pin;puk;network): all or nothing, bad lines reported. Partner admins
    only; the file is capped at ``IMPORT_MAX_BYTES`` and parsed as a stream."""
    partner = request.staff_partner
    form = SimImportForm(request.POST or None, request.FILES or None)
    return _import_page(
        request,
        form=form,
        template="backoffice/inventory/sims_import.html",
        run=lambda data: services.sim_import_csv(partner=partner, data=data["file"]),
        success=_("%(n)d carte(s) SIM importée(s) dans votre stock."),
    )


@admin_required
def numbers_import(request: HttpRequest) -> HttpResponse:
    """Add numbers to the partner's pool from a CSV (msisdn;network[;kind]) or a range. Partner admins only."""
    partner = request.staff_partner
    form = NumberImportForm(request.POST or None, request.FILES or None)

    def run(data):
        if data.get("file"):
            return services.number_import_csv(partner=partner, data=data["file"])
        return services.number_import_range(
            partner=partner, network=data["network"], first=data["first"], last=data["last"]
        )

    return _import_page(
        request,
        form=form,
        template="backoffice/inventory/numbers_import.html",
        run=run,
        success=_("%(n)d numéro(s) ajouté(s) à votre réserve."),
    )
