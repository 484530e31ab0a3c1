"""``/api/v1/invoices`` (issue 9 item 4): the partner's issued invoices and credit notes, one with its lines,
its Factur-X PDF; another partner's invoice is a 404."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from billing.services import credit_note_create
from tests.factories.api import api_token
from tests.factories.billing import issued_invoice, with_pdf
from tests.factories.partners import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_pdf_queue(settings):
    settings.BILLING_RENDER_PDF_ON_ISSUE = False


@pytest.fixture
def membership():
    return MembershipFactory()


@pytest.fixture
def partner(membership):
    return membership.partner


@pytest.fixture
def api(membership):
    token = api_token(membership.user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_list_newest_first_with_credit_notes_and_month_filter(api, partner, django_assert_max_num_queries):
    november = issued_invoice(partner, month=dt.date(2026, 11, 1))
    december = issued_invoice(partner, month=dt.date(2026, 12, 1))
    note = credit_note_create(invoice=november, reason="Geste commercial")
    issued_invoice(PartnerFactory(), month=dt.date(2026, 12, 1))  # another partner's
    with django_assert_max_num_queries(8):
        body = api.get("/api/v1/invoices").json()
    assert body["count"] == 3
    assert [i["number"] for i in body["results"]] == [note.number, december.number, november.number]
    first = body["results"][0]
    assert first["kind"] == "credit_note"
    assert first["credit_note_of"] == november.number
    assert first["pdf_ready"] is False
    found = api.get("/api/v1/invoices", {"month": "2026-12"}).json()
    assert [i["number"] for i in found["results"]] == [december.number]
    assert found["results"][0]["total_ttc"] == str(december.total_ttc)
    bad = api.get("/api/v1/invoices", {"month": "12-2026"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "month"


def test_detail_has_totals_lines_and_credit_notes(api, partner):
    invoice = issued_invoice(partner, lines=2)
    note = credit_note_create(invoice=invoice, reason="Erreur", line_ids=[invoice.lines.first().pk])
    body = api.get(f"/api/v1/invoices/{invoice.pk}").json()
    assert body["number"] == invoice.number
    assert body["total_ht"] == str(invoice.total_ht)
    assert body["customer"]["siret"] == partner.billing_profile.siret
    assert [line["position"] for line in body["lines"]] == list(range(1, invoice.lines.count() + 1))
    assert sum(float(line["amount_ht"]) for line in body["lines"]) == pytest.approx(float(invoice.total_ht))
    assert body["credit_notes"] == [note.number]
    assert "contrat" in body["lines"][0]["group"]


def test_pdf_is_the_stored_facturx_as_attachment(api, partner):
    invoice = with_pdf(issued_invoice(partner), b"%PDF-1.7 stored")
    response = api.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content == b"%PDF-1.7 stored"
    assert api.get(f"/api/v1/invoices/{invoice.pk}/pdf", HTTP_ACCEPT="application/pdf").status_code == 200


def test_pdf_not_rendered_yet_is_409_in_french(api, partner):
    invoice = issued_invoice(partner)
    response = api.get(f"/api/v1/invoices/{invoice.pk}/pdf")
    assert response.status_code == 409
    assert "en cours de production" in response.json()["message"]


def test_other_partner_invoice_is_404(api):
    foreign = with_pdf(issued_invoice(PartnerFactory()))
    for url in (
        f"/api/v1/invoices/{foreign.pk}",
        f"/api/v1/invoices/{foreign.pk}/pdf",
        "/api/v1/invoices/999999",
    ):
        assert api.get(url).status_code == 404, url
    assert api.get("/api/v1/invoices").json()["count"] == 0


def test_schema_documents_invoice_paths(client):
    import yaml

    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    assert "get" in paths["/api/v1/invoices"]
    assert "get" in paths["/api/v1/invoices/{id}"]
    pdf = paths["/api/v1/invoices/{id}/pdf"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    assert {"404", "409"} <= set(pdf["responses"])
