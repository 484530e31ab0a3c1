"""Back-office catalog browser (/catalogue/) and Django admin price editing."""

from decimal import Decimal

import pytest

from catalog.models import Offer
from tests.factories.partners import MembershipFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, catalog):
    membership = MembershipFactory(partner=PartnerFactory(is_init_sys=False))
    client.force_login(membership.user)
    return client


def test_catalog_pages_require_partner_staff(client, catalog):
    assert client.get("/catalogue/").status_code == 302  # to login
    assert client.get("/catalogue/offres/OR-ILL-SD/").status_code == 302
    client.force_login(UserFactory())  # no partner
    assert client.get("/catalogue/").status_code == 403
    assert client.get("/catalogue/offres/OR-ILL-SD/").status_code == 403


def test_catalog_index_by_network_and_range_with_prices(staff_client):
    page = staff_client.get("/catalogue/").content.decode()
    assert "Illimité 10 Go non bloqué" in page and "8,00 €" in page
    assert "à définir" in page  # blocked Orange Illimité has no seed price
    assert "BY-ILL-10G-NB" not in page  # Orange tab by default
    page = staff_client.get("/catalogue/?network=bouygues&range=compteur_data").content.decode()
    assert "BY-CPTD" in page and "2,00 €" in page and "OR-CPTD" not in page and "BY-ILL-SD" not in page


def test_catalog_index_htmx_returns_the_partial(staff_client):
    response = staff_client.get("/catalogue/?network=orange&range=travel", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="catalog-offers">')
    assert "OR-TRV-20G" in body and "OR-ILL-SD" not in body


def test_offer_page_shows_allowed_and_refused_with_rule_ids(staff_client):
    page = staff_client.get("/catalogue/offres/OR-ILL-30G-NB/").content.decode()
    assert "Illimité 30 Go non bloqué" in page and "10,50 €" in page
    assert "R-OPT-3" in page  # fixed IP refused on an Orange non-blocked plan, and why
    assert "uniquement sur les forfaits data bloqués" in page
    assert "réservée aux partenaires Init Sys" in page
    assert "R-CON-3" in page and "R-CON-1" in page and "R-ROA-3" in page and "R-CAT-9" in page
    assert "Sans engagement" in page
    assert "Coupure 0 Mo" in " ".join(page.split())


def test_offer_page_bouygues_refuses_esim_and_other_topups(staff_client):
    page = staff_client.get("/catalogue/offres/BY-ILL-30G-NB/").content.decode()
    assert "L&#x27;eSIM n&#x27;est proposée que sur le réseau Orange" in page
    assert "seule une recharge du volume du forfait" in page
    assert "R-ROA-4" in page and "200 €" in page


def test_offer_page_travel_topups_refused(staff_client):
    page = staff_client.get("/catalogue/offres/OR-TRV-20G/").content.decode()
    assert "R-CAT-4" in page and "upgrade" in page


def test_offer_page_unknown_code_404(staff_client):
    assert staff_client.get("/catalogue/offres/NOPE/").status_code == 404


def test_admin_price_edit_marks_override(client, catalog):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    offer = Offer.objects.get(code="BY-ILL-10G-B")
    assert client.get("/admin/catalog/offer/").status_code == 200
    url = f"/admin/catalog/offer/{offer.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update({"details": "{}", "monthly_price_ht": "6.50"})
    for key in ("blocked",):
        data[key] = "true"
    for key in ("five_g_included", "active"):
        data[key] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    offer.refresh_from_db()
    assert offer.monthly_price_ht == Decimal("6.50") and offer.price_overridden
