"""« Mon parc » (R-SC-4): the counts, the fleet table with a filter per column, sorting and pagination, the CSV
export of the filtered fleet, and the day/night mode. Reads come from ``selfcare.selectors`` scoped to
``request.client_account`` (set by ``selfcare_login_required``); the one write goes through
``partners.selfcare``. The same view renders the page or, for htmx, its ``fleet`` partial (STYLE 19, 21)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import islice
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods

from contracts.models import Contract, SimType
from contracts.rules import msisdn_display
from core.clock import month_start
from core.csvexport import csv_safe
from partners.models import SelfcareAccess
from partners.selfcare import selfcare_theme_set

from . import selectors
from .access import selfcare_login_required

PAGE_SIZES = (10, 25, 50)
DEFAULT_PAGE_SIZE = 25
EXPORT_CHUNK = 2000
EXPORT_ROWS_PER_CHUNK = 200

COUNTERS = (
    (Contract.State.ACTIVE, _lazy("Actifs")),
    (Contract.State.SUSPENDED, _lazy("Suspendus")),
    (Contract.State.PENDING, _lazy("En cours")),
    (Contract.State.TERMINATED, _lazy("Résiliés")),
)
STATE_LABELS = {
    Contract.State.ACTIVE: _lazy("Actif"),
    Contract.State.SUSPENDED: _lazy("Suspendu"),
    Contract.State.PENDING: _lazy("En cours"),
    Contract.State.TERMINATED: _lazy("Résilié"),
}
COLUMNS = (  # (sort key, header)
    ("ligne", _lazy("Ligne")),
    ("etat", _lazy("État")),
    ("livraison", _lazy("Date de livraison")),
    ("site", _lazy("Site")),
    ("utilisateur", _lazy("Utilisateur")),
    ("offre", _lazy("Offre")),
    ("sim", _lazy("SIM")),
    ("data", _lazy("Data consommée")),
    ("hors_forfait", _lazy("Hors forfait")),
)


def _is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _page_size(request: HttpRequest) -> int:
    value = request.GET.get("par_page", "")
    return int(value) if value.isdigit() and int(value) in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _sort(request: HttpRequest) -> str:
    sort = request.GET.get("tri", "").strip()
    return sort if sort.removeprefix("-") in selectors.SORTS else selectors.DEFAULT_SORT


def user_state(contract: Contract) -> str:
    return Contract.USER_STATE.get(contract.state, contract.state)


def _rows(contracts) -> list[dict]:
    return [
        {
            "contract": c,
            "line": msisdn_display(c.msisdn),
            "state": user_state(c),
            "state_label": STATE_LABELS.get(user_state(c), ""),
            "sim": _("eSIM") if c.esim_id or c.is_esim else (c.sim.iccid if c.sim_id else "—"),
            "percent": None if c.data_percent is None else round(c.data_percent),
            "bar": None if c.data_percent is None else max(0, min(100, round(c.data_percent))),
        }
        for c in contracts
    ]


@selfcare_login_required
@require_GET
def home_view(request: HttpRequest) -> HttpResponse:
    """« Mon parc »: counts (each a filter), the fleet table, its filters, sorting and pages (R-SC-4)."""
    client = request.client_account
    filters = selectors.FleetFilters.from_query(request.GET)
    sort = _sort(request)
    size = _page_size(request)
    month = month_start(timezone.now())
    counts = selectors.fleet_counts(client)
    rows = selectors.FleetRows(
        client, selectors.fleet_filtered(client, filters=filters, month=month), sort, month
    )
    if not filters:
        rows.set_count(sum(counts.values()))  # no COUNT query: the counters already hold it
    elif set(filters.items()) == {"etat"} and filters.etat in counts:
        rows.set_count(counts[filters.etat])
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    base = {**filters.items(), **({"tri": sort} if sort != selectors.DEFAULT_SORT else {})}
    if size != DEFAULT_PAGE_SIZE:
        base["par_page"] = size
    context = {
        "partner": request.partner,
        "client": client,
        "page": page,
        "rows": _rows(page.object_list),
        "filters": filters,
        "sort": sort,
        "page_size": size,
        "page_sizes": PAGE_SIZES,
        "query": urlencode(base),
        "export_query": urlencode(filters.items()),
        "counters": [
            {
                "state": state,
                "label": label,
                "count": counts.get(state, 0),
                "query": urlencode(
                    {**({"par_page": size} if size != DEFAULT_PAGE_SIZE else {}), "etat": state}
                ),
                "active": filters.etat == state,
            }
            for state, label in COUNTERS
        ],
        "columns": [
            {
                "key": key,
                "label": label,
                "active": sort.removeprefix("-") == key,
                "descending": sort == f"-{key}",
                "query": urlencode({**base, "tri": f"-{key}" if sort == key else key}),
            }
            for key, label in COLUMNS
        ],
        "state_labels": STATE_LABELS.items(),
        "sites": selectors.fleet_sites(client),
        "offers": selectors.fleet_offers(),
        "month": month,
    }
    template = "selfcare/home.html#fleet" if _is_partial(request) else "selfcare/home.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def export_rows(lines) -> Iterator[list[str]]:
    """The CSV rows: the header, then one row per line (dicts of ``selectors.EXPORT_FIELDS``)."""
    yield [
        _("Ligne"),
        _("N° de contrat"),
        _("État"),
        _("Date de livraison"),
        _("Site"),
        _("Utilisateur"),
        _("Offre"),
        _("SIM"),
        _("Data consommée (%)"),
        _("Hors forfait"),
    ]
    esim, yes, no = _("eSIM"), _("Oui"), _("Non")
    labels = {state: str(label) for state, label in STATE_LABELS.items()}  # translated once, not per line
    tz = timezone.get_current_timezone()
    for c in lines:
        state = Contract.USER_STATE.get(c["state"], c["state"])
        delivered = c["delivered_at"].astimezone(tz).strftime("%d/%m/%Y") if c["delivered_at"] else ""
        percent = "" if c["data_percent"] is None else f"{c['data_percent']:.0f}"
        is_esim = c["esim_id"] or c["sim_type"] == SimType.ESIM
        yield [
            csv_safe(c["msisdn"] or ""),
            csv_safe(c["number"]),
            labels.get(state, ""),
            delivered,
            csv_safe(c["site__name"] or ""),
            csv_safe(c["user_name"]),
            csv_safe(c["offer__label"]),
            csv_safe(esim if is_esim else (c["sim__iccid"] or "")),
            percent,
            yes if c["out_of_plan"] else no,
        ]


def _stream(lines) -> Iterator[str]:
    """The CSV text, ``EXPORT_ROWS_PER_CHUNK`` rows per chunk (one chunk per row would cost more than the rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    yield "\ufeff"  # UTF-8 BOM: Excel opens the accents right
    rows = export_rows(lines)
    while chunk := list(islice(rows, EXPORT_ROWS_PER_CHUNK)):
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


@selfcare_login_required
@require_GET
def fleet_export_view(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered fleet as CSV (« ; », UTF-8 with BOM), streamed: the selector reads the ordered ids from a
    server-side cursor and the lines by batches of ``EXPORT_CHUNK`` — bounded memory whatever the fleet's size."""
    filters = selectors.FleetFilters.from_query(request.GET)
    lines = selectors.fleet_export(
        request.client_account, filters=filters, sort=_sort(request), batch=EXPORT_CHUNK
    )
    response = StreamingHttpResponse(_stream(lines), content_type="text/csv; charset=utf-8")
    name = f"parc-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@selfcare_login_required
@require_http_methods(["GET", "POST"])
def theme_view(request: HttpRequest) -> HttpResponse:
    """Day/night mode (R-SC-4), remembered on the caller's self-care access. GET: the switch itself; POST
    ``mode=day|night`` (or a toggle without it), then back to the page (htmx: 204 + refresh)."""
    access: SelfcareAccess = request.selfcare_access
    if request.method == "POST":
        wanted = request.POST.get("mode") or (
            SelfcareAccess.Theme.DAY
            if access.theme == SelfcareAccess.Theme.NIGHT
            else SelfcareAccess.Theme.NIGHT
        )
        selfcare_theme_set(access=access, theme=wanted)
        if getattr(request, "htmx", None):
            response = HttpResponse(status=204)
            response["HX-Refresh"] = "true"
            return response
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = ""
        return redirect(next_url or "selfcare:home")
    return render(request, "selfcare/_theme_switch.html", {"partner": request.partner})
