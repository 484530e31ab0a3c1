"""Back-office pages of orders and contracts: the order flow (R-ORD-1..3), the order list and page, the contract list
with filters and the contract page with its tabs (R-ORD-6). No business rule here: ``contracts.services`` decides,
``contracts.selectors`` reads (always scoped to ``request.staff_partner``: another partner's object is a 404).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from billing import selectors as billing_selectors
from catalog.models import Offer
from catalog.rules import COMPTEUR_RANGES
from contracts import selectors
from contracts.esim import contract_esim_resources
from contracts.models import Contract
from contracts.rules import msisdn_display
from contracts.scheduling import contract_pending_change
from contracts.services import order_place
from core.clock import add_months, month_start
from core.errors import RuleViolation
from core.money import format_bytes
from partners.models import ClientAccount
from partners.selectors import client_get_for_partner_or_404, client_list

from .access import partner_required
from .clients_views import CLIENT_DETAIL_SECTIONS, ClientSection
from .order_forms import OrderForm

PAGE_SIZE = 25
TABS = [
    ("informations", _lazy("Informations")),
    ("options", _lazy("Options")),
    ("frais", _lazy("Frais")),
    ("technique", _lazy("Informations techniques")),
    # R-ORD-6 « Journal de consommations »: served by backoffice/usage_views.py (its own URL, same path shape).
    ("consommations", _lazy("Journal de consommations")),
    ("ressources", _lazy("Ressources")),
    ("actions", _lazy("Actions possibles")),
    ("historique", _lazy("Historique")),
]
TAB_KEYS = {key for key, _label in TABS}


def _is_id(value: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true too, and ``int("²")`` raises."""
    return value.isascii() and value.isdigit()


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _render(request: HttpRequest, template: str, context: dict, partial: str | None = None) -> HttpResponse:
    if partial and _is_partial(request):
        template = f"{template}#{partial}"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- orders ------------------------------------------------------------------------------------------------


@partner_required
@require_GET
def order_list_view(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    orders = selectors.order_list(request.staff_partner, search=search)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "backoffice/orders/list.html",
        {
            "page": page,
            "orders": page.object_list,
            "search": search,
            "query": urlencode({"q": search}) if search else "",
        },
        "results",
    )


def _initial_from(data) -> dict:
    return {key: values if key == "options" else values[-1] for key, values in data.lists()}


@partner_required
@require_http_methods(["GET", "POST"])
def order_create_view(request: HttpRequest, client_id: int | None = None) -> HttpResponse:
    """The order flow. A POST with ``refresh`` (htmx on every narrowing choice, or the "Mettre à jour" button
    without JavaScript) re-renders the form for the values entered so far without placing anything."""
    partner = request.staff_partner
    client = client_get_for_partner_or_404(partner, client_id) if client_id is not None else None
    if request.method == "POST" and "refresh" not in request.POST:
        form = OrderForm(request.POST, partner=partner, client=client)
        if form.is_valid():
            try:
                order = order_place(partner=partner, created_by=request.user, **form.order_kwargs())
            except RuleViolation as exc:
                form.add_rule_violation(exc)
            else:
                messages.success(
                    request,
                    _("Commande %(number)s passée : %(n)d ligne(s) en cours d'activation.")
                    % {"number": order.number, "n": order.quantity},
                )
                url = reverse("backoffice:order_detail", kwargs={"order_id": order.pk})
                if _is_partial(request):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    else:
        source = request.POST if request.method == "POST" else request.GET
        initial = _initial_from(source)
        if client is None and "client" not in initial and request.GET.get("client"):
            initial["client"] = request.GET["client"]
        form = OrderForm(initial=initial, partner=partner, client=client)
    # Errors re-render with 200 (htmx swaps it): the French message sits next to its field.
    return _render(
        request,
        "backoffice/orders/form.html",
        {"form": form, "client": client, "offer": form.offer},
        "order_form",
    )


@partner_required
@require_GET
def order_detail_view(request: HttpRequest, order_id: int) -> HttpResponse:
    partner = request.staff_partner
    order = selectors.order_get_for_partner_or_404(partner, order_id)
    contracts = selectors.order_contracts(partner, order)
    return render(request, "backoffice/orders/detail.html", {"order": order, "contracts": contracts})


# --- contracts ---------------------------------------------------------------------------------------------

STATE_FILTERS = [
    ("", _lazy("Tous les états")),
    ("user:pending", _lazy("En cours")),
    ("user:active", _lazy("Actif")),
    ("user:suspended", _lazy("Suspendu")),
    ("user:terminated", _lazy("Résilié")),
    ("failed", _lazy("En erreur")),
]


@partner_required
@require_GET
def contract_list_view(request: HttpRequest) -> HttpResponse:
    partner = request.staff_partner
    filters = {
        "state": request.GET.get("state", "").strip(),
        "client": request.GET.get("client", "").strip(),
        "offer": request.GET.get("offer", "").strip(),
        "number": request.GET.get("number", "").strip(),
        "sim": request.GET.get("sim", "").strip(),
    }
    client_id = int(filters["client"]) if _is_id(filters["client"]) else None
    contracts = selectors.contract_list(
        partner,
        state=filters["state"],
        client=client_id,
        offer=filters["offer"],
        number=filters["number"],
        sim=filters["sim"],
    )
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "contracts": page.object_list,
        "filters": filters,
        "query": query,
        "state_filters": STATE_FILTERS,
        "clients": client_list(partner),
        "offers": Offer.objects.filter(active=True).order_by("network", "sort_order", "code"),
        "counts": selectors.contract_state_counts(partner),
    }
    return _render(request, "backoffice/contracts/list.html", context, "results")


def _tab_context(request: HttpRequest, contract: Contract, tab: str) -> dict:
    partner = request.staff_partner
    context: dict = {
        "contract": contract,
        "tab": tab,
        "tabs": TABS,
        "msisdn": msisdn_display(contract.msisdn),
    }
    if tab == "informations":
        context["operator_requests"] = selectors.contract_operator_requests(partner, contract)[:5]
        context["pending_change"] = contract_pending_change(partner, contract)  # R-CON-1/2
        context["data_blocks"] = selectors.contract_data_blocks(partner, contract)  # R-ALR-1..3, R-CAT-11
        context["has_data_threshold"] = contract.offer.range in COMPTEUR_RANGES  # R-CAT-7/8
        context["data_threshold"] = (
            format_bytes(contract.data_threshold_bytes) if contract.data_threshold_bytes else ""
        )
    elif tab == "options":
        context["options"] = selectors.contract_options(partner, contract)
        context["topups"] = selectors.contract_topups(partner, contract)  # R-CAT-10, R-PRV-5
    elif tab == "frais":
        fees = list(selectors.contract_fees(partner, contract))
        context["fees"] = fees
        context["fees_total"] = sum((f.amount_ht for f in fees), start=0)
        context.update(_contract_charges(partner, contract))  # issue 9: billed and to-be-billed amounts
    elif tab == "technique":
        context["sections"] = selectors.contract_technical_settings(contract)
    elif tab == "ressources":
        context["activation_code"] = contract.esim.activation_code if contract.esim_id else ""
        context.update(contract_esim_resources(partner, contract))  # R-ORD-4: codes, deliveries, resend
    elif tab == "actions":
        context["actions"] = selectors.contract_possible_actions(contract)
    elif tab == "historique":
        context["events"] = selectors.contract_events(partner, contract)
    return context


CHARGES_SHOWN = 120  # ten years of a line with an option: the tab never grows without bound


def _contract_charges(partner, contract: Contract) -> dict:
    """The « Frais » tab's amounts from billing: the charges already invoiced (with their invoice) and those
    computed by the last run and not invoiced yet — the next run (the 1st of next month) invoices them, unless
    one is still « à tarifer »."""
    charges = list(billing_selectors.contract_charges(partner, contract.pk)[:CHARGES_SHOWN])
    pending = [c for c in charges if c.invoice_id is None]
    return {
        "charges_invoiced": [c for c in charges if c.invoice_id is not None],
        "charges_pending": pending,
        "charges_pending_total": sum((c.amount_ht for c in pending if c.amount_ht is not None), start=0),
        "charges_pending_unpriced": any(c.amount_ht is None for c in pending),
        "next_run": add_months(month_start(timezone.now()), 1),
    }


@partner_required
@require_GET
def contract_detail_view(request: HttpRequest, contract_id: int, tab: str = "informations") -> HttpResponse:
    """The contract page (R-ORD-6). Each tab is a plain link (``/contrats/<id>/<tab>/``); htmx swaps only the
    tab panel."""
    if tab not in TAB_KEYS:
        raise Http404("onglet")
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    return _render(
        request, "backoffice/contracts/detail.html", _tab_context(request, contract, tab), "tab_panel"
    )


# --- the client page shows its lines (CLIENT_DETAIL_SECTIONS hook of clients_views) ------------------------


def _client_lines_section(request: HttpRequest, client: ClientAccount) -> ClientSection:
    partner = request.staff_partner
    return ClientSection(
        _("Lignes"),
        "backoffice/contracts/_client_lines.html",
        {
            "contracts": selectors.contract_list(partner, client=client)[:10],
            "counts": selectors.contract_state_counts(partner, client=client),
            "orders": selectors.order_list(partner, client=client)[:5],
        },
    )


if _client_lines_section not in CLIENT_DETAIL_SECTIONS:
    CLIENT_DETAIL_SECTIONS.append(_client_lines_section)
