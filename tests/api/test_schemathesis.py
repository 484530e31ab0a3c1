"""schemathesis over ``/api/schema/`` (issue 10 item 3): every operation of the API, called with a real partner
token over a partner with a client, a few lines and stock, answers no 5xx and only what its schema documents.

The schema is loaded from the WSGI application and the calls go through it in-process, inside the test's
transaction. Bounded and deterministic: ``MAX_EXAMPLES`` per operation, derandomized, no example database."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from contracts.services import LineSpec, order_place
from core.networks import Network
from tests.factories.api import api_token
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import add_stock, offer
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory

MAX_EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@contextmanager
def _connection_kept_open():
    """As Django's test client does: without this, ``close_old_connections`` closes the connection at the end of
    each request, and the test's transaction with it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db):
    """The schema served at ``/api/schema/``, fetched through the WSGI application."""
    with _connection_kept_open():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def partner_token(db, monkeypatch, settings):
    """A partner with a client, two lines of a real order and stock left; its staff member's token."""
    connection_kept_open = _connection_kept_open()
    connection_kept_open.__enter__()
    settings.PROVISIONING_WAKE_ON_ORDER = False
    # POST /auth/token hashes a password on every call (even for an unknown user): a fast hasher for the fuzzing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "100000/minute")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "100000/minute")
    load_test_catalog()
    partner = PartnerFactory()
    staff = MembershipFactory(partner=partner).user
    client_account = ClientAccountFactory(partner=partner)
    add_stock(partner, Network.ORANGE, sims=6, numbers=6)
    order_place(
        partner=partner,
        client=client_account,
        created_by=staff,
        offer=offer("OR-ILL-10G-B"),
        quantity=2,
        lines=[LineSpec(user_name="Marie"), LineSpec(user_name="Paul")],
    )
    yield api_token(staff)
    connection_kept_open.__exit__(None, None, None)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_operation_has_no_server_error_and_matches_its_schema(case, partner_token):
    case.call_and_validate(headers={"Authorization": f"Token {partner_token}"}, checks=CHECKS)
