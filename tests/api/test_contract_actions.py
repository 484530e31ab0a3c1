"""``POST /api/v1/contracts/{id}/<action>`` (``api.contract_actions``): each lifecycle action through the API, from
a line activated the real way to the operator's confirmation; Idempotency-Key (required, replay = one operator
request, reuse with another body = 422); refusals = 422 ``{message, field, rule}``; another partner's contract or
option = 404. R-CON-1/5/6/7/9, R-OPT-2/3/4/8, R-ORD-5."""

from __future__ import annotations

import uuid

import pytest
import yaml
from rest_framework.test import APIClient

from contracts import outcomes
from contracts.models import Contract, ContractOption, OperatorRequest, ScheduledChange
from core.operator_kinds import RequestKind
from inventory.models import SimCard
from tests.contracts.test_lifecycle_support import (
    TUESDAY_10H,
    last_request,
    lifecycle_settings,
    live_line,
    order_line,
    spare_sim,
    sweep,
)
from tests.factories.api import api_token
from tests.factories.partners import MembershipFactory
from tests.provisioning.test_dispatch_support import Stock

pytestmark = pytest.mark.django_db

State = Contract.State


@pytest.fixture(autouse=True)
def _lifecycle(settings, time_machine):
    lifecycle_settings(settings)
    time_machine.move_to(TUESDAY_10H, tick=False)


@pytest.fixture
def stock():
    return Stock()


def _api(partner) -> APIClient:
    user = MembershipFactory(partner=partner).user
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return api


@pytest.fixture
def api(stock):
    return _api(stock.partner)


def post(api: APIClient, contract: Contract, action: str, data: dict | None = None, key: str | None = None):
    return api.post(
        f"/api/v1/contracts/{contract.pk}/{action}",
        data or {},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


def test_R_CON_5_suspend_and_resume_through_the_api(api, stock):
    contract = live_line(stock)
    response = post(api, contract, "suspend")
    assert response.status_code == 202, response.content
    body = response.json()
    assert "la facturation continue" in body["message"]
    assert body["operator_request"]["kind"] == "suspend" and body["contract"]["state"] == "active"
    sweep()
    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["state"] == "suspended"

    refused = post(api, contract, "suspend")  # a suspended line
    assert refused.status_code == 422
    assert refused.json() == {"message": "La ligne est déjà suspendue.", "field": "state", "rule": "R-CON-5"}

    assert post(api, contract, "resume").status_code == 202
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE


def test_R_CON_6_terminate_through_the_api_then_twice_refused(api, stock):
    contract = live_line(stock)
    response = post(api, contract, "terminate")
    assert response.status_code == 202
    assert response.json()["contract"]["state"] == "terminating"
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.TERMINATED and contract.sim.state == SimCard.State.RETIRED
    again = post(api, contract, "terminate")
    assert again.status_code == 422 and again.json()["rule"] == "R-CON-6"


def test_R_ORD_5_sim_swap_through_the_api(api, stock):
    contract = live_line(stock)
    new_sim = spare_sim(stock)
    response = post(api, contract, "sim-swap", {"target": "sim", "iccid": new_sim.iccid})
    assert response.status_code == 202, response.content
    assert response.json()["operator_request"]["kind"] == "swap_sim"
    sweep()
    contract.refresh_from_db()
    assert contract.sim_id == new_sim.pk


def test_R_ORD_5_sim_swap_refusals_through_the_api(api, stock):
    orange = live_line(stock)
    bouygues = live_line(stock, "bouygues")
    esim = post(
        api,
        bouygues,
        "sim-swap",
        {"target": "esim", "contact_email": "a@example.fr", "contact_mobile": "0611223344"},
    )
    assert esim.status_code == 422 and esim.json()["rule"] == "R-OPT-2"
    foreign = spare_sim(Stock(base=700))
    other = post(api, orange, "sim-swap", {"iccid": foreign.iccid})
    assert other.status_code == 422 and other.json()["field"] == "iccid" and other.json()["rule"] == "R-ORD-5"
    no_email = post(api, orange, "sim-swap", {"target": "esim", "contact_mobile": "0611223344"})
    assert no_email.status_code == 422 and no_email.json()["field"] == "contact_email"
    bad = post(api, orange, "sim-swap", {"target": "nfc"})
    assert bad.status_code == 400 and bad.json()["field"] == "target"


def test_R_OPT_8_option_add_terminate_and_never_suspend_through_the_api(api, stock):
    contract = live_line(stock, "bouygues")
    added = post(api, contract, "options", {"option": "fixed_ip"})
    assert added.status_code == 202, added.content
    sweep()
    option = ContractOption.objects.get(contract=contract, code="fixed_ip")
    assert option.status == ContractOption.Status.ACTIVE

    suspended = post(api, contract, f"options/{option.pk}/suspend")
    assert suspended.status_code == 422
    assert (
        suspended.json()["rule"] == "R-OPT-8" and "ne peut pas être suspendue" in suspended.json()["message"]
    )

    ended = post(api, contract, f"options/{option.pk}/terminate")
    assert ended.status_code == 202
    sweep()
    option.refresh_from_db()
    assert option.status == ContractOption.Status.TERMINATED  # Bouygues: at once (R-OPT-3)

    not_eligible = post(api, live_line(stock, "orange_nb"), "options", {"option": "fixed_ip"})
    assert not_eligible.status_code == 422 and not_eligible.json()["rule"] == "R-OPT-3"


def test_R_OPT_4_roaming_change_through_the_api(api, stock):
    contract = live_line(stock)
    response = post(api, contract, "roaming", {"zone": "usa_canada", "choice": "OR-ROA-ILL-USCA-OPT-5G"})
    assert response.status_code == 202, response.content
    sweep()
    codes = {o["code"]: o["status"] for o in api.get(f"/api/v1/contracts/{contract.pk}").json()["options"]}
    assert codes["OR-ROA-ILL-USCA-OPT-5G"] == "active" and codes["OR-ROA-ILL-USCA-CUT-0"] == "terminated"
    europe = post(api, contract, "roaming", {"zone": "europe", "choice": "OR-ROA-ILL-USCA-OPT-5G"})
    assert europe.status_code == 422 and europe.json()["rule"] == "R-ROA-3"


def test_R_CON_1_offer_change_and_cancel_through_the_api(api, stock):
    contract = live_line(stock)
    response = post(api, contract, "offer-change", {"offer": "OR-ILL-30G-B"})
    assert response.status_code == 201, response.content
    change = response.json()["scheduled_change"]
    assert change["kind"] == "upgrade" and change["to_offer"] == "OR-ILL-30G-B"
    assert change["effective_at"].startswith("2027-03-31T22:00:00") or change["effective_at"].startswith(
        "2027-04-01T00:00:00"
    )
    cancel = post(api, contract, "offer-change/cancel")
    assert cancel.status_code == 200 and cancel.json()["scheduled_change"]["state"] == "cancelled"
    assert ScheduledChange.objects.get(pk=change["id"]).state == ScheduledChange.State.CANCELLED
    refused = post(api, contract, "offer-change", {"offer": "OR-DATA-20G-B"})
    assert refused.status_code == 422 and refused.json()["rule"] == "R-CON-3"


def test_R_CON_7_retry_through_the_api(api, stock):
    contract = order_line(stock)
    outcomes.operator_request_failed(request_id=last_request(contract).pk, error="Panne", final=True)
    response = post(api, contract, "retry")
    assert response.status_code == 202 and response.json()["contract"]["state"] == "pending"
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE
    assert post(api, contract, "retry").status_code == 422


# --- Idempotency-Key ------------------------------------------------------------------------------------


def test_idempotent_replay_of_an_action_makes_one_operator_request(api, stock):
    contract = live_line(stock)
    first = post(api, contract, "suspend", key="suspend-1")
    replay = post(api, contract, "suspend", key="suspend-1")
    assert first.status_code == replay.status_code == 202
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SUSPEND).count() == 1
    reused = post(api, contract, "resume", key="suspend-1")  # same key, another request
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"


def test_idempotency_key_is_required(api, stock):
    contract = live_line(stock)
    response = api.post(f"/api/v1/contracts/{contract.pk}/suspend", {}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "Idempotency-Key"
    assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SUSPEND).exists()


# --- tenancy --------------------------------------------------------------------------------------------

ACTIONS = [
    ("suspend", {}),
    ("resume", {}),
    ("terminate", {}),
    ("sim-swap", {"iccid": ""}),
    ("options", {"option": "fixed_ip"}),
    ("roaming", {"zone": "usa_canada", "choice": "OR-ROA-ILL-USCA-OPT-5G"}),
    ("offer-change", {"offer": "OR-ILL-30G-B"}),
    ("offer-change/cancel", {}),
    ("retry", {}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS, ids=[a for a, _d in ACTIONS])
def test_other_partner_contract_is_404_on_every_action(stock, action, data):
    theirs = live_line(stock)
    intruder = _api(Stock(base=900).partner)
    response = post(intruder, theirs, action, data)
    assert response.status_code == 404
    assert theirs.number not in response.content.decode()
    assert OperatorRequest.objects.filter(contract=theirs).count() == 1  # only its creation


@pytest.mark.parametrize("what", ["terminate", "suspend"])
def test_other_partner_option_is_404(stock, what):
    theirs = live_line(stock, "bouygues", option_codes=["fixed_ip"])
    option = ContractOption.objects.get(contract=theirs, code="fixed_ip")
    mine = live_line(Stock(base=800), "bouygues")
    intruder = _api(mine.partner)
    assert post(intruder, theirs, f"options/{option.pk}/{what}").status_code == 404
    assert post(intruder, mine, f"options/{option.pk}/{what}").status_code == 404  # not an option of mine


def test_schema_documents_every_action(client):
    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    for action, _data in ACTIONS:
        operation = paths[f"/api/v1/contracts/{{id}}/{action}"]["post"]
        assert {"404", "422"} <= set(operation["responses"])
        assert any(p["name"] == "Idempotency-Key" and p["required"] for p in operation["parameters"])
    assert "/api/v1/contracts/{id}/options/{option_id}/terminate" in paths
    assert "/api/v1/contracts/{id}/options/{option_id}/suspend" in paths
