"""``POST|GET /api/v1/contracts/{id}/topups`` and ``POST /api/v1/contracts/{id}/data-threshold``
(``api.contract_actions``): a top-up ordered through the API (201, Idempotency-Key replay = one top-up), refusals
as 422 ``{message, field, rule}`` (R-CAT-10, R-PRV-5 with ``confirm_repeat``), the list with a query budget
(STYLE 29), the compteur threshold (R-CAT-7/8), another partner's line = 404."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from rest_framework.test import APIClient

from catalog.models import Offer
from contracts import topups
from contracts.models import Contract, ContractTopup, OperatorRequest
from contracts.services import LineSpec, order_place
from core.money import GB
from core.operator_kinds import RequestKind
from tests.contracts.test_lifecycle_support import TUESDAY_10H, lifecycle_settings, live_line, sweep
from tests.factories.api import api_token
from tests.factories.partners import MembershipFactory
from tests.provisioning.test_dispatch_support import Stock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lifecycle(settings, time_machine):
    lifecycle_settings(settings)
    time_machine.move_to(TUESDAY_10H, tick=False)


@pytest.fixture
def stock():
    return Stock()


@pytest.fixture
def api(stock):
    user = MembershipFactory(partner=stock.partner).user
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def post(api: APIClient, contract: Contract, path: str, data: dict, key: str | None = None):
    return api.post(
        f"/api/v1/contracts/{contract.pk}/{path}",
        data,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


def test_R_CAT_10_topup_through_the_api_and_idempotent_replay(api, stock):
    contract = live_line(stock)
    response = post(api, contract, "topups", {"volume_bytes": 5 * GB}, key="topup-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["volume_bytes"] == 5 * GB and body["state"] == "pending" and body["state_label"] == "En cours"
    assert body["price_ht"] is None and body["source"] == "api" and body["month"] is None
    assert body["operator_request"]["kind"] == "topup" and body["contract_id"] == contract.pk

    replay = post(api, contract, "topups", {"volume_bytes": 5 * GB}, key="topup-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == body
    assert ContractTopup.objects.filter(contract=contract).count() == 1
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.TOPUP).count() == 1

    sweep()
    listed = api.get(f"/api/v1/contracts/{contract.pk}/topups").json()
    assert listed["count"] == 1
    assert listed["results"][0]["state"] == "confirmed" and listed["results"][0]["month"] == "2027-03-01"


def test_R_PRV_5_second_topup_through_the_api_needs_confirm_repeat(api, stock, time_machine):
    contract = live_line(stock)
    assert post(api, contract, "topups", {"volume_bytes": GB}).status_code == 201
    time_machine.move_to(TUESDAY_10H + dt.timedelta(minutes=10), tick=False)

    refused = post(api, contract, "topups", {"volume_bytes": GB})
    assert refused.status_code == 422
    assert refused.json()["rule"] == "R-PRV-5" and refused.json()["field"] == "confirm_repeat"
    assert refused.json()["message"].startswith("Une recharge a été commandée il y a moins de 30 minutes")

    assert post(api, contract, "topups", {"volume_bytes": GB, "confirm_repeat": True}).status_code == 201
    assert ContractTopup.objects.filter(contract=contract).count() == 2


def test_R_CAT_10_refused_volume_is_422_and_bad_input_400(api, stock):
    contract = live_line(stock, "bouygues")  # BY-ILL-10G-B: blocked, every Illimité volume…
    refused = post(api, contract, "topups", {"volume_bytes": 20 * GB})  # …but 20 Go is a Data only volume
    assert refused.status_code == 422 and refused.json()["rule"] == "R-CAT-10"
    assert refused.json()["field"] == "volume_bytes"
    assert post(api, contract, "topups", {"volume_bytes": "beaucoup"}).status_code == 400
    assert not ContractTopup.objects.exists()


def test_STYLE_29_topups_list_query_budget(api, stock, django_assert_max_num_queries):
    contract = live_line(stock)
    for volume in (1, 5, 10, 30, 50, 100):
        topups.contract_topup(contract=contract, volume_bytes=volume * GB, source="api", confirm_repeat=True)
    sweep()
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/v1/contracts/{contract.pk}/topups")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert [t["volume_bytes"] for t in body["results"]] == [
        v * GB for v in (100, 50, 30, 10, 5, 1)
    ]  # newest first
    assert all(t["operator_request"]["state"] == "completed" for t in body["results"])


def test_R_CAT_7_data_threshold_through_the_api(api, stock):
    order = order_place(
        partner=stock.partner,
        client=stock.client,
        created_by=None,
        offer=Offer.objects.get(code="BY-CPT"),
        quantity=1,
        lines=[LineSpec(user_name="Compteur")],
    )
    sweep()
    contract = order.contracts.get()
    response = post(api, contract, "data-threshold", {"threshold_bytes": 10 * GB})
    assert response.status_code == 200, response.content
    assert response.json()["contract"]["data_threshold_bytes"] == 10 * GB

    too_big = post(api, contract, "data-threshold", {"threshold_bytes": 101 * GB})
    assert too_big.status_code == 422 and too_big.json()["rule"] == "R-CAT-7"
    removed = post(api, contract, "data-threshold", {"threshold_bytes": None})
    assert removed.status_code == 200 and removed.json()["contract"]["data_threshold_bytes"] is None

    plan = live_line(stock)
    refused = post(api, plan, "data-threshold", {"threshold_bytes": 10 * GB})
    assert refused.status_code == 422 and refused.json()["rule"] == "R-CAT-7"


def test_contract_detail_shows_open_blocks_and_the_topup_action(api, stock):
    from contracts import datablocks

    contract = live_line(stock)
    datablocks.contract_data_block(
        contract_id=contract.pk, scope="data", rule="R-ALR-1", reason="enveloppe atteinte"
    )
    detail = api.get(f"/api/v1/contracts/{contract.pk}").json()
    assert detail["data_blocks"] == [
        {
            "scope": "data",
            "zone": "",
            "label": "Data bloquée (France et Europe, enveloppe atteinte)",
            "reason": "enveloppe atteinte",
            "rule": "R-ALR-1",
            "blocked_at": detail["data_blocks"][0]["blocked_at"],
            "lift_at": None,
        }
    ]
    action = next(a for a in detail["possible_actions"] if a["code"] == "topup")
    assert action["enabled"] and action["label"] == "Recharge data"


def test_other_partner_topups_and_threshold_are_404(api, stock):
    theirs = live_line(Stock(base=600))
    assert api.get(f"/api/v1/contracts/{theirs.pk}/topups").status_code == 404
    assert post(api, theirs, "topups", {"volume_bytes": GB}).status_code == 404
    assert post(api, theirs, "data-threshold", {"threshold_bytes": 10 * GB}).status_code == 404
    assert not ContractTopup.objects.filter(contract=theirs).exists()
