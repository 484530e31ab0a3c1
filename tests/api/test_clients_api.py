"""``/api/v1/clients`` (R-BO-1): partner-scoped list/create/read/update through the services; JSON errors."""

import pytest
from rest_framework.test import APIClient

from partners.models import ApiToken, ClientAccount
from partners.services import api_token_hash
from tests.factories.api import api_token
from tests.factories.partners import ClientAccountFactory, MembershipFactory, SiteFactory, make_siret

pytestmark = pytest.mark.django_db


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


def _payload(**overrides):
    data = {
        "company_name": "Garage Central",
        "siret": make_siret(314),
        "email": "contact@garage-central.fr",
        "mobile": "06 11 22 33 44",
        "postal_code": "69001",
        "city": "Lyon",
    }
    data.update(overrides)
    return data


def test_obtain_token_with_login_and_password(membership):
    response = APIClient().post(
        "/api/v1/auth/token", {"username": membership.user.username, "password": "pw-test-123"}
    )
    assert response.status_code == 200
    stored = ApiToken.objects.get(user=membership.user)  # only the hash of the secret is kept
    assert stored.key_hash == api_token_hash(response.json()["token"])


def test_list_is_scoped_and_searchable(api, partner):
    ClientAccountFactory(partner=partner, company_name="Alpha SAS", email="it@alpha.fr")
    ClientAccountFactory(partner=partner, company_name="Beta SARL")
    ClientAccountFactory(company_name="Gamma Autre Partenaire")
    body = api.get("/api/v1/clients").json()
    assert body["count"] == 2
    assert [c["company_name"] for c in body["results"]] == ["Alpha SAS", "Beta SARL"]
    found = api.get("/api/v1/clients", {"search": "it@alpha"}).json()
    assert [c["company_name"] for c in found["results"]] == ["Alpha SAS"]


def test_R_BO_1_create_client(api, partner):
    response = api.post("/api/v1/clients", _payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    client = ClientAccount.objects.get(pk=body["id"])
    assert client.partner == partner
    assert body["siret"] == make_siret(314)
    assert body["mobile"] == "+33611223344"
    assert body["country"] == "FR" and body["account_type"] == "pro_vat"
    assert body["sites"] == []


def test_R_BO_1_create_bad_siret_is_422_with_field(api):
    siret = make_siret(5)
    bad = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    response = api.post("/api/v1/clients", _payload(siret=bad), format="json")
    assert response.status_code == 422
    assert response.json() == {
        "message": "Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas.",
        "field": "siret",
        "rule": "R-BO-1",
    }
    assert not ClientAccount.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("mobile", "01 45 67 89 10"), ("landline", "0612345678"), ("postal_code", "75")]
)
def test_R_BO_1_create_refusals_name_the_field(api, field, value):
    response = api.post("/api/v1/clients", _payload(**{field: value}), format="json")
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert response.json()["rule"] == "R-BO-1"
    assert not ClientAccount.objects.exists()


@pytest.mark.parametrize("missing", ["company_name", "siret", "email"])
def test_R_BO_1_starred_fields_are_required(api, missing):
    data = _payload()
    del data[missing]
    response = api.post("/api/v1/clients", data, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == missing
    assert response.json()["message"]


def test_malformed_email_is_400(api):
    response = api.post("/api/v1/clients", _payload(email="pas-un-email"), format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "email"


def test_retrieve_includes_sites(api, partner):
    client = ClientAccountFactory(partner=partner)
    SiteFactory(client=client, name="Entrepôt")
    body = api.get(f"/api/v1/clients/{client.pk}").json()
    assert body["company_name"] == client.company_name
    assert [s["name"] for s in body["sites"]] == ["Entrepôt"]


def test_R_BO_1_patch_changes_only_given_fields(api, partner):
    client = ClientAccountFactory(partner=partner, city="Nantes", company_name="Avant")
    response = api.patch(f"/api/v1/clients/{client.pk}", {"company_name": "Après"}, format="json")
    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.company_name, client.city) == ("Après", "Nantes")


def test_R_BO_1_patch_bad_siret_is_422_and_saves_nothing(api, partner):
    client = ClientAccountFactory(partner=partner, company_name="Intact")
    response = api.patch(
        f"/api/v1/clients/{client.pk}", {"company_name": "X", "siret": "12345678901234"}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["field"] == "siret"
    client.refresh_from_db()
    assert client.company_name == "Intact"


def test_put_replaces_the_client(api, partner):
    client = ClientAccountFactory(partner=partner, city="Nantes", first_name="Marie")
    response = api.put(
        f"/api/v1/clients/{client.pk}",
        {"company_name": "Remplacé", "siret": client.siret, "email": "new@example.fr"},
        format="json",
    )
    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.company_name, client.city, client.first_name) == ("Remplacé", "", "")
    incomplete = api.put(f"/api/v1/clients/{client.pk}", {"company_name": "Sans SIRET"}, format="json")
    assert incomplete.status_code == 400


def test_delete_is_not_offered(api, partner):
    client = ClientAccountFactory(partner=partner)
    assert api.delete(f"/api/v1/clients/{client.pk}").status_code == 405
    assert ClientAccount.objects.filter(pk=client.pk).exists()


def test_unknown_client_is_json_404(api):
    response = api.get("/api/v1/clients/999999")
    assert response.status_code == 404
    assert response.json()["message"]
