"""Back-office « Factures » (issue 9 item 5): list, detail grouped by client and contract, PDF, CSV of the lines
(formula-safe), « Paramètres › Facturation » and the contract's « Frais » tab with real amounts. Another
partner's invoice or contract is a 404."""

import csv
import datetime as dt
import html
import io

import pytest

from billing.identity import vat_number_for_siren
from billing.models import Charge, InvoiceLine, PartnerBillingProfile
from billing.services import credit_note_create
from partners.models import PartnerMembership
from tests.factories.billing import billing_profile, issued_invoice, live_line, run_month, with_pdf
from tests.factories.partners import MembershipFactory, PartnerFactory, make_siret

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_pdf_queue(settings):
    settings.BILLING_RENDER_PDF_ON_ISSUE = False


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_invoice_list_shows_totals_state_pdf_link_and_filters_by_month(
    staff_client, partner, django_assert_max_num_queries
):
    november = issued_invoice(partner, month=dt.date(2026, 11, 1))
    december = with_pdf(issued_invoice(partner, month=dt.date(2026, 12, 1)))
    issued_invoice(PartnerFactory(name="Autre Télécom"), month=dt.date(2026, 12, 1))
    with django_assert_max_num_queries(10):
        response = staff_client.get("/factures/")
    text = _text(response)
    assert response.status_code == 200
    assert november.number in text and december.number in text
    assert text.index(december.number) < text.index(november.number)  # newest first
    assert f"{december.total_ttc} €".replace(".", ",") in text or f"{december.total_ttc} €" in text
    assert f"/factures/{december.pk}/pdf/" in text
    assert f"/factures/{november.pk}/pdf/" not in text  # not rendered yet
    assert "En préparation" in text
    assert "Autre Télécom" not in text
    only = _text(staff_client.get("/factures/", {"month": "2026-11"}))
    assert november.number in only and december.number not in only
    assert 'href="/factures/"' in _text(staff_client.get("/"))  # navigation « Factures »


def test_invoice_detail_groups_lines_by_client_and_contract_with_credit_notes(staff_client, partner):
    invoice = issued_invoice(partner, lines=2)
    note = credit_note_create(invoice=invoice, reason="Geste commercial", line_ids=[invoice.lines.first().pk])
    text = _text(staff_client.get(f"/factures/{invoice.pk}/"))
    for group in set(invoice.lines.values_list("group", flat=True)):
        assert text.count(group) == 1
    assert len(set(invoice.lines.values_list("group", flat=True))) == 2
    assert note.number in text
    assert "Exporter les lignes (CSV)" in text
    note_text = _text(staff_client.get(f"/factures/{note.pk}/"))
    assert invoice.number in note_text and "Geste commercial" in note_text


def test_pdf_download_or_french_message_while_rendering(staff_client, partner):
    invoice = issued_invoice(partner)
    waiting = staff_client.get(f"/factures/{invoice.pk}/pdf/", follow=True)
    assert "en cours de production" in _text(waiting)
    with_pdf(invoice, b"%PDF-1.7 demo")
    response = staff_client.get(f"/factures/{invoice.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.content == b"%PDF-1.7 demo"


def test_csv_export_streams_every_line_formula_safe(staff_client, partner):
    billing_profile(partner)
    contract = live_line(partner)
    contract.client.company_name = '=HYPERLINK("http://x")'
    contract.client.save(update_fields=["company_name"])
    run_month(dt.date(2026, 12, 1))
    invoice = partner.invoices.get()
    response = staff_client.get(f"/factures/{invoice.pk}/lignes.csv")
    assert response.streaming
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number}-lignes.csv"'
    rows = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")), delimiter=";")
    )
    assert rows[0][:3] == ["Facture", "Rang", "Client — contrat"]
    assert len(rows) == 1 + InvoiceLine.objects.filter(invoice=invoice).count()
    assert all(row[2].startswith("'=HYPERLINK") for row in rows[1:])
    assert sum(float(row[7].replace(",", ".")) for row in rows[1:]) == pytest.approx(float(invoice.total_ht))


def test_other_partner_invoice_is_404_on_every_page(staff_client):
    foreign = with_pdf(issued_invoice(PartnerFactory()))
    for url in ("/factures/{}/", "/factures/{}/pdf/", "/factures/{}/lignes.csv"):
        assert staff_client.get(url.format(foreign.pk)).status_code == 404, url


def test_contract_frais_tab_shows_invoiced_and_pending_charges(staff_client, partner):
    invoice = issued_invoice(partner, month=dt.date(2026, 11, 1))
    contract = invoice.charges.first().contract
    run_month(dt.date(2026, 12, 1))  # partner has no unpriced charge: December is invoiced too
    december = partner.invoices.get(period_month=dt.date(2026, 12, 1))
    # a charge computed but not invoiced yet (as after a run that blocked on an unpriced item)
    Charge.objects.create(
        partner=partner,
        client=contract.client,
        contract=contract,
        month=dt.date(2027, 1, 1),
        kind=Charge.Kind.PLAN,
        source="plan",
        mode=Charge.Mode.ADVANCE,
        label="Abonnement à venir",
        amount_ht=None,
        missing_price="Offre : prix mensuel",
        rule="R-CON-4",
        created_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    text = _text(staff_client.get(f"/contrats/{contract.pk}/frais/"))
    assert invoice.number in text and december.number in text
    assert "Abonnement à venir" in text and "à tarifer" in text
    assert f"/factures/{invoice.pk}/" in text
    other = live_line(PartnerFactory())
    assert staff_client.get(f"/contrats/{other.pk}/frais/").status_code == 404


@pytest.fixture
def as_admin(client, partner):
    client.force_login(MembershipFactory(partner=partner, role=PartnerMembership.Role.ADMIN).user)
    return client


def test_admin_sets_billing_identity_in_settings(as_admin, partner):
    siret = make_siret(4242)
    vat = vat_number_for_siren(siret[:9])
    assert "Identité de facturation" in _text(as_admin.get("/parametres/facturation/"))
    data = {
        "legal_name": "Telcom Test SAS",
        "siret": f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}",
        "vat_number": vat.lower(),
        "address": "3 rue du Test",
        "postcode": "69003",
        "city": "Lyon",
        "email": "",
    }
    response = as_admin.post("/parametres/facturation/modifier/", data)
    assert response.status_code == 302
    profile = PartnerBillingProfile.objects.get(partner=partner)
    assert (profile.siret, profile.vat_number) == (siret, vat)


def test_billing_identity_refusals_in_french_all_at_once(as_admin, partner):
    other_siren_vat = vat_number_for_siren(make_siret(7)[:9])
    data = {
        "legal_name": "X",
        "siret": "12345678901234",
        "vat_number": "FR00123",
        "address": "a",
        "postcode": "1",
        "city": "c",
    }
    response = as_admin.post("/parametres/facturation/modifier/", data)
    text = _text(response)
    assert response.status_code == 422
    assert "SIRET n'est pas valide" in text and "TVA intracommunautaire invalide" in text
    data.update(siret=make_siret(8), vat_number=other_siren_vat)
    text = _text(as_admin.post("/parametres/facturation/modifier/", data))
    assert "ne correspond pas au SIREN" in text
    assert not PartnerBillingProfile.objects.filter(partner=partner).exists()


def test_collaborator_reads_but_cannot_change_billing_identity(staff_client, partner, django_user_model):
    PartnerMembership.objects.filter(partner=partner).update(role=PartnerMembership.Role.STAFF)
    assert staff_client.get("/parametres/facturation/").status_code == 200
    response = staff_client.post("/parametres/facturation/modifier/", {"legal_name": "X"})
    assert response.status_code == 403
