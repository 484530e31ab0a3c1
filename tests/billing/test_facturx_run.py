"""End to end (issue 9 items 2 + 4): the invoices of a real run, with pro rata, options, usage, compteur and a
credit note, mapped to the Factur-X module, pass its checks (every line quantity × price, totals, VAT per rate),
and the XML validates against the Factur-X EN 16931 schema; the PDF task stores a PDF with the XML inside."""

from __future__ import annotations

import datetime as dt

import facturx
import pytest
import time_machine

from billing import documents
from billing.models import Invoice
from billing.pdf import invoice_document
from billing.services import billing_run, credit_note_create
from billing.tasks import render_invoice_pdf_task
from tests.billing.conftest import counter, paris, roaming_option

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(partner, line):
    for day in (3, 16, 29):
        line("OR-ILL-30G-NB", delivered=paris(2026, 11, day, 9))
    contract = line("OR-ILL-10G-NB")
    roaming_option(contract, "OR-ROA-ILL-RDM-OPT-3G", activated=paris(2026, 11, 20, 9))
    compteur = line("OR-CPT")
    counter(compteur, dt.date(2026, 11, 1), "voice", quantity=700, oop=700, amount="0.7777")
    with time_machine.travel(paris(2026, 12, 1, 6), tick=False):
        billing_run(month=dt.date(2026, 12, 1))
    return Invoice.objects.get()


def test_run_invoice_passes_the_facturx_checks_and_schema(invoice):
    doc = invoice_document(invoice)
    documents.check_document(doc)
    xml = documents.facturx_xml(doc)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    note = credit_note_create(invoice=invoice, reason="Geste commercial", line_ids=[invoice.lines.first().pk])
    note_doc = invoice_document(note)
    documents.check_document(note_doc)
    assert facturx.xml_check_xsd(documents.facturx_xml(note_doc), flavor="factur-x", level="en16931") is True


def test_pdf_task_stores_a_facturx_pdf(invoice):
    assert render_invoice_pdf_task(invoice.pk) is True
    invoice.refresh_from_db()
    _filename, xml = facturx.get_facturx_xml_from_pdf(bytes(invoice.pdf), check_xsd=True)
    assert invoice.number.encode() in xml
