"""Back-office « Commandes selfcare » of a client (R-SC-6, R-SC-8): the orders the client's fleet managers
placed from self-care — number, date, user, line, action, state — scoped to the staff user's partner (another
partner's client is a 404). A block on the client page shows the latest ones (CLIENT_DETAIL_SECTIONS hook)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from partners.models import ClientAccount
from partners.selectors import client_get_for_partner_or_404
from selfcare.order_selectors import selfcare_order_list

from .access import partner_required
from .clients_views import CLIENT_DETAIL_SECTIONS, ClientSection

PAGE_SIZE = 25
SECTION_SIZE = 5


@partner_required
@require_GET
def client_selfcare_orders_view(request: HttpRequest, client_id: int) -> HttpResponse:
    """``/clients/<id>/commandes-selfcare/``: every self-care order of the client, paginated."""
    client = client_get_for_partner_or_404(request.staff_partner, client_id)
    orders = selfcare_order_list(request.staff_partner, client=client)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"client": client, "page": page, "orders": page.object_list}
    return render(request, "backoffice/clients/selfcare_orders.html", context)


def _client_selfcare_orders_section(request: HttpRequest, client: ClientAccount) -> ClientSection:
    orders = list(selfcare_order_list(request.staff_partner, client=client)[: SECTION_SIZE + 1])
    return ClientSection(
        _("Commandes selfcare"),
        "backoffice/clients/_selfcare_orders_section.html",
        {"orders": orders[:SECTION_SIZE], "more": len(orders) > SECTION_SIZE},
    )


if _client_selfcare_orders_section not in CLIENT_DETAIL_SECTIONS:
    CLIENT_DETAIL_SECTIONS.append(_client_selfcare_orders_section)
