"""R-SC-5 through the API: ``GET /api/v1/contracts/{id}/usage`` (month totals) and
``GET /api/v1/contracts/{id}/consumptions`` (the journal, cursor-paginated); partner scoping and query budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml
from rest_framework.test import APIClient

from core.money import GB, MB
from tests.factories.api import api_token
from tests.factories.contracts import ContractFactory
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory
from tests.factories.usage import CdrFactory, UsageCounterFactory, add_cdrs, paris_time, topup
from usage.models import Category, Metric, UsageZone

pytestmark = pytest.mark.django_db

NOW = paris_time(2024, 3, 15, 10)
FEBRUARY, MARCH = dt.date(2024, 2, 1), dt.date(2024, 3, 1)


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def partner():
    return PartnerFactory(name="Telcom API")


@pytest.fixture
def contract(partner):
    client = ClientAccountFactory(partner=partner)
    return ContractFactory(order__client=client, state="active", msisdn="0699887766")


def _api(partner) -> APIClient:
    api = APIClient()
    user = MembershipFactory(partner=partner).user
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return api


@pytest.fixture
def api(partner):
    return _api(partner)


def _usage(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/usage"


def _consumptions(contract) -> str:
    return f"/api/v1/contracts/{contract.pk}/consumptions"


# --------------------------------------------------------------------------------------------------------
# Totals
# --------------------------------------------------------------------------------------------------------


def test_R_SC_5_month_totals_with_explicit_units(api, contract):
    c = {"contract": contract, "month": FEBRUARY}
    UsageCounterFactory(**c, metric=Metric.DATA, quantity=12 * GB)
    UsageCounterFactory(
        **c,
        metric=Metric.ROAMING_DATA,
        zone=UsageZone.MAGHREB_TURQUIE,
        quantity=200 * MB,
        oop_quantity=200 * MB,
        amount_ht=Decimal("4.5000"),
    )
    UsageCounterFactory(**c, metric=Metric.VOICE, quantity=3000, oop_quantity=60, amount_ht=Decimal("0.25"))
    UsageCounterFactory(
        **c, metric=Metric.VOICE_SVA, quantity=200, oop_quantity=50, amount_ht=Decimal("0.80")
    )
    UsageCounterFactory(**c, metric=Metric.SMS_MMS, quantity=7, oop_quantity=1, unpriced_quantity=1)
    topup(contract, 5 * GB, month=FEBRUARY)

    response = api.get(_usage(contract), {"month": "2024-02"})

    assert response.status_code == 200
    assert response.json() == {
        "month": "2024-02",
        "data": {
            "used_bytes": 12 * GB,
            "envelope_bytes": 10 * GB,
            "topup_bytes": 5 * GB,
            "topup_used_bytes": 2 * GB,
            "out_of_plan_bytes": 200 * MB,
        },
        "roaming": [
            {
                "zone": "maghreb_turquie",
                "zone_label": "Maghreb/Turquie",
                "used_bytes": 200 * MB,
                "out_of_plan_bytes": 200 * MB,
                "amount_ht": "4.5000",
                "unpriced": False,
            }
        ],
        "voice": {"used_seconds": 3000, "out_of_plan_seconds": 60},
        "premium": {"not_billable_seconds": 150, "billed_seconds": 50},
        "sms_mms": {"used_count": 7, "out_of_plan_count": 1},
        "amount_ht": "5.5500",
        "unpriced": True,
    }


def test_R_SC_5_totals_default_to_the_current_month(api, contract):
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.VOICE, quantity=42)
    UsageCounterFactory(contract=contract, month=FEBRUARY, metric=Metric.VOICE, quantity=1000)
    body = api.get(_usage(contract)).json()
    assert body["month"] == "2024-03"
    assert body["voice"] == {"used_seconds": 42, "out_of_plan_seconds": 0}


@pytest.mark.parametrize("month", ["2023-12", "2024-04", "2022-03"])
def test_R_SC_5_totals_refuse_a_month_outside_the_last_3(api, contract, month):
    response = api.get(_usage(contract), {"month": month})
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "month"
    assert body["message"] == "Mois hors des 3 derniers mois : choisissez 2024-03, 2024-02, 2024-01."


@pytest.mark.parametrize("month", ["2024-2", "févr", "2024-13"])
def test_totals_refuse_a_malformed_month_in_french(api, contract, month):
    response = api.get(_usage(contract), {"month": month})
    assert response.status_code == 400
    assert response.json()["message"] == "Mois attendu au format AAAA-MM (ex. 2024-02)."


# --------------------------------------------------------------------------------------------------------
# Journal
# --------------------------------------------------------------------------------------------------------


def test_R_SC_5_consumptions_as_json(api, contract):
    add_cdrs(
        contract,
        [
            dict(
                destination="0612345678",
                label="Appel",
                quantity=125,
                event_at=paris_time(2024, 3, 2, 8),
                rule="R-ROA-1",
            ),
            dict(
                category=Category.DATA,
                usage_zone=UsageZone.USA_CANADA,
                label="Session data en itinérance USA/Canada",
                quantity=5 * MB,
                oop_quantity=5 * MB,
                amount_ht=Decimal("2.5"),
                event_at=paris_time(2024, 3, 3, 8),
            ),
            dict(category=Category.DATA, quantity=50 * MB, event_at=paris_time(2024, 3, 4, 8)),  # in plan
        ],
    )
    body = api.get(_consumptions(contract)).json()
    assert body["next"] is None and body["previous"] is None
    data, call = body["results"]
    assert data["category"] == "data" and data["unit"] == "bytes"
    assert (data["quantity"], data["out_of_plan_quantity"], data["out_of_plan"]) == (5 * MB, 5 * MB, True)
    assert (data["amount_ht"], data["usage_zone"], data["number"]) == ("2.5000", "usa_canada", "")
    assert call == {
        "id": call["id"],
        "event_at": "2024-03-02T08:00:00+01:00",
        "category": "voice",
        "number": "0612345678",
        "label": "Appel",
        "destination_zone": "france",
        "country": "",
        "usage_zone": "france",
        "quantity": 125,
        "unit": "seconds",
        "out_of_plan": False,
        "out_of_plan_quantity": 0,
        "amount_ht": None,
        "unpriced": False,
    }
    assert "rule" not in call


@pytest.fixture
def mixed(contract):
    rows = {
        "call": dict(destination="0612345678", label="Appel", event_at=paris_time(2024, 1, 1, 0, 0)),
        "sva": dict(
            category=Category.VOICE_SVA,
            destination="0899123456",
            label="Appel vers numéro spécial (SVA)",
            oop_quantity=60,
            amount_ht=Decimal("0.8"),
            event_at=paris_time(2024, 2, 10),
        ),
        "sms": dict(
            category=Category.SMS_MMS,
            destination="+34611223344",
            dest_zone=UsageZone.ZONE1,
            country="ESP",
            label="SMS vers l'Europe",
            event_at=paris_time(2024, 2, 29, 23, 59, 59),
        ),
        "data": dict(
            category=Category.DATA,
            usage_zone=UsageZone.RESTE_DU_MONDE,
            oop_quantity=10**6,
            label="Session data en itinérance Reste du monde",
            event_at=paris_time(2024, 3, 14),
        ),
        "old": dict(destination="0612345678", event_at=paris_time(2023, 12, 31, 23, 59)),
    }
    return dict(zip(rows, add_cdrs(contract, list(rows.values())), strict=True))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["data", "sms", "sva", "call"]),
        ({"tab": "all"}, ["data", "sms", "sva", "call"]),
        ({"tab": "voice"}, ["call"]),
        ({"tab": "voice_sva"}, ["sva"]),
        ({"tab": "sms_mms"}, ["sms"]),
        ({"tab": "data"}, ["data"]),
        ({"number": "+33 6 12 34 56 78"}, ["call"]),
        ({"number": "+34 611"}, ["sms"]),
        ({"label": "spécial"}, ["sva"]),
        ({"destination": "zone1"}, ["sms"]),
        ({"destination": "ESP"}, ["sms"]),
        ({"destination": "reste_du_monde"}, ["data"]),
        ({"from": "2024-02-29", "to": "2024-02-29"}, ["sms"]),
        ({"to": "2024-01-01"}, ["call"]),
        ({"out_of_plan": "true"}, ["data", "sva"]),
        ({"out_of_plan": "false"}, ["sms", "call"]),
    ],
)
def test_R_SC_5_consumptions_tabs_and_filters(api, contract, mixed, params, expected):
    response = api.get(_consumptions(contract), params)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [mixed[k].pk for k in expected]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tab": "roaming"}, "tab"),
        ({"from": "hier"}, "from"),
        ({"from": "2024-03-02", "to": "2024-03-01"}, "to"),
    ],
)
def test_consumption_filters_refuse_bad_input(api, contract, params, field):
    response = api.get(_consumptions(contract), params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_R_SC_5_cursor_pagination_walks_every_record_exactly_once(
    api, contract, django_assert_max_num_queries
):
    # 130 records, many sharing the same time (ties broken by id), over the 3 months.
    times = [paris_time(2024, 1 + i % 3, 1 + i % 14, 12) for i in range(130)]
    created = add_cdrs(contract, [dict(event_at=t, destination=f"06{i:08d}") for i, t in enumerate(times)])
    expected = [c.pk for c in sorted(created, key=lambda c: (c.event_at, c.pk), reverse=True)]

    seen, pages, url = [], 0, _consumptions(contract) + "?page_size=50"
    while url:
        with django_assert_max_num_queries(6):
            body = api.get(url).json()
        seen += [r["id"] for r in body["results"]]
        pages += 1
        url = body["next"]
    assert pages == 3
    assert seen == expected  # every record once, newest first

    # Inserting a newer record while walking does not shift the pages already read.
    first = api.get(_consumptions(contract), {"page_size": 50}).json()
    CdrFactory(contract=contract, event_at=paris_time(2024, 3, 15, 9))
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == expected[50:100]


def test_consumptions_page_size_defaults_to_50_and_caps_at_200(api, contract):
    add_cdrs(contract, [dict(event_at=paris_time(2024, 3, 1) + dt.timedelta(seconds=i)) for i in range(210)])
    assert len(api.get(_consumptions(contract)).json()["results"]) == 50
    assert len(api.get(_consumptions(contract), {"page_size": 500}).json()["results"]) == 200


def test_consumptions_query_budget_does_not_grow_with_rows(api, contract, django_assert_max_num_queries):
    add_cdrs(contract, [dict(event_at=paris_time(2024, 3, 1) + dt.timedelta(minutes=i)) for i in range(5)])
    with django_assert_max_num_queries(5) as few:
        api.get(_consumptions(contract))
    add_cdrs(contract, [dict(event_at=paris_time(2024, 2, 1) + dt.timedelta(minutes=i)) for i in range(80)])
    with django_assert_max_num_queries(5) as many:
        api.get(_consumptions(contract))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_usage_query_budget(api, contract, django_assert_max_num_queries):
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.VOICE, quantity=42)
    # token + user, membership, partner, contract, counters (one query), top-ups of the month
    with django_assert_max_num_queries(6):
        assert api.get(_usage(contract)).status_code == 200


# --------------------------------------------------------------------------------------------------------
# Scoping and schema
# --------------------------------------------------------------------------------------------------------


def test_R_SC_5_other_partner_gets_404_on_both_endpoints(contract):
    CdrFactory(contract=contract, label="Secret-B", event_at=paris_time(2024, 3, 2))
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.VOICE, quantity=4242)
    intruder = _api(PartnerFactory(name="Autre"))
    for url in (_usage(contract), _consumptions(contract)):
        response = intruder.get(url)
        assert response.status_code == 404
        assert "Secret-B" not in response.content.decode() and "4242" not in response.content.decode()


def test_schema_documents_both_endpoints(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    usage = schema["paths"]["/api/v1/contracts/{id}/usage"]["get"]
    consumptions = schema["paths"]["/api/v1/contracts/{id}/consumptions"]["get"]
    assert {p["name"] for p in usage["parameters"]} == {"id", "month"}
    assert {p["name"] for p in consumptions["parameters"]} >= {
        "tab",
        "number",
        "label",
        "destination",
        "from",
        "to",
        "out_of_plan",
        "cursor",
    }
    assert {"200", "400", "404"} <= set(usage["responses"]) & set(consumptions["responses"])
    page = schema["components"]["schemas"]["PaginatedConsumptionList"]["properties"]
    assert {"next", "previous", "results"} <= set(page)
