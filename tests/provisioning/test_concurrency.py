"""Double delivery under real concurrency (real PostgreSQL, real threads, STYLE 27): the simulator's database
constraints make the same request key create exactly one operator line."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from provisioning.models import SimulatedIdentifier, SimulatedOperatorLine, SimulatedOperatorRequest
from provisioning.ports import RequestState
from provisioning.simulators.bouygues import BouyguesSimulator
from provisioning.simulators.orange import OrangeSimulator

from .conftest import new_iccid, paris

THREADS = 5


def run_in_threads(fn, n=THREADS):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results.append(fn(i))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sim_class", [OrangeSimulator, BouyguesSimulator])
def test_same_key_from_5_threads_makes_exactly_one_line(time_machine, sim_class):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    sim = sim_class(seed=5, latency_seconds=0)
    payload = {"offer_code": "DATA-20G", "range": "data_only", "iccid": new_iccid(), "options": []}

    tickets, errors = run_in_threads(lambda i: sim.create_line(key="order-1-line-1", payload=payload))

    assert errors == []
    assert len(tickets) == THREADS
    assert len({t.reference for t in tickets}) == 1
    assert sum(not t.duplicate for t in tickets) == 1  # one submit did the work, four got its ticket
    assert SimulatedOperatorRequest.objects.filter(idempotency_key="order-1-line-1").count() == 1
    assert SimulatedOperatorLine.objects.count() == 1
    assert SimulatedIdentifier.objects.count() == 2  # one number, one SIM
    assert sim.request_status(tickets[0].reference).state == RequestState.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_status_polled_from_5_threads_completes_once(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    sim = OrangeSimulator(seed=6, latency_seconds=30)
    tickets = [
        sim.create_line(key=f"k{i}", payload={"offer_code": "M2M-10M", "range": "m2m", "iccid": new_iccid()})
        for i in range(3)
    ]
    time_machine.shift(timedelta(seconds=30))

    def poll(i):
        return [sim.request_status(t.reference) for t in (tickets if i % 2 else reversed(tickets))]

    statuses, errors = run_in_threads(poll)

    assert errors == []
    assert all(s.state == RequestState.COMPLETED for batch in statuses for s in batch)
    assert SimulatedOperatorLine.objects.count() == 3
    # Every poll saw the same line for the same request.
    by_ref = {}
    for batch in statuses:
        for s in batch:
            by_ref.setdefault(s.reference, set()).add(s.result["operator_line_id"])
    assert all(len(ids) == 1 for ids in by_ref.values()) and len(by_ref) == 3
