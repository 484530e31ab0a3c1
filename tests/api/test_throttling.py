"""API throttles (issue 10 item 2): per IP for anonymous calls, per user (the token's owner) for authenticated
ones; beyond the rate a 429 with a French message and Retry-After."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.factories.api import api_token
from tests.factories.partners import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(monkeypatch):
    # DRF binds the rates dict at import; patch its entries (settings overrides would not reach it).
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "4/minute")


def test_settings_throttle_every_api_call(settings):
    classes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert "rest_framework.throttling.UserRateThrottle" in classes
    assert "rest_framework.throttling.AnonRateThrottle" in classes


def test_anonymous_calls_are_throttled_per_ip(rates):
    api = APIClient()
    for _ in range(3):
        assert api.post("/api/v1/auth/token", {"username": "x", "password": "y"}).status_code == 400
    refused = api.post("/api/v1/auth/token", {"username": "x", "password": "y"})
    assert refused.status_code == 429
    assert refused.json()["message"].startswith("Requête ralentie") and refused.headers["Retry-After"]
    other_ip = APIClient(REMOTE_ADDR="10.9.8.7")
    assert other_ip.post("/api/v1/auth/token", {"username": "x", "password": "y"}).status_code == 400


def test_authenticated_calls_are_throttled_per_user(rates):
    one, two = MembershipFactory().user, MembershipFactory().user
    api_one, api_two = APIClient(), APIClient()
    api_one.credentials(HTTP_AUTHORIZATION=f"Token {api_token(one)}")
    api_two.credentials(HTTP_AUTHORIZATION=f"Token {api_token(two)}")
    for _ in range(4):
        assert api_one.get("/api/v1/clients").status_code == 200
    assert api_one.get("/api/v1/clients").status_code == 429
    assert api_two.get("/api/v1/clients").status_code == 200  # another user's budget is their own
