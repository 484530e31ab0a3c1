"""Self-care « Mes factures » (R-BO-3 reseller billing, issue 9 item 3): the client downloads the invoices its
partner issued to it. The client is ``request.client_account`` (``selfcare_login_required``, on the partner's own
host); every read goes through ``billing.selectors`` scoped to it: a draft, another client's invoice or a missing
one is the same 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing import selectors

from .access import selfcare_login_required

PAGE_SIZE = 24


@require_GET
@selfcare_login_required
def invoice_list_view(request: HttpRequest) -> HttpResponse:
    invoices = selectors.selfcare_invoice_list(request.client_account)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "selfcare/invoices.html",
        {
            "partner": request.partner,
            "client": request.client_account,
            "page": page,
            "invoices": page.object_list,
        },
    )


@require_GET
@selfcare_login_required
def invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.selfcare_invoice_get_or_404(request.client_account, invoice_id)
    if invoice.pdf is None:
        messages.info(
            request,
            _("Le PDF de cette facture est en cours de préparation : réessayez dans quelques instants."),
        )
        return redirect("selfcare:invoices")
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response
