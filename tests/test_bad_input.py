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
