"""Billing reads, scoped by who looks (STYLE 2): a partner sees its own invoices and charges only."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.http import Http404

from partners.models import ClientAccount, Partner

from . import rules
from .models import Charge, Invoice, InvoiceLine


def invoice_list(partner: Partner, *, month: dt.date | None = None) -> QuerySet[Invoice]:
    """The partner's issued invoices and credit notes from AlphaLink, latest first; ``month``: those of that
    billing month only."""
    invoices = Invoice.objects.filter(
        customer_partner=partner, issuer_partner__isnull=True, state=Invoice.State.ISSUED
    )
    if month is not None:
        invoices = invoices.filter(period_month=month)
    return invoices.order_by("-issue_date", "-sequence")


def invoice_get_for_actor_or_404(partner: Partner, invoice_id: int) -> Invoice:
    """The same 404 for a missing invoice and for another partner's (STYLE 16)."""
    invoice = invoice_list(partner).filter(pk=invoice_id).first()
    if invoice is None:
        raise Http404
    return invoice


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    """The printed lines of an invoice already scoped by ``invoice_get_for_actor_or_404``, in order (the group
    « client — contrat n° (MSISDN) » is on each line)."""
    return InvoiceLine.objects.filter(invoice=invoice).order_by("position")


def contract_charges(partner: Partner, contract_id: int) -> QuerySet[Charge]:
    """Every charge of one of the partner's contracts, with the invoice that holds it (if any), latest month
    first — the « Frais » of the contract."""
    return (
        Charge.objects.filter(partner=partner, contract_id=contract_id)
        .select_related("invoice")
        .defer("invoice__pdf", "invoice__issuer", "invoice__customer", "invoice__payment_terms")
        .order_by("-month", "kind", "id")
    )


def charges_pending(partner: Partner, month: dt.date) -> QuerySet[Charge]:
    """The charges not invoiced yet that an invoice of ``month`` would hold (the « Frais » to come)."""
    advance_until, arrears_until = rules.invoice_horizon(month)
    return (
        Charge.objects.filter(partner=partner, invoice__isnull=True)
        .filter(month__lte=advance_until)
        .exclude(mode=Charge.Mode.ARREARS, month__gt=arrears_until)
        .order_by("contract_id", "month", "kind", "id")
    )


def charges_unpriced(partner: Partner) -> QuerySet[Charge]:
    """The partner's open charges the catalog does not price yet (they block its invoice)."""
    return Charge.objects.filter(partner=partner, invoice__isnull=True, amount_ht__isnull=True).order_by(
        "missing_price", "contract_id"
    )


def client_invoice_list(partner: Partner, *, month: dt.date | None = None) -> QuerySet[Invoice]:
    """The partner's invoices to its clients (« Factures clients »): drafts and issued, credit notes included,
    with their client; ``month``: that billing month only."""
    invoices = Invoice.objects.filter(issuer_partner=partner).select_related(
        "customer_client", "credit_note_of"
    )
    if month is not None:
        invoices = invoices.filter(period_month=month)
    return invoices.defer("pdf").order_by(
        "-period_month", "customer_client__company_name", "kind", "sequence", "pk"
    )


def client_invoice_get_for_actor_or_404(partner: Partner, invoice_id: int) -> Invoice:
    """One of the partner's invoices to its clients; the same 404 for a missing one and another partner's."""
    invoice = (
        Invoice.objects.filter(issuer_partner=partner, pk=invoice_id)
        .select_related("customer_client", "credit_note_of")
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice


def selfcare_invoice_list(client: ClientAccount) -> QuerySet[Invoice]:
    """A client's issued invoices and credit notes from its partner (self-care « Mes factures »), latest first.
    Drafts are never shown."""
    return (
        Invoice.objects.filter(
            issuer_partner_id=client.partner_id, customer_client=client, state=Invoice.State.ISSUED
        )
        .select_related("credit_note_of")
        .defer("pdf")
        .order_by("-issue_date", "-sequence")
    )


def selfcare_invoice_get_or_404(client: ClientAccount, invoice_id: int) -> Invoice:
    """One of the client's issued invoices; the same 404 for a missing one, a draft and another client's."""
    invoice = (
        Invoice.objects.filter(
            issuer_partner_id=client.partner_id,
            customer_client=client,
            state=Invoice.State.ISSUED,
            pk=invoice_id,
        )
        .select_related("credit_note_of")
        .first()
    )
    if invoice is None:
        raise Http404
    return invoice
