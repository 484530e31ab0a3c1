"""Bad input never gives a 500 (issue 10 item 3): a NUL character in any query parameter of any page or API
list is refused with a 400 naming the parameter, on every door."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.factories.api import api_token
from tests.factories.partners import MembershipFactory, PartnerFactory


def _parameterless_routes(urlconf: str) -> list[str]:
    """Every URL of ``urlconf`` that takes no argument (list pages, forms, API collections)."""
    out: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                if "<" not in route and "(" not in route and "^" not in route:
                    out.append("/" + route.lstrip("/"))

    walk(get_resolver(urlconf).url_patterns, "")
    return sorted(set(out))


BACKOFFICE_ROUTES = [
    r for r in _parameterless_routes("alphalink.urls") if not r.startswith(("/api/", "/admin/"))
]
API_ROUTES = [r for r in _parameterless_routes("alphalink.urls") if r.startswith("/api/v1/")]


@pytest.fixture
def staff(db):
    return MembershipFactory(partner=PartnerFactory()).user


@pytest.mark.parametrize("path", BACKOFFICE_ROUTES)
def test_nul_in_a_query_parameter_of_a_backoffice_page_is_a_400_naming_it(client, staff, path):
    client.force_login(staff)
    response = client.get(path, {"search": "abc\x00def", "page": "1"})
    assert response.status_code == 400
    assert "« search »" in response.content.decode()


@pytest.mark.parametrize("path", API_ROUTES)
def test_nul_in_a_query_parameter_of_the_api_is_a_400_naming_it(staff, path):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(staff)}")
    response = api.get(path, {"q": "\x00"})
    assert response.status_code == 400
    assert response.json()["field"] == "q"


def test_nul_on_a_selfcare_page_is_a_400(client, settings):
    response = client.get("/parc/", {"statut": "\x00"}, HTTP_HOST=f"demo.{settings.SELFCARE_DOMAIN}")
    assert response.status_code == 400


def test_a_search_without_nul_still_works(client, staff):
    client.force_login(staff)
    assert client.get("/clients/", {"search": "dupont"}).status_code == 200


# --- the API: body, path, filters and pagination ------------------------------------------------------------

HUGE = "99999999999999999999"  # 20 digits: beyond PostgreSQL's bigint


@pytest.fixture
def partner_api(db):
    from core.networks import Network
    from tests.factories.catalog import load_test_catalog
    from tests.factories.contracts import add_stock
    from tests.factories.partners import ClientAccountFactory

    load_test_catalog()
    partner = PartnerFactory()
    user = MembershipFactory(partner=partner).user
    client_account = ClientAccountFactory(partner=partner)
    add_stock(partner, Network.ORANGE, sims=3, numbers=3)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    api.client_account = client_account
    return api


@pytest.fixture(autouse=True)
def _no_dispatcher_wakeup(settings):
    settings.PROVISIONING_WAKE_ON_ORDER = False


def _order(api, body, *, content_type="application/json", raw=None, key="k-1"):
    import json

    payload = raw if raw is not None else json.dumps(body)
    return api.post("/api/v1/orders", payload, content_type=content_type, HTTP_IDEMPOTENCY_KEY=key)


def _body(api, **extra):
    return {"client_id": api.client_account.pk, "offer": "OR-ILL-10G-B", "quantity": 1, **extra}


def test_deeply_nested_json_is_a_400_not_a_recursion_error(partner_api):
    response = _order(partner_api, None, raw='{"lines": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert response.status_code == 400
    assert "imbrication" in response.json()["message"]


def test_json_nested_beyond_the_limit_is_refused_even_when_python_could_parse_it(partner_api):
    response = _order(partner_api, None, raw='{"roaming": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ('{"client_id": 1,', "application/json", 400),  # malformed JSON
        ("client_id=1&offer=X", "text/plain", 415),  # an unsupported type
        ("\xff\xfe", "application/json", 400),  # not UTF-8
    ],
)
def test_malformed_or_wrongly_typed_bodies_are_a_4xx(partner_api, raw, content_type, expected):
    response = _order(partner_api, None, raw=raw, content_type=content_type)
    assert response.status_code == expected
    assert response.json()["message"]


@pytest.mark.parametrize("fmt", ["multipart", None])
def test_form_data_on_the_orders_endpoint_is_a_415(partner_api, fmt):
    body = {"client_id": partner_api.client_account.pk, "offer": "OR-ILL-10G-B", "quantity": "1"}
    if fmt is None:
        response = _order(
            partner_api, None, raw="client_id=1&offer=X", content_type="application/x-www-form-urlencoded"
        )
    else:
        response = partner_api.post("/api/v1/orders", body, format=fmt, HTTP_IDEMPOTENCY_KEY="form")
    assert response.status_code == 415
    assert response.json()["message"]


def test_a_roaming_zone_with_nul_is_refused_naming_the_field(partner_api):
    response = _order(partner_api, _body(partner_api, roaming={"europe\x00": "x"}))
    assert response.status_code in (400, 422)
    assert response.json()["field"].startswith("roaming")


@pytest.mark.parametrize(
    "extra",
    [
        {"offer": "OR\x00ILL"},
        {"options": ["A\x00"]},
        {"roaming": {"europe": "x\x00"}},
        {"lines": [{"user_name": "Ma\x00rie"}]},
    ],
)
def test_nul_inside_a_json_string_is_a_400(partner_api, extra):
    response = _order(partner_api, _body(partner_api, **extra))
    assert response.status_code == 400, response.content


def test_nul_in_the_idempotency_key_is_a_400(partner_api):
    response = _order(partner_api, _body(partner_api), key="k\x00")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"offer": "X" * 10_000}, "offer"),
        ({"lines": [{"user_name": "X" * 10_000}]}, "lines"),
        ({"options": ["X" * 10_000]}, "options"),
        ({"roaming": {"X" * 10_000: "x"}}, "roaming"),
    ],
)
def test_over_long_strings_are_refused_naming_the_field(partner_api, extra, field):
    response = _order(partner_api, _body(partner_api, **extra))
    assert response.status_code in (400, 422), response.content
    assert response.json()["field"].startswith(field)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"client_id": int(HUGE)}, "client_id"),
        ({"quantity": int(HUGE)}, "quantity"),
        ({"lines": [{"site_id": int(HUGE)}]}, "lines"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"client_id": -1}, "client_id"),
    ],
)
def test_huge_zero_or_negative_numbers_in_the_body_are_refused_naming_the_field(partner_api, extra, field):
    response = _order(partner_api, _body(partner_api, **extra))
    assert response.status_code in (400, 422), response.content
    assert (response.json()["field"] or "").startswith(field)


@pytest.mark.parametrize("when", ["2100-01-01", "9999-12-31"])
def test_R_ORD_2_activation_beyond_a_year_is_refused_naming_the_field(partner_api, when):
    response = _order(partner_api, _body(partner_api, activation_date=when))
    assert response.status_code == 422, response.content
    assert response.json()["field"] == "activation_date"
    assert "activation" in response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/orders?client={HUGE}",
        f"/api/v1/contracts?client={HUGE}&order={HUGE}",
        f"/api/v1/contracts?client=-{HUGE}",
        f"/api/v1/sims?client_id={HUGE}",
        f"/api/v1/esims?client_id={HUGE}",
        f"/api/v1/numbers?client_id={HUGE}",
        f"/api/v1/orders/{HUGE}",
        f"/api/v1/contracts/{HUGE}",
        f"/api/v1/clients/{HUGE}",
        f"/api/v1/invoices/{HUGE}",
        f"/api/v1/contracts/{HUGE}/usage",
        f"/api/v1/contracts?number={'9' * 10_000}",
        f"/api/v1/clients?search={'%_' * 5_000}",
    ],
)
def test_huge_integers_and_long_strings_in_filters_and_paths_are_never_a_500(partner_api, path):
    response = partner_api.get(path)
    assert response.status_code in (200, 400, 404), response.content


@pytest.mark.parametrize(
    ("query", "field"),
    [("page=abc", "page"), (f"page={HUGE}", "page"), ("page=0", "page"), ("page_size=-1", "page_size")],
)
def test_bad_pagination_is_a_400_naming_the_parameter(partner_api, query, field):
    response = partner_api.get(f"/api/v1/clients?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field


def test_a_valid_page_size_is_honoured(partner_api):
    response = partner_api.get("/api/v1/numbers?page_size=2")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


def test_huge_client_id_in_a_stock_assignment_is_a_404(partner_api):
    response = partner_api.post(
        "/api/v1/sims/assign", {"client_id": int(HUGE), "iccids": ["1"]}, format="json"
    )
    assert response.status_code in (400, 404, 422), response.content
