"""Back-office « Ressources » pages (R-BO-2, R-SC-7): lists, filters, assignment, release, imports; scoped."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import PhoneNumber, SimCard
from tests.factories.inventory import EsimProfileFactory, PhoneNumberFactory, SimCardFactory, make_iccid
from tests.factories.partners import ClientAccountFactory, MembershipFactory

pytestmark = pytest.mark.django_db

HOST = {"HTTP_HOST": "localhost"}


@pytest.fixture
def membership():
    return MembershipFactory()


@pytest.fixture
def partner(membership):
    return membership.partner


@pytest.fixture
def staff(client, membership):
    client.force_login(membership.user)
    return client


@pytest.fixture
def customer(partner):
    return ClientAccountFactory(partner=partner, company_name="Boulangerie Test")


def test_stock_pages_require_a_partner_login(client):
    assert client.get("/stock/", **HOST).status_code == 302


def test_R_BO_2_sim_list_shows_only_this_partners_sims_with_filters(staff, partner, customer):
    mine = SimCardFactory(partner=partner, iccid=make_iccid(1, series=4))
    assigned = SimCardFactory(
        partner=partner, client=customer, state=SimCard.State.ASSIGNED, network="bouygues"
    )
    foreign = SimCardFactory()
    page = staff.get("/stock/", **HOST).content.decode()
    assert mine.iccid in page and assigned.iccid in page
    assert foreign.iccid not in page
    filtered = staff.get(
        "/stock/", {"state": "assigned", "network": "bouygues", "client": customer.pk}, **HOST
    )
    assert assigned.iccid in filtered.content.decode() and mine.iccid not in filtered.content.decode()
    searched = staff.get("/stock/", {"q": mine.iccid[:14] + " " + mine.iccid[14:]}, **HOST).content.decode()
    assert mine.iccid in searched and assigned.iccid not in searched


def test_R_BO_2_sim_list_htmx_returns_the_table_partial_and_paginates(staff, partner):
    SimCardFactory.create_batch(55, partner=partner)
    response = staff.get("/stock/", {"page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stock-table", **HOST)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="stock-table">')
    assert "<html" not in body
    assert "Page 2 sur 2" in body
    assert body.count('name="iccids"') == 5


def test_R_SC_7_bulk_assign_then_release_from_the_list(staff, partner, customer):
    sims = SimCardFactory.create_batch(3, partner=partner)
    response = staff.post(
        "/stock/sims/affecter/",
        {"client": customer.pk, "iccids": [s.iccid for s in sims[:2]], "next": "/stock/?state=in_stock"},
        **HOST,
    )
    assert response.status_code == 302 and response["Location"] == "/stock/?state=in_stock"
    assert SimCard.objects.filter(client=customer, state=SimCard.State.ASSIGNED).count() == 2
    page = staff.get("/stock/", **HOST).content.decode()
    assert "2 carte(s) SIM affectée(s) à Boulangerie Test." in page
    staff.post("/stock/sims/liberer/", {"iccids": [sims[0].iccid], "next": "https://evil.example/"}, **HOST)
    assert SimCard.objects.get(pk=sims[0].pk).state == SimCard.State.IN_STOCK


def test_R_SC_7_assign_refusal_is_shown_in_french(staff, partner, customer):
    used = SimCardFactory(partner=partner, state=SimCard.State.IN_USE)
    staff.post("/stock/sims/affecter/", {"client": customer.pk, "iccids": [used.iccid]}, **HOST)
    page = staff.get("/stock/", **HOST).content.decode()
    assert "absente(s) de votre stock disponible" in page
    assert SimCard.objects.get(pk=used.pk).state == SimCard.State.IN_USE


def test_R_SC_7_other_partners_client_or_sim_is_refused(staff, partner):
    foreign_client = ClientAccountFactory()
    mine = SimCardFactory(partner=partner)
    response = staff.post(
        "/stock/sims/affecter/", {"client": foreign_client.pk, "iccids": [mine.iccid]}, **HOST
    )
    assert response.status_code == 404
    foreign_sim = SimCardFactory()
    customer = ClientAccountFactory(partner=partner)
    staff.post("/stock/sims/affecter/", {"client": customer.pk, "iccids": [foreign_sim.iccid]}, **HOST)
    assert SimCard.objects.get(pk=foreign_sim.pk).state == SimCard.State.IN_STOCK
    assert SimCard.objects.get(pk=mine.pk).state == SimCard.State.IN_STOCK


def test_R_SC_7_range_page_assigns_and_refuses_descending_ranges(staff, partner, customer):
    sims = [SimCardFactory(partner=partner, iccid=make_iccid(n, series=5)) for n in range(1, 6)]
    response = staff.post(
        "/stock/sims/plage/",
        {
            "client": customer.pk,
            "first_iccid": sims[3].iccid,
            "last_iccid": sims[1].iccid,
            "action": "assign",
        },
        **HOST,
    )
    assert response.status_code == 400
    assert "La plage doit être croissante" in response.content.decode()
    response = staff.post(
        "/stock/sims/plage/",
        {
            "client": customer.pk,
            "first_iccid": sims[1].iccid,
            "last_iccid": sims[3].iccid + "F",
            "action": "assign",
        },
        **HOST,
    )
    assert response.status_code == 302
    assert SimCard.objects.filter(client=customer).count() == 3
    response = staff.post(
        "/stock/sims/plage/",
        {"first_iccid": sims[0].iccid, "last_iccid": sims[4].iccid, "action": "release"},
        **HOST,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 302
    assert SimCard.objects.filter(state=SimCard.State.IN_STOCK).count() == 5


def test_R_SC_7_range_form_does_not_offer_another_partners_clients(staff, partner):
    foreign = ClientAccountFactory(company_name="Client Étranger")
    sims = [SimCardFactory(partner=partner, iccid=make_iccid(n, series=6)) for n in range(1, 3)]
    page = staff.get("/stock/sims/plage/", **HOST).content.decode()
    assert "Client Étranger" not in page
    response = staff.post(
        "/stock/sims/plage/",
        {"client": foreign.pk, "first_iccid": sims[0].iccid, "last_iccid": sims[1].iccid, "action": "assign"},
        **HOST,
    )
    assert response.status_code == 400
    assert SimCard.objects.filter(client__isnull=False).count() == 0


def test_sim_import_page_all_or_nothing_with_line_numbers(staff, partner):
    bad = f"iccid;pin;puk;network\n{make_iccid(1)};1234;12345678;orange\n{make_iccid(2)};1234;123;orange\n"
    response = staff.post(
        "/stock/sims/importer/", {"file": SimpleUploadedFile("s.csv", bad.encode())}, **HOST
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Ligne 3 : Le code PUK doit comporter exactement 8 chiffres." in body
    assert "aucune carte SIM importée" in body
    assert SimCard.objects.count() == 0
    good = bad.replace(";123;", ";12345670;")
    response = staff.post(
        "/stock/sims/importer/", {"file": SimpleUploadedFile("s.csv", good.encode())}, **HOST
    )
    assert response.status_code == 302
    assert SimCard.objects.filter(partner=partner).count() == 2


def test_numbers_import_page_by_range_and_numbers_list(staff, partner):
    response = staff.post(
        "/stock/numeros/importer/",
        {"network": "bouygues", "first": "0661000000", "last": "0661000009"},
        **HOST,
    )
    assert response.status_code == 302
    assert PhoneNumber.objects.filter(partner=partner).count() == 10
    foreign = PhoneNumberFactory()
    page = staff.get("/stock/numeros/", {"state": "available"}, **HOST).content.decode()
    assert "0661000009" in page and foreign.msisdn not in page
    response = staff.post("/stock/numeros/importer/", {"network": "bouygues"}, **HOST)
    assert response.status_code == 400


def test_R_OPT_2_esim_list_shows_activation_codes_of_this_partner_only(staff, partner):
    mine = EsimProfileFactory(partner=partner)
    foreign = EsimProfileFactory()
    page = staff.get("/stock/esim/", **HOST).content.decode()
    assert mine.activation_code in page
    assert foreign.iccid not in page
