"""Concurrency on real PostgreSQL with real threads (STYLE 27): orders racing for a small pool never get the same
number or SIM twice and never leave an order half-created (R-CON-6, R-ORD-2); concurrent duplicates of one
Idempotency-Key make one order."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from contracts.models import Contract, ContractEvent, OperatorRequest, Order
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.networks import Network
from inventory.models import PhoneNumber, SimCard
from tests.factories.api import api_token
from tests.factories.contracts import add_stock, offer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="row locks need PostgreSQL"),
]


def run_in_threads(target, count: int) -> list:
    """Run ``target(i)`` in ``count`` threads started together; returns their results (or exceptions)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_R_CON_6_concurrent_orders_on_a_small_pool_never_share_a_number_or_a_sim(
    catalog, partner, staff, client_account
):
    stock = add_stock(partner, Network.BOUYGUES, sims=15, numbers=15)
    bouygues = offer("BY-ILL-10G-B")
    contested = stock["numbers"][0].msisdn  # every other order also asks for this very number

    def place(i):
        lines = [LineSpec(user_name=f"T{i}-{n}") for n in range(3)]
        if i % 2 == 0:
            lines[0] = LineSpec(user_name=f"T{i}-0", msisdn=contested)
        order = order_place(
            partner=partner, client=client_account, created_by=staff, offer=bouygues, quantity=3, lines=lines
        )
        return order.pk

    results = run_in_threads(place, 10)

    placed = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, RuleViolation)]
    unexpected = [r for r in results if not isinstance(r, int | RuleViolation)]
    assert not unexpected, unexpected
    assert placed and refused  # the pool (15) cannot serve 10 orders of 3 lines
    assert len(placed) + len(refused) == 10
    assert len(placed) <= 5

    contracts = list(Contract.objects.all())
    numbers = Counter(c.msisdn for c in contracts)
    sims = Counter(c.sim_id for c in contracts)
    assert all(n == 1 for n in numbers.values()), "a number was given twice"
    assert all(n == 1 for n in sims.values()), "a SIM was given twice"
    assert numbers[contested] <= 1
    # no order half-created: every order has all its lines, requests and history; stock matches exactly
    assert Order.objects.count() == len(placed)
    for order in Order.objects.all():
        assert order.contracts.count() == 3
    assert len(contracts) == 3 * len(placed)
    assert OperatorRequest.objects.count() == len(contracts)
    assert ContractEvent.objects.filter(kind=ContractEvent.Kind.CREATED).count() == len(contracts)
    assert SimCard.objects.filter(state=SimCard.State.IN_USE).count() == len(contracts)
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.RESERVED).count() == len(contracts)
    assert {c.sim.state for c in contracts} == {SimCard.State.IN_USE}
    # numbers of orders and contracts are unique and consecutive
    order_numbers = sorted(int(n.rsplit("-", 1)[1]) for n in Order.objects.values_list("number", flat=True))
    assert order_numbers == list(range(1, len(placed) + 1))
    contract_numbers = sorted(int(c.number.rsplit("-", 1)[1]) for c in contracts)
    assert contract_numbers == list(range(1, len(contracts) + 1))


def test_concurrent_duplicates_of_one_idempotency_key_make_one_order(catalog, partner, staff, client_account):
    add_stock(partner, Network.ORANGE, sims=20, numbers=20)
    token = api_token(staff)
    body = {"client_id": client_account.pk, "offer": "OR-ILL-10G-B", "quantity": 2}

    def post(i):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="race-key")
        return response.status_code, response.json()

    results = run_in_threads(post, 6)

    assert all(isinstance(r, tuple) for r in results), results
    assert {status for status, _body in results} == {201}
    assert len({body["id"] for _status, body in results}) == 1
    assert Order.objects.count() == 1 and Contract.objects.count() == 2
