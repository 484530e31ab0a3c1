"""GET /api/v1/catalog/offers (filters network, range; paginated) and /api/v1/catalog/offers/<code>."""

import pytest
from rest_framework.test import APIClient

from core.money import GB
from tests.factories.api import api_token
from tests.factories.partners import MembershipFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalog/offers"


def api_for(partner=None, user=None):
    user = user or MembershipFactory(partner=partner or PartnerFactory()).user
    token = api_token(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_401_without_token(catalog):
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert "message" in response.json()
    assert APIClient().get(f"{URL}/OR-ILL-SD").status_code == 401


def test_403_for_user_without_partner(catalog):
    api = APIClient()
    api.force_authenticate(user=UserFactory())  # no partner, so no API token: a logged-in session
    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}/OR-ILL-SD").status_code == 403


def test_list_paginated_with_export_fields(catalog):
    body = api_for().get(URL).json()
    assert body["count"] == 88 and len(body["results"]) == 50 and body["next"]
    first = body["results"][0]
    assert set(first) >= {
        "code",
        "network",
        "range",
        "data_bytes",
        "blocked",
        "monthly_price_ht",
        "five_g_included",
        "topups",
        "options",
        "roaming_choices",
        "offer_changes",
        "label",
    }
    page2 = api_for().get(URL, {"page": 2}).json()
    assert len(page2["results"]) == 38


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"network": "orange"}, 51),
        ({"network": "bouygues"}, 37),
        ({"range": "travel"}, 4),
        ({"network": "bouygues", "range": "travel"}, 0),
        ({"network": "orange", "range": "m2m"}, 10),
        ({"network": "bouygues", "range": "illimite"}, 17),
    ],
)
def test_filters(catalog, params, count):
    body = api_for().get(URL, params).json()
    assert body["count"] == count
    for o in body["results"]:
        for key, value in params.items():
            assert o[key] == value


def test_invalid_filter_is_400_with_field(catalog):
    response = api_for().get(URL, {"network": "sfr"})
    assert response.status_code == 400
    assert response.json()["field"] == "network"


def test_detail_and_404(catalog):
    api = api_for()
    body = api.get(f"{URL}/BY-ILL-30G-NB").json()
    assert body["topups"] == [30 * GB] and body["monthly_price_ht"] is None and body["network"] == "bouygues"
    assert api.get(f"{URL}/NOPE").status_code == 404


def test_partner_platform_only_for_init_sys_partner(catalog):
    plain = api_for(PartnerFactory(is_init_sys=False)).get(f"{URL}/OR-ILL-30G-B").json()
    init_sys = api_for(PartnerFactory(is_init_sys=True)).get(f"{URL}/OR-ILL-30G-B").json()
    assert "partner_platform" not in plain["options"]  # R-OPT-3
    assert "partner_platform" in init_sys["options"]


def test_schema_lists_catalog_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/catalog/offers" in text and "/api/v1/catalog/offers/{code}" in text
    assert "CatalogOffer" in text
