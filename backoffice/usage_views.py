"""The contract tab « Journal de consommations » (R-ORD-6, R-SC-5): month totals for one of the last 3 months and
the consumption journal of those months, with its sub-tabs (Toutes / Voix / Voix SVA / SMS & MMS / Data), filters
and pages.

No business rule here: ``usage.selectors`` reads (on a contract fetched through
``contracts.selectors.contract_get_for_partner_or_404``: another partner's contract is a 404) and
``usage.display`` formats. Every control is a plain GET link or form (works without JavaScript); htmx swaps only
the ``#usage`` block (``HX-Target: usage``), or the whole tab panel when the tab itself is opened.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from contracts import selectors as contract_selectors
from contracts.rules import msisdn_display
from usage import selectors
from usage.display import format_month, journal_row, totals_display
from usage.models import Category, UsageZone

from .access import partner_required
from .contracts_views import TABS

JOURNAL_TAB = "consommations"
PAGE_SIZE = 25
TEMPLATE = "backoffice/contracts/detail.html"
USAGE_PARTIAL = "backoffice/contracts/tabs/consommations.html#usage"

SUB_TABS = [
    (selectors.TAB_ALL, _("Toutes")),
    (Category.VOICE.value, Category.VOICE.label),
    (Category.VOICE_SVA.value, Category.VOICE_SVA.label),
    (Category.SMS_MMS.value, Category.SMS_MMS.label),
    (Category.DATA.value, Category.DATA.label),
]
OUT_OF_PLAN_CHOICES = [("", _("Tous")), ("1", _("Oui")), ("0", _("Non"))]


def _month_value(month: dt.date) -> str:
    return f"{month:%Y-%m}"


class JournalFilterForm(forms.Form):
    """Input shape of the tab's query string; a bad value is reported next to its field and ignored."""

    month = forms.ChoiceField(label=_("Mois"), required=False)
    tab = forms.ChoiceField(label=_("Onglet"), required=False, choices=SUB_TABS)
    number = forms.CharField(label=_("N° appelé"), required=False, max_length=30)
    label = forms.CharField(label=_("Désignation"), required=False, max_length=80)
    destination = forms.ChoiceField(
        label=_("Destination"), required=False, choices=[("", _("Toutes")), *UsageZone.choices]
    )
    date_from = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    out_of_plan = forms.ChoiceField(label=_("Hors forfait"), required=False, choices=OUT_OF_PLAN_CHOICES)

    def __init__(self, *args, months: list[dt.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.months = months
        self.fields["month"].choices = [(_month_value(m), format_month(m)) for m in months]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("La date de fin précède la date de début."))
        return data

    def value(self, name: str, default=None):
        """The cleaned value of a field, or ``default`` when it is absent or invalid."""
        cleaned = getattr(self, "cleaned_data", {})
        value = cleaned.get(name)
        return default if value in (None, "") else value


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def journal_context(request: HttpRequest, contract, *, usage_url: str = "") -> dict:
    """Totals of the chosen month and one page of the journal, for an already-scoped contract (the self-care
    line page reuses it with its own ``usage_url``)."""
    months = selectors.journal_months()
    form = JournalFilterForm(request.GET, months=months)
    form.is_valid()  # errors are shown next to their field; the valid filters still apply
    month = months[0]
    chosen = form.value("month")
    if chosen:
        month = next(m for m in months if _month_value(m) == chosen)
    tab = form.value("tab", selectors.TAB_ALL)
    out_of_plan = {"1": True, "0": False}.get(form.value("out_of_plan", ""))
    records = selectors.contract_consumptions(
        contract,
        tab=tab,
        number=form.value("number", ""),
        label=form.value("label", ""),
        destination=form.value("destination", ""),
        date_from=form.value("date_from"),
        date_to=form.value("date_to"),
        out_of_plan=out_of_plan,
        months=months,
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = selectors.contract_usage_totals(contract, month)
    return {
        "usage_url": usage_url or reverse("backoffice:contract_usage", kwargs={"contract_id": contract.pk}),
        "form": form,
        "month_value": _month_value(month),
        "journal_tab": tab,
        "sub_tabs": SUB_TABS,
        "totals": totals_display(totals),
        "journal_start": format_month(months[-1]),
        "journal_end": format_month(months[0]),
        "page": page,
        "rows": [journal_row(cdr) for cdr in page.object_list],
        # The other controls' state, carried as hidden fields by each form (no JavaScript needed).
        "filter_state": [
            (name, request.GET.get(name, ""))
            for name in ("number", "label", "destination", "date_from", "date_to", "out_of_plan")
            if request.GET.get(name)
        ],
    }


@partner_required
@require_GET
def contract_usage_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The contract page on its « Journal de consommations » tab (``/contrats/<id>/consommations/``)."""
    contract = contract_selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    context = {
        "contract": contract,
        "tab": JOURNAL_TAB,
        "tabs": TABS,
        "msisdn": msisdn_display(contract.msisdn),
        **journal_context(request, contract),
    }
    template = TEMPLATE
    if _is_partial(request):
        template = USAGE_PARTIAL if request.htmx.target == "usage" else f"{TEMPLATE}#tab_panel"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
