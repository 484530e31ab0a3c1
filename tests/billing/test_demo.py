"""``make run`` (issue 9): the demo leaves both demo partners with issued invoices of last month and this month,
their Factur-X PDFs stored, a billing identity that passes the SIRET/VAT checks; loading twice adds nothing."""

import io

import facturx
import pytest
from django.core.management import call_command

from billing.models import Invoice, PartnerBillingProfile
from core.clock import add_months, month_start

pytestmark = pytest.mark.django_db


def test_demo_leaves_issued_invoices_with_pdfs_for_both_partners(client):
    call_command("load_catalog", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    invoices = Invoice.objects.filter(state=Invoice.State.ISSUED)
    this_month = month_start()
    months = {(i.customer_partner.slug, i.period_month) for i in invoices}
    for slug in ("telcom-pro", "reseau-ouest"):
        assert (slug, add_months(this_month, -1)) in months
        assert (slug, this_month) in months
        profile = PartnerBillingProfile.objects.get(partner__slug=slug)
        profile.full_clean()
    assert all(i.pdf is not None for i in invoices)
    _name, xml = facturx.get_facturx_xml_from_pdf(bytes(invoices.first().pdf), check_xsd=True)
    assert invoices.first().number.encode() in xml

    client.login(username="admin@telcom-pro", password="demo-alphalink-2026")
    invoice = invoices.filter(customer_partner__slug="telcom-pro").first()
    assert invoice.number in client.get("/factures/").content.decode()
    assert client.get(f"/factures/{invoice.pk}/pdf/")["Content-Type"] == "application/pdf"

    count = invoices.count()
    call_command("load_demo", stdout=io.StringIO())
    assert Invoice.objects.count() == count
