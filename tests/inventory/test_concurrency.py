"""Allocation under real concurrency on PostgreSQL (STYLE 27): real threads, each with its own connection,
placing "orders" (one transaction each) against a small pool. No SIM or number is given twice, the pool is
exhausted cleanly, the losers get a French RuleViolation, and a refused order leaves nothing behind."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from core.errors import RuleViolation
from core.networks import Network
from inventory import services
from inventory.models import PhoneNumber, SimCard
from tests.factories.inventory import PhoneNumberFactory, SimCardFactory
from tests.factories.partners import ClientAccountFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

THREADS = 8
ORDERS_PER_THREAD = 5
POOL = 20


def _run_threads(worker) -> list:
    """Start THREADS threads together; each runs ``worker()`` ORDERS_PER_THREAD times; collect outcomes."""
    barrier = threading.Barrier(THREADS)
    outcomes: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            for _ in range(ORDERS_PER_THREAD):
                try:
                    result = ("ok", worker())
                except RuleViolation as exc:
                    result = ("refused", exc)
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_R_CON_6_concurrent_orders_never_share_a_sim_or_a_number():
    client = ClientAccountFactory()
    partner = client.partner
    numbers = {n.msisdn for n in PhoneNumberFactory.create_batch(POOL, partner=partner)}
    sims = {s.iccid for s in SimCardFactory.create_batch(POOL, partner=partner)}

    def place_order():
        with transaction.atomic():  # the ordering service's transaction
            [number] = services.number_allocate(
                partner=partner, network=Network.BOUYGUES, count=1, client=client
            )
            [sim] = services.sim_allocate(
                partner=partner, network=Network.ORANGE, client=client, count=1, with_pin=True
            )
            return number.msisdn, sim.iccid

    outcomes = _run_threads(place_order)

    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"ok": POOL, "refused": THREADS * ORDERS_PER_THREAD - POOL}  # 20 served, 20 refused
    served = [value for kind, value in outcomes if kind == "ok"]
    assert sorted(m for m, _ in served) == sorted(numbers)  # each number exactly once
    assert sorted(i for _, i in served) == sorted(sims)  # each SIM exactly once
    refusals = [value for kind, value in outcomes if kind == "refused"]
    assert all(exc.rule == "R-CON-6" and exc.field == "number" for exc in refusals)
    assert all("Plus assez de numéros disponibles" in exc.message for exc in refusals)
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.RESERVED, client=client).count() == POOL
    assert SimCard.objects.filter(state=SimCard.State.IN_USE, client=client).count() == POOL


def test_concurrent_multi_line_orders_are_all_or_nothing():
    """Orders of 3 lines against 20 numbers and 20 SIMs: an order gets its 3 numbers and 3 SIMs or nothing."""
    client = ClientAccountFactory()
    partner = client.partner
    PhoneNumberFactory.create_batch(POOL, partner=partner)
    SimCardFactory.create_batch(POOL, partner=partner)

    def place_order():
        with transaction.atomic():
            numbers = services.number_allocate(
                partner=partner, network=Network.BOUYGUES, count=3, client=client
            )
            sims = services.sim_allocate(
                partner=partner, network=Network.ORANGE, client=client, count=3, with_pin=True
            )
            return [n.msisdn for n in numbers], [s.iccid for s in sims]

    outcomes = _run_threads(place_order)

    served = [value for kind, value in outcomes if kind == "ok"]
    refused = [value for kind, value in outcomes if kind == "refused"]
    assert len(served) + len(refused) == THREADS * ORDERS_PER_THREAD
    assert 1 <= len(served) <= POOL // 3  # at most 6 orders of 3 fit in a pool of 20
    all_numbers = [m for numbers, _ in served for m in numbers]
    all_sims = [i for _, sims in served for i in sims]
    assert len(all_numbers) == len(set(all_numbers)) == 3 * len(served)
    assert len(all_sims) == len(set(all_sims)) == 3 * len(served)
    # Nothing half-allocated: the database holds exactly the served orders' resources.
    assert set(
        PhoneNumber.objects.filter(state=PhoneNumber.State.RESERVED).values_list("msisdn", flat=True)
    ) == set(all_numbers)
    assert set(SimCard.objects.filter(state=SimCard.State.IN_USE).values_list("iccid", flat=True)) == set(
        all_sims
    )
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.AVAILABLE).count() == POOL - 3 * len(served)
    assert all(exc.rule in ("R-CON-6", "R-ORD-2") for exc in refused)
