"""API v1: ``POST /api/v1/orders`` (Idempotency-Key), ``GET /api/v1/orders/{id}``, ``GET /api/v1/contracts``."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import Contract, IdempotencyRecord, Order
from contracts.services import idempotency_records_purge
from core.networks import Network
from tests.factories.api import api_token
from tests.factories.contracts import ContractFactory, add_stock
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return api


@pytest.fixture
def api(staff):
    return api_for(staff)


def post_order(api, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post("/api/v1/orders", body, format="json", **headers)


def body_for(client, **extra):
    return {"client_id": client.pk, "offer": "OR-ILL-10G-B", "quantity": 1, **extra}


# --- placing orders -----------------------------------------------------------------------------------------


def test_R_ORD_1_api_order_one_line(catalog, api, partner, client_account, orange_stock):
    response = post_order(
        api, body_for(client_account, lines=[{"user_name": "Marie"}]), key=str(uuid.uuid4())
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["number"].startswith("CMD-") and data["offer"] == "OR-ILL-10G-B"
    assert len(data["contracts"]) == 1
    line = data["contracts"][0]
    assert line["state"] == "pending" and line["state_label"] == "En cours" and line["user_name"] == "Marie"
    assert line["iccid"] and line["msisdn"]
    order = Order.objects.get(pk=data["id"])
    assert order.partner == partner and order.source == Order.Source.API


def test_R_ORD_2_api_order_fifty_lines_mixed_esim_and_portability(catalog, api, client_account, orange_stock):
    lines = [{"user_name": "Porté", "portability": True, "msisdn": "06 12 34 56 78", "rio": "01p12345636q"}]
    lines += [
        {
            "user_name": f"U{i}",
            "sim_type": "esim",
            "contact_email": f"u{i}@x.fr",
            "contact_mobile": "0699887766",
        }
        if i % 2
        else {"user_name": f"U{i}"}
        for i in range(1, 50)
    ]
    response = post_order(
        api, body_for(client_account, quantity=50, configuration="multiple", lines=lines), key="order-50"
    )
    assert response.status_code == 201, response.json()
    contracts = response.json()["contracts"]
    assert len(contracts) == 50
    assert sum(1 for c in contracts if c["sim_type"] == "esim") == 25
    assert all(c["activation_code"].startswith("LPA:1$") for c in contracts if c["sim_type"] == "esim")
    assert sum(1 for c in contracts if c["portability"]) == 1


def test_R_ORD_refusal_is_422_with_field_and_rule(catalog, api, client_account, orange_stock):
    response = post_order(
        api,
        body_for(
            client_account, lines=[{"portability": True, "msisdn": "0612345678", "rio": "01P12345636A"}]
        ),
        key="bad-rio",
    )
    assert response.status_code == 422
    assert response.json()["field"] == "lines[0].rio" and response.json()["rule"] == "R-ORD-2"
    assert not Order.objects.exists()


def test_api_order_unknown_offer_and_malformed_body(catalog, api, client_account, orange_stock):
    response = post_order(api, body_for(client_account, offer="NOPE"), key="k1")
    assert response.status_code == 422 and response.json()["field"] == "offer"
    response = post_order(api, {"client_id": "abc"}, key="k2")
    assert response.status_code == 400 and response.json()["field"] in ("client_id", "offer", "quantity")


# --- Idempotency-Key -----------------------------------------------------------------------------------------


def test_idempotency_key_required(catalog, api, client_account, orange_stock):
    response = post_order(api, body_for(client_account))
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key" and "obligatoire" in response.json()["message"]
    assert not Order.objects.exists()


def test_idempotency_same_key_same_body_replays_the_first_response(
    catalog, api, client_account, orange_stock
):
    body = body_for(client_account, quantity=2)
    first = post_order(api, body, key="same-key")
    second = post_order(api, body, key="same-key")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.content == first.content  # same body, byte for byte
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and Contract.objects.count() == 2


def test_idempotency_same_key_other_body_refused_422(catalog, api, client_account, orange_stock):
    post_order(api, body_for(client_account), key="reused")
    response = post_order(api, body_for(client_account, quantity=2), key="reused")
    assert response.status_code == 422
    assert "clé d'idempotence" in response.json()["message"]
    assert Order.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_partner(catalog, api, partner, client_account, orange_stock):
    other_partner = PartnerFactory()
    other_client = ClientAccountFactory(partner=other_partner)
    add_stock(other_partner, Network.ORANGE, sims=2, numbers=2)
    other_api = api_for(MembershipFactory(partner=other_partner).user)

    mine = post_order(api, body_for(client_account), key="shared-key")
    theirs = post_order(other_api, body_for(other_client), key="shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert Order.objects.filter(partner=partner).count() == 1
    assert Order.objects.filter(partner=other_partner).count() == 1
    assert IdempotencyRecord.objects.filter(key="shared-key").count() == 2


def test_idempotency_refusal_is_replayed_too(catalog, api, client_account, orange_stock):
    body = body_for(client_account, quantity=0)
    first = post_order(api, body, key="refused")
    add_stock(client_account.partner, Network.ORANGE, sims=5, numbers=5)
    second = post_order(api, body, key="refused")
    assert first.status_code in (400, 422) and second.status_code == first.status_code
    assert second.json() == first.json()


# --- reading ------------------------------------------------------------------------------------------------


def test_idempotency_keys_are_forgotten_after_their_retention(
    catalog, api, client_account, orange_stock, settings
):
    settings.IDEMPOTENCY_KEY_TTL_DAYS = 30
    body = body_for(client_account)
    assert post_order(api, body, key="old-key").status_code == 201
    assert post_order(api, body_for(client_account, quantity=2), key="recent-key").status_code == 201
    IdempotencyRecord.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(days=31))

    assert idempotency_records_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent-key"]
    # The recent key still replays; the forgotten one is a new request (a new order).
    assert (
        post_order(api, body_for(client_account, quantity=2), key="recent-key")["Idempotent-Replayed"]
        == "true"
    )
    assert post_order(api, body, key="old-key").status_code == 201
    assert Order.objects.count() == 3


def test_api_order_detail_and_list(catalog, api, client_account, orange_stock):
    order_id = post_order(api, body_for(client_account, quantity=3), key="o1").json()["id"]
    detail = api.get(f"/api/v1/orders/{order_id}")
    assert detail.status_code == 200 and len(detail.json()["contracts"]) == 3
    listing = api.get("/api/v1/orders").json()
    assert [o["id"] for o in listing["results"]] == [order_id]


def test_api_contract_list_filters_and_detail(catalog, api, client_account, orange_stock):
    data = post_order(api, body_for(client_account, quantity=3), key="o2").json()
    first = data["contracts"][0]
    by_number = api.get("/api/v1/contracts", {"number": first["msisdn"]}).json()
    assert [c["id"] for c in by_number["results"]] == [first["id"]]
    by_sim = api.get("/api/v1/contracts", {"sim": first["iccid"][:15]}).json()
    assert first["id"] in [c["id"] for c in by_sim["results"]]
    assert api.get("/api/v1/contracts", {"state": "active"}).json()["count"] == 0
    assert api.get("/api/v1/contracts", {"state": "user:pending"}).json()["count"] == 3
    assert (
        api.get("/api/v1/contracts", {"offer": "OR-ILL-10G-B", "client": client_account.pk}).json()["count"]
        == 3
    )
    detail = api.get(f"/api/v1/contracts/{first['id']}").json()
    assert detail["puk"] and detail["options"] and detail["events"]
    assert detail["operator_requests"][0]["kind"] == "create_line"
    assert {a["code"] for a in detail["possible_actions"]} >= {"terminate", "suspend", "swap_esim"}
    assert not any(a["enabled"] for a in detail["possible_actions"])  # "En cours": nothing yet (R-CON-9)


def test_api_other_partner_objects_are_404(catalog, api):
    foreign = ContractFactory()
    assert api.get(f"/api/v1/contracts/{foreign.pk}").status_code == 404
    assert api.get(f"/api/v1/orders/{foreign.order_id}").status_code == 404
    assert api.get("/api/v1/contracts").json()["count"] == 0
    assert api.get("/api/v1/orders").json()["count"] == 0


def test_api_order_for_another_partner_client_refused(catalog, api, orange_stock):
    foreign_client = ClientAccountFactory()
    response = post_order(api, body_for(foreign_client), key="x")
    assert response.status_code == 422 and response.json()["field"] == "client_id"
    assert not Order.objects.exists()


def test_openapi_schema_lists_order_and_contract_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/contracts", "/api/v1/contracts/{id}"):
        assert path in schema
    assert "Idempotency-Key" in schema
