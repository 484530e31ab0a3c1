"""Host routing (STYLE 14) and the branded self-care login page (R-SC-2)."""

import pytest
from stdnum.fr import siret

from partners.hosts import resolve_host
from tests.factories.partners import PartnerFactory, make_siret

pytestmark = pytest.mark.django_db


def test_factory_sirets_are_valid():
    assert all(siret.is_valid(make_siret(n)) for n in range(500))
    assert len({make_siret(n) for n in range(500)}) == 500


@pytest.mark.parametrize(
    ("host", "door", "slug"),
    [
        ("localhost:8000", "backoffice", None),
        ("acme.espaceclient.localhost:8000", "selfcare", "acme"),
        ("ACME.EspaceClient.localhost", "selfcare", "acme"),
        ("espaceclient.localhost", "selfcare", ""),
        ("a.b.espaceclient.localhost", "selfcare", ""),
    ],
)
def test_resolve_host(host, door, slug):
    match = resolve_host(host)
    assert match.door == door
    assert match.slug == slug


def test_R_SC_2_selfcare_login_page_is_branded_per_partner(client):
    partner = PartnerFactory(name="Acme Télécom", slug="acme-telecom")
    PartnerFactory(name="Autre Réseau", slug="autre")
    response = client.get("/", HTTP_HOST="acme-telecom.espaceclient.localhost:8000")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Espace client Acme Télécom" in body
    assert "Autre Réseau" not in body
    assert response.wsgi_request.partner == partner


@pytest.mark.parametrize("host", ["inconnu.espaceclient.localhost", "espaceclient.localhost"])
def test_unknown_selfcare_slug_is_404(client, host):
    PartnerFactory(slug="acme")
    assert client.get("/", HTTP_HOST=host).status_code == 404


def test_backoffice_requires_login(client):
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
