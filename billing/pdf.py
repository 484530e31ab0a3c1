"""From an issued invoice to its Factur-X document: ``invoice_document`` maps the models to the plain dataclasses
of ``billing.documents`` (the shared interface), ``invoice_pdf_store`` renders and stores the PDF (Celery task
``billing.render_invoice_pdf``, queued on commit after issue). ``billing.documents`` is imported lazily: it
needs WeasyPrint and factur-x, which the billing run itself does not."""

from __future__ import annotations

import importlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Invoice


def _documents():
    """``billing.documents`` (the Factur-X module), imported on first use."""
    return importlib.import_module("billing.documents")


def _party(documents, data: dict):
    return documents.Party(
        name=data.get("name", ""),
        siret=data.get("siret", ""),
        vat_number=data.get("vat_number", ""),
        address_lines=tuple(data.get("address_lines") or ()),
        postcode=data.get("postcode", ""),
        city=data.get("city", ""),
        country=data.get("country", "FR"),
        email=data.get("email", ""),
    )


def invoice_document(invoice: Invoice):
    """The ``InvoiceDocument`` of an issued invoice or credit note: identities as copied at issue, lines in
    printed order with their « client — contrat » group, totals as stored (they add up: ``rules``)."""
    documents = _documents()
    if invoice.state != Invoice.State.ISSUED:
        raise ValueError(f"invoice {invoice.pk} is a draft: only an issued invoice has a document")
    lines = tuple(
        documents.DocumentLine(
            label=line.label,
            quantity=line.quantity,
            unit_code=line.unit_code,
            unit_price_ht=line.unit_price_ht,
            amount_ht=line.amount_ht,
            vat_rate=line.vat_rate,
            group=line.group,
        )
        for line in invoice.lines.order_by("position")
    )
    notes = []
    if invoice.kind == Invoice.Kind.CREDIT_NOTE:
        notes.append(
            _("Avoir sur la facture %(number)s : %(reason)s")
            % {
                "number": invoice.credit_note_of.number,
                "reason": invoice.reason,
            }
        )
    issuer = invoice.issuer
    if issuer.get("legal_form") or issuer.get("rcs"):
        notes.append(", ".join(x for x in (issuer.get("legal_form", ""), issuer.get("rcs", "")) if x))
    return documents.InvoiceDocument(
        number=invoice.number,
        kind=invoice.kind,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        issuer=_party(documents, issuer),
        customer=_party(documents, invoice.customer),
        lines=lines,
        total_ht=invoice.total_ht,
        total_vat=invoice.total_vat,
        total_ttc=invoice.total_ttc,
        preceding_invoice_number=invoice.credit_note_of.number if invoice.credit_note_of_id else "",
        payment_terms=invoice.payment_terms,
        iban=invoice.iban,
        notes=tuple(notes),
    )


def invoice_pdf_store(*, invoice_id: int) -> bool:
    """Render and store the PDF of an issued invoice once (idempotent: an invoice that has its PDF, a draft or a
    missing row is left alone). Only ``pdf`` and ``pdf_rendered_at`` change — the database refuses any other
    change to an issued invoice."""
    invoice = (
        Invoice.objects.select_related("credit_note_of")
        .filter(pk=invoice_id, state=Invoice.State.ISSUED, pdf__isnull=True)
        .first()
    )
    if invoice is None:
        return False
    pdf = _documents().render_invoice(invoice_document(invoice))
    with transaction.atomic():
        updated = Invoice.objects.filter(pk=invoice_id, pdf__isnull=True).update(
            pdf=pdf, pdf_rendered_at=timezone.now()
        )
    return bool(updated)
