"""The PDF hook (issue 9 item 4): an issued invoice mapped to the shared ``InvoiceDocument`` interface, and the
Celery task that stores its PDF. ``billing.documents`` (Factur-X, tested on its own in test_documents.py) is
replaced here by a module holding exactly the interface's dataclasses, so the mapping is tested alone."""

from __future__ import annotations

import datetime as dt
import sys
import types
from dataclasses import dataclass
from decimal import Decimal

import pytest
import time_machine

from billing.models import Invoice
from billing.pdf import invoice_document
from billing.services import billing_run, credit_note_create
from billing.tasks import render_invoice_pdf_task
from tests.billing.conftest import paris

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Party:
    name: str
    siret: str
    vat_number: str
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country: str = "FR"
    email: str = ""


@dataclass(frozen=True)
class DocumentLine:
    label: str
    quantity: Decimal
    unit_code: str
    unit_price_ht: Decimal
    amount_ht: Decimal
    vat_rate: Decimal
    group: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    kind: str
    issue_date: dt.date
    due_date: dt.date
    period_start: dt.date
    period_end: dt.date
    issuer: Party
    customer: Party
    lines: tuple[DocumentLine, ...]
    total_ht: Decimal
    total_vat: Decimal
    total_ttc: Decimal
    currency: str = "EUR"
    preceding_invoice_number: str = ""
    payment_terms: str = ""
    iban: str = ""
    notes: tuple[str, ...] = ()


@pytest.fixture(autouse=True)
def interface(monkeypatch):
    module = types.ModuleType("billing.documents")
    module.Party, module.DocumentLine, module.InvoiceDocument = Party, DocumentLine, InvoiceDocument
    module.rendered = []

    def render_invoice(doc):
        module.rendered.append(doc)
        return b"%PDF-1.7 " + doc.number.encode()

    module.render_invoice = render_invoice
    monkeypatch.setitem(sys.modules, "billing.documents", module)
    return module


@pytest.fixture
def invoice(partner, line):
    line("OR-ILL-10G-NB", delivered=paris(2026, 11, 16, 10))
    line("OR-ILL-5G-NB")
    with time_machine.travel(paris(2026, 12, 1, 6), tick=False):
        billing_run(month=dt.date(2026, 12, 1))
    return Invoice.objects.get()


def test_invoice_document_maps_identities_lines_and_totals(invoice, partner):
    doc = invoice_document(invoice)
    assert (doc.number, doc.kind, doc.issue_date, doc.due_date) == (
        "FA-2026-000001",
        "invoice",
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
    )
    assert (doc.period_start, doc.period_end) == (dt.date(2026, 11, 1), dt.date(2026, 12, 31))
    assert doc.issuer.siret == "99999999800019" and doc.issuer.vat_number == "FR11999999998"
    assert doc.customer.name == partner.billing_profile.legal_name
    assert doc.customer.siret == partner.billing_profile.siret and doc.customer.address_lines
    assert [ln.amount_ht for ln in doc.lines] == list(
        invoice.lines.order_by("position").values_list("amount_ht", flat=True)
    )
    assert sum(ln.amount_ht for ln in doc.lines) == doc.total_ht == invoice.total_ht
    assert doc.total_ttc == doc.total_ht + doc.total_vat
    assert all(ln.vat_rate == Decimal("20.00") and ln.group for ln in doc.lines)
    assert {ln.unit_code for ln in doc.lines} == {"MON"}
    assert "40 €" in doc.payment_terms and doc.iban.startswith("FR76")


def test_credit_note_document_names_its_invoice(invoice):
    note = credit_note_create(invoice=invoice, reason="Erreur de tarif")
    doc = invoice_document(note)
    assert doc.kind == "credit_note" and doc.preceding_invoice_number == invoice.number
    assert any("Erreur de tarif" in n for n in doc.notes)


def test_render_task_stores_the_pdf_once(invoice, interface):
    assert render_invoice_pdf_task(invoice.pk) is True
    invoice.refresh_from_db()
    assert bytes(invoice.pdf) == b"%PDF-1.7 FA-2026-000001" and invoice.pdf_rendered_at
    assert render_invoice_pdf_task(invoice.pk) is False  # already made: idempotent
    assert render_invoice_pdf_task(999_999) is False  # no such invoice
    assert len(interface.rendered) == 1
