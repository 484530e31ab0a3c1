"""Back-office reseller billing (R-BO-3 « Génération facturation revendeur »): « Paramètres › Facturation
revendeur » (admins edit, staff read, every error at once, nothing half-saved) and « Factures clients » (drafts,
« Émettre », « Émettre tout », avoir; POST + CSRF, admins only; another partner's invoice is a 404)."""

import datetime as dt
import html
from decimal import Decimal

import pytest
from django.test import Client

from billing import reseller
from billing.models import Invoice, ResalePolicy, ResalePrice
from catalog.models import Offer
from core.clock import PARIS
from partners.models import PartnerMembership
from tests.factories.billing import billing_profile, live_line, run_month
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)
LIVE = dt.datetime(2026, 12, 1, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _no_pdf_queue(settings):
    settings.BILLING_RENDER_PDF_ON_ISSUE = False


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _reseller_month(partner, *, margin="10", clients=("Client A1", "Client A2")):
    billing_profile(partner)
    made = [ClientAccountFactory(partner=partner, company_name=name) for name in clients]
    for client in made:
        live_line(partner, code="OR-ILL-5G-NB", client=client, delivered=LIVE)
    reseller.resale_policy_set(partner=partner, enabled=True, margin_percent=margin, prices={})
    run_month(DEC)
    reseller.reseller_drafts_make(partner=partner, month=DEC)
    return made


def test_settings_reseller_admin_saves_switch_margin_and_prices(staff_client, partner):
    live_line(partner)  # loads the catalog
    item = f"offer:{Offer.objects.get(code='OR-ILL-10G-NB').pk}"
    page = _text(staff_client.get("/parametres/facturation-revendeur/"))
    assert "Génération facturation revendeur" in page and f'name="price_{item}"' in page
    response = staff_client.post(
        "/parametres/facturation-revendeur/modifier/",
        {"enabled": "on", "margin_percent": "15", f"price_{item}": "12,50"},
    )
    assert response.status_code == 302
    policy = ResalePolicy.objects.get(partner=partner)
    assert policy.enabled and policy.margin_percent == Decimal("15")
    assert ResalePrice.objects.get(partner=partner, item=item).unit_price_ht == Decimal("12.5")


def test_settings_reseller_every_error_in_french_nothing_saved(staff_client, partner):
    live_line(partner)
    item = f"offer:{Offer.objects.get(code='OR-ILL-10G-NB').pk}"
    other = f"offer:{Offer.objects.get(code='OR-ILL-5G-NB').pk}"
    response = staff_client.post(
        "/parametres/facturation-revendeur/modifier/",
        {"enabled": "on", "margin_percent": "-150", f"price_{item}": "-2", f"price_{other}": "9"},
    )
    text = _text(response)
    assert response.status_code == 422
    assert "La marge doit être comprise entre -100 % et 1000 %." in text
    assert "un prix ne peut pas être négatif" in text
    assert 'value="-150"' in text and 'value="9"' in text  # the posted values come back
    assert not ResalePolicy.objects.exists() and not ResalePrice.objects.exists()


def test_settings_reseller_staff_reads_and_cannot_write(client, partner):
    staff = MembershipFactory(partner=partner, role=PartnerMembership.Role.STAFF).user
    client.force_login(staff)
    page = _text(client.get("/parametres/facturation-revendeur/"))
    assert "Désactivée" in page and "<form" not in page.split('id="reseller-billing"')[1]
    assert client.post("/parametres/facturation-revendeur/modifier/", {"enabled": "on"}).status_code == 403
    assert not ResalePolicy.objects.exists()


def test_client_invoices_list_drafts_then_issue_all(staff_client, partner, django_assert_max_num_queries):
    _reseller_month(partner)
    other = PartnerFactory(name="Autre Revendeur")
    _reseller_month(other, clients=("Client B1",))
    with django_assert_max_num_queries(12):
        response = staff_client.get("/factures/clients/", {"month": "2026-12"})
    text = _text(response)
    assert response.status_code == 200
    assert "Client A1" in text and "Client A2" in text and "Client B1" not in text
    assert "Émettre tout (2 brouillons)" in text and ("9,24 €" in text or "9.24 €" in text)  # 7.70 HT + 20 %
    response = staff_client.post("/factures/clients/emettre/", {"month": "2026-12"})
    assert response.status_code == 302
    issued = list(Invoice.objects.filter(issuer_partner=partner).order_by("sequence"))
    assert [i.number for i in issued] == [f"P{partner.pk}-2026-000001", f"P{partner.pk}-2026-000002"]
    assert Invoice.objects.filter(issuer_partner=other, state="draft").count() == 1


def test_client_invoice_detail_issue_one_and_credit_note(staff_client, partner):
    _reseller_month(partner, clients=("Client A1",))
    draft = Invoice.objects.get(issuer_partner=partner)
    text = _text(staff_client.get(f"/factures/clients/{draft.pk}/"))
    assert "Brouillon" in text and "Émettre" in text and "Client A1" in text and "Contrat " in text
    staff_client.post(f"/factures/clients/{draft.pk}/emettre/")
    staff_client.post(f"/factures/clients/{draft.pk}/emettre/")  # double click: issued once
    draft.refresh_from_db()
    assert draft.number == f"P{partner.pk}-2026-000001"
    response = staff_client.post(f"/factures/clients/{draft.pk}/avoir/", {"reason": "Erreur de prix"})
    note = Invoice.objects.get(credit_note_of=draft)
    assert response.status_code == 302 and note.number == f"P{partner.pk}-2026-000002"


def test_client_invoice_writes_need_admin_and_csrf(client, partner):
    _reseller_month(partner, clients=("Client A1",))
    draft = Invoice.objects.get(issuer_partner=partner)
    client.force_login(MembershipFactory(partner=partner, role=PartnerMembership.Role.STAFF).user)
    assert client.get(f"/factures/clients/{draft.pk}/").status_code == 200
    assert client.post(f"/factures/clients/{draft.pk}/emettre/").status_code == 403
    assert client.get(f"/factures/clients/{draft.pk}/emettre/").status_code in (403, 405)
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(MembershipFactory(partner=partner).user)
    assert admin.post(f"/factures/clients/{draft.pk}/emettre/").status_code == 403
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_other_partners_client_invoice_is_404(staff_client, partner):
    other = PartnerFactory(name="Autre Revendeur")
    _reseller_month(other, clients=("Client B1",))
    foreign = Invoice.objects.get(issuer_partner=other)
    for url in (f"/factures/clients/{foreign.pk}/", f"/factures/clients/{foreign.pk}/pdf/"):
        assert staff_client.get(url).status_code == 404
    for url in (f"/factures/clients/{foreign.pk}/emettre/", f"/factures/clients/{foreign.pk}/avoir/"):
        assert staff_client.post(url, {"reason": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == "draft"
