"""Back-office « Factures » (issue 9 item 5): the partner's invoices and credit notes from AlphaLink, an invoice
with its lines grouped by client and contract, its Factur-X PDF and the CSV of its lines. Reads only, through
``billing.selectors`` scoped to ``request.staff_partner``: another partner's invoice is a 404, like a missing
one."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from itertools import groupby, islice

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from billing import selectors
from billing.models import Invoice
from core.csvexport import csv_safe

from .access import partner_required

PAGE_SIZE = 25
CSV_ROWS_PER_CHUNK = 500
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _decimal(value) -> str:
    """A French spreadsheet number (« 12,50 »)."""
    return str(value).replace(".", ",")


@partner_required
@require_GET
def invoice_list_view(request: HttpRequest) -> HttpResponse:
    month_value = request.GET.get("month", "").strip()
    month = dt.date.fromisoformat(f"{month_value}-01") if _MONTH.match(month_value) else None
    invoices = selectors.invoice_list(request.staff_partner, month=month).select_related("credit_note_of")
    page = Paginator(invoices.defer("pdf"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/billing/invoice_list.html",
        {
            "page": page,
            "invoices": page.object_list,
            "month": month_value if month else "",
            "query": f"month={month_value}" if month else "",
        },
    )


@partner_required
@require_GET
def invoice_detail_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    lines = list(selectors.invoice_lines(invoice))
    groups = [
        {"label": label, "lines": rows, "total_ht": sum((r.amount_ht for r in rows), start=0)}
        for label, rows in (
            (label, list(rows)) for label, rows in groupby(lines, key=lambda line: line.group)
        )
    ]
    credit_notes = selectors.invoice_list(request.staff_partner).filter(credit_note_of=invoice).defer("pdf")
    return render(
        request,
        "backoffice/billing/invoice_detail.html",
        {
            "invoice": invoice,
            "groups": groups,
            "line_count": len(lines),
            "credit_notes": list(credit_notes),
        },
    )


@partner_required
@require_GET
def invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The stored Factur-X PDF (PDF/A-3 with its EN 16931 XML), as an attachment named after the number."""
    invoice = selectors.invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    if invoice.pdf is None:
        messages.info(
            request,
            _(
                "Le PDF de la facture %(number)s est en cours de production : réessayez dans quelques instants."
            )
            % {"number": invoice.number},
        )
        return redirect("backoffice:invoice_detail", invoice_id=invoice.pk)
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


def _csv_rows(invoice: Invoice, lines) -> Iterator[list[str]]:
    yield [
        _("Facture"),
        _("Rang"),
        _("Client — contrat"),
        _("Libellé"),
        _("Quantité"),
        _("Unité"),
        _("Prix unitaire HT"),
        _("Montant HT"),
        _("TVA (%)"),
    ]
    for line in lines:
        yield [
            csv_safe(invoice.number),
            str(line.position),
            csv_safe(line.group),
            csv_safe(line.label),
            _decimal(format(line.quantity.normalize(), "f")),
            csv_safe(line.unit_code),
            _decimal(line.unit_price_ht),
            _decimal(line.amount_ht),
            _decimal(line.vat_rate),
        ]


def _csv_stream(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    yield "\ufeff"  # UTF-8 BOM: Excel opens the accents right
    while chunk := list(islice(rows, CSV_ROWS_PER_CHUNK)):
        writer.writerows(chunk)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


@partner_required
@require_GET
def invoice_csv_view(request: HttpRequest, invoice_id: int) -> StreamingHttpResponse:
    """The invoice's lines as CSV (« ; », UTF-8 with BOM, French decimals), streamed from a server-side cursor;
    no cell can run as a formula in a spreadsheet (``core.csvexport.csv_safe``)."""
    invoice = selectors.invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    lines = selectors.invoice_lines(invoice).iterator(chunk_size=2000)
    response = StreamingHttpResponse(
        _csv_stream(_csv_rows(invoice, lines)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}-lignes.csv"'
    return response
