"""Stock API (R-BO-2, R-SC-7): GET /api/v1/sims, /numbers, /esims; POST /api/v1/sims/assign, /sims/release."""

import pytest
from rest_framework.test import APIClient

from inventory.models import SimCard
from tests.factories.api import api_token
from tests.factories.inventory import EsimProfileFactory, PhoneNumberFactory, SimCardFactory, make_iccid
from tests.factories.partners import ClientAccountFactory, MembershipFactory

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


@pytest.fixture
def customer(partner):
    return ClientAccountFactory(partner=partner)


def test_stock_api_requires_a_token():
    assert APIClient().get("/api/v1/sims").status_code in (401, 403)


def test_R_BO_2_sims_list_is_scoped_and_filtered(api, partner, customer):
    mine = SimCardFactory(partner=partner, pin=None)
    assigned = SimCardFactory(
        partner=partner, client=customer, state=SimCard.State.ASSIGNED, network="bouygues"
    )
    SimCardFactory()  # another partner's
    body = api.get("/api/v1/sims").json()
    assert body["count"] == 2
    assert {r["iccid"] for r in body["results"]} == {mine.iccid, assigned.iccid}
    only = api.get(
        "/api/v1/sims", {"state": "assigned", "client_id": customer.pk, "network": "bouygues"}
    ).json()
    assert [r["iccid"] for r in only["results"]] == [assigned.iccid]
    assert only["results"][0]["client_id"] == customer.pk
    sans_pin = api.get("/api/v1/sims", {"with_pin": "false"}).json()
    assert [(r["iccid"], r["has_pin"]) for r in sans_pin["results"]] == [(mine.iccid, False)]
    assert api.get("/api/v1/sims", {"iccid": mine.iccid[:15]}).json()["count"] >= 1
    bad = api.get("/api/v1/sims", {"state": "lost"})
    assert bad.status_code == 400 and bad.json()["field"] == "state"


def test_R_SC_7_assign_by_list_then_release(api, partner, customer):
    sims = SimCardFactory.create_batch(2, partner=partner)
    response = api.post(
        "/api/v1/sims/assign", {"client_id": customer.pk, "iccids": [s.iccid for s in sims]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"assigned": 2, "skipped": 0}
    response = api.post("/api/v1/sims/release", {"iccids": [sims[0].iccid]}, format="json")
    assert response.json() == {"released": 1, "skipped": 0}
    assert SimCard.objects.get(pk=sims[0].pk).state == SimCard.State.IN_STOCK


def test_R_SC_7_assign_by_range_reports_counts(api, partner, customer):
    sims = [SimCardFactory(partner=partner, iccid=make_iccid(n, series=8)) for n in range(1, 6)]
    SimCard.objects.filter(pk=sims[2].pk).update(state=SimCard.State.IN_USE)
    response = api.post(
        "/api/v1/sims/assign",
        {"client_id": customer.pk, "first_iccid": sims[0].iccid, "last_iccid": sims[4].iccid},
        format="json",
    )
    assert response.json() == {"assigned": 4, "skipped": 1}
    response = api.post(
        "/api/v1/sims/release",
        {"client_id": customer.pk, "first_iccid": sims[0].iccid, "last_iccid": sims[1].iccid},
        format="json",
    )
    assert response.json() == {"released": 2, "skipped": 0}


def test_R_SC_7_descending_range_is_422_with_field_and_rule(api, partner, customer):
    sims = [SimCardFactory(partner=partner, iccid=make_iccid(n, series=8)) for n in range(1, 3)]
    response = api.post(
        "/api/v1/sims/assign",
        {"client_id": customer.pk, "first_iccid": sims[1].iccid, "last_iccid": sims[0].iccid},
        format="json",
    )
    assert response.status_code == 422
    body = response.json()
    assert (body["field"], body["rule"]) == ("last_iccid", "R-SC-7")
    assert "croissante" in body["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"client_id": 1},
        {"client_id": 1, "iccids": ["x"], "first_iccid": "y"},
        {"client_id": 1, "first_iccid": "y"},
    ],
)
def test_assign_payload_shape_is_400(api, payload):
    response = api.post("/api/v1/sims/assign", payload, format="json")
    assert response.status_code == 400
    assert response.json()["field"] in ("iccids", "last_iccid")


def test_R_SC_7_other_partner_client_is_404_and_other_partner_sim_is_refused(api, partner, customer):
    mine = SimCardFactory(partner=partner)
    foreign_client = ClientAccountFactory()
    response = api.post(
        "/api/v1/sims/assign", {"client_id": foreign_client.pk, "iccids": [mine.iccid]}, format="json"
    )
    assert response.status_code == 404
    assert foreign_client.company_name not in response.content.decode()
    foreign_sim = SimCardFactory()
    response = api.post(
        "/api/v1/sims/assign", {"client_id": customer.pk, "iccids": [foreign_sim.iccid]}, format="json"
    )
    assert response.status_code == 422 and response.json()["rule"] == "R-SC-7"
    foreign_assigned = SimCardFactory(client=foreign_client, state=SimCard.State.ASSIGNED)
    response = api.post("/api/v1/sims/release", {"iccids": [foreign_assigned.iccid]}, format="json")
    assert response.status_code == 422
    assert SimCard.objects.get(pk=foreign_assigned.pk).state == SimCard.State.ASSIGNED
    assert SimCard.objects.get(pk=foreign_sim.pk).state == SimCard.State.IN_STOCK
    assert api.get("/api/v1/sims", {"client_id": foreign_client.pk}).json()["count"] == 0


def test_numbers_and_esims_lists_are_scoped(api, partner):
    mine = PhoneNumberFactory(partner=partner)
    PhoneNumberFactory(partner=partner, network="orange")
    PhoneNumberFactory()
    body = api.get("/api/v1/numbers", {"network": "bouygues", "state": "available"}).json()
    assert [r["msisdn"] for r in body["results"]] == [mine.msisdn]
    profile = EsimProfileFactory(partner=partner)
    EsimProfileFactory()
    esims = api.get("/api/v1/esims").json()["results"]
    assert [(r["iccid"], r["activation_code"]) for r in esims] == [(profile.iccid, profile.activation_code)]


def test_stock_endpoints_are_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    for path in (
        "/api/v1/sims",
        "/api/v1/sims/assign",
        "/api/v1/sims/release",
        "/api/v1/numbers",
        "/api/v1/esims",
    ):
        assert f"{path}:" in schema or f'"{path}"' in schema
