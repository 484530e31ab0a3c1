"""Issue 10 item 6: API tokens stored hashed, shown once, named, revocable, with an expiry; deactivating the staff
user or removing their membership kills them (``partners.ApiToken``, ``api.authentication``)."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from django.utils import timezone
from rest_framework.test import APIClient

from partners.models import ApiToken
from partners.services import api_token_create, api_token_hash, api_token_revoke
from tests.factories.api import api_token
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory

PASSWORD = "pw-test-123"  # tests/factories/partners.py UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return MembershipFactory().user


def _get(secret: str, scheme: str = "Token"):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"{scheme} {secret}")
    return api.get("/api/v1/clients")


def test_only_the_hash_of_the_secret_is_stored(staff):
    token, secret = api_token_create(user=staff, name="ERP")
    row = ApiToken.objects.get(pk=token.pk)
    assert secret.startswith("alk_") and len(secret) > 40
    assert row.key_hash == api_token_hash(secret) and secret not in row.key_hash
    assert row.prefix == secret[:12]
    assert row.expires_at - row.created_at == dt.timedelta(days=90)
    assert row.partner_id == staff.membership.partner_id


@pytest.mark.parametrize("scheme", ["Token", "Bearer"])
def test_a_live_token_opens_the_api_and_records_its_use(staff, scheme):
    ClientAccountFactory(partner=staff.membership.partner, company_name="Vu Par Jeton")
    ClientAccountFactory(company_name="Autre Partenaire")  # other_partner: never visible
    secret = api_token(staff)
    response = _get(secret, scheme)
    assert response.status_code == 200
    assert [c["company_name"] for c in response.json()["results"]] == ["Vu Par Jeton"]
    assert ApiToken.objects.get(user=staff).last_used_at is not None


def test_ttl_comes_from_the_setting(staff, settings):
    settings.API_TOKEN_TTL_DAYS = 7
    token, _ = api_token_create(user=staff, name="Court")
    assert token.expires_at - token.created_at == dt.timedelta(days=7)


@pytest.mark.parametrize(
    "kill, reason",
    [
        ("revoke", "révoqué"),
        ("expire", "expiré"),
        ("deactivate", "désactivé"),
        ("remove_membership", "désactivé"),
        ("move_to_other_partner", "désactivé"),
    ],
)
def test_a_dead_token_gets_401(staff, kill, reason):
    token, secret = api_token_create(user=staff, name="ERP")
    assert _get(secret).status_code == 200
    if kill == "revoke":
        api_token_revoke(token=token)
    elif kill == "expire":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif kill == "deactivate":
        staff.is_active = False
        staff.save(update_fields=["is_active"])
    elif kill == "remove_membership":
        staff.membership.delete()
    else:
        staff.membership.partner = PartnerFactory()
        staff.membership.save()
    response = _get(secret)
    assert response.status_code == 401
    assert reason in response.content.decode()
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", ["Token nope", "Token alk_" + "x" * 43, "Token", "Token a b", "Bearer "])
def test_a_wrong_token_gets_401(staff, header):
    api_token(staff)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    assert api.get("/api/v1/clients").status_code == 401


def test_no_token_gets_401_or_403():
    assert APIClient().get("/api/v1/clients").status_code in (401, 403)


def test_token_endpoint_creates_a_named_token_and_shows_the_secret_once():
    user = MembershipFactory().user
    response = APIClient().post(
        "/api/v1/auth/token", {"username": user.username, "password": PASSWORD, "name": "Facturation"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Facturation" and body["token"].startswith(body["prefix"])
    assert response["Cache-Control"] == "no-store"
    stored = ApiToken.objects.get(user=user)
    assert stored.key_hash == api_token_hash(body["token"])
    assert _get(body["token"]).status_code == 200


def test_token_endpoint_refuses_a_wrong_password():
    user = MembershipFactory().user
    response = APIClient().post("/api/v1/auth/token", {"username": user.username, "password": "wrong"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_token_endpoint_refuses_a_user_with_no_partner():
    from tests.factories.partners import UserFactory

    user = UserFactory()
    response = APIClient().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_schema_documents_the_token_header(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/clients"]["get"]["security"]
