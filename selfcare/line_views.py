"""The self-care line page (R-SC-5): one line of the logged-in client — user, state, delivery date, offer,
options, SIM and PUK; month totals for one of the last 3 months and the consumption journal with its tabs and
filters.

No business rule here: the line is fetched through ``contracts.selectors.contract_get_for_client_or_404`` (another
client's line, of the same partner or not, is a 404), ``usage.selectors`` reads and ``usage.display`` formats —
the journal is the back-office's (``backoffice.usage_views.journal_context`` and its partial), pointed at this
page. Every control is a plain GET link or form; htmx swaps only the ``#usage`` block."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from backoffice.usage_views import journal_context
from contracts import selectors as contract_selectors
from contracts.models import ContractOption
from contracts.rules import msisdn_display

from .access import selfcare_login_required

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
