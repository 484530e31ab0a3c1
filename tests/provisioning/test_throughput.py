"""What makes provisioning fast (issue 4 bench: 1,000 lines, 2 worker processes, zero-latency simulator,
≥ 100 lines/s) without giving up a guarantee: a statement budget per line, the operator's answer carried by
its ticket, the zero-latency simulator settling a request in one transaction (and falling back to the
step-by-step path on any collision), batches of claimed requests per Celery message — each request still
sent on its own, exactly once (R-PRV-3, R-CON-6, R-CON-7)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract, OperatorRequest
from core.networks import Network
from provisioning import services, tasks
from provisioning.errors import OperatorTransientError
from provisioning.models import SimulatedIdentifier, SimulatedOperatorLine, SimulatedOperatorRequest
from provisioning.ports import RequestState
from provisioning.simulators.bouygues import BouyguesSimulator

from .conftest import new_iccid, paris
from .test_dispatch_support import Stock
from .test_simulators import create_payload

State = OperatorRequest.State

#: Statements for one zero-latency Bouygues creation, send to contract Actif (was 38 before this budget):
#: request_send 1, operator 8 (key, identifiers, BEGIN, SET LOCAL, 3 INSERTs, UPDATE, COMMIT → 9 with
#: the commit mode), outcome 9 (BEGIN, 2 locks, 5 writes, COMMIT).
STATEMENTS_PER_LINE = 19


@pytest.fixture(autouse=True)
def _zero_latency(settings):
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.PROVISIONING_WAKE_ON_ORDER = False


def claimed(stock: Stock, quantity: int) -> list[int]:
    stock.order(Network.BOUYGUES, quantity=quantity)
    services.plan_pending_requests()
    return services.claim_due_requests()


# --------------------------------------------------------------------------------------------------------
# Statement budget (autocommit, as in a worker)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_R_CON_7_zero_latency_line_goes_live_within_the_statement_budget(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    first, second = claimed(Stock(sims=2, numbers=2, networks=(Network.BOUYGUES,)), 2)
    services.request_send(request_id=first)  # warm-up (adapter, content types)

    with CaptureQueriesContext(connection) as queries:
        request = services.request_send(request_id=second)

    assert request.state == State.COMPLETED
    assert Contract.objects.get(pk=request.contract_id).state == Contract.State.ACTIVE
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) <= STATEMENTS_PER_LINE, "\n".join(sql)
    # The ticket carried the answer: no status call (no look-up of the operator's request by reference).
    assert not [s for s in sql if "provisioning_simulatedoperatorrequest" in s and '"reference" =' in s]
    assert SimulatedOperatorLine.objects.count() == 2


# --------------------------------------------------------------------------------------------------------
# The operator's side: outcome on the ticket, one transaction, fallback
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_PRV_3_zero_latency_ticket_carries_the_outcome_and_a_replay_answers_the_same(weekday, bouygues):
    payload = create_payload(iccid=new_iccid("20"), msisdn="0698765001")

    ticket = bouygues.create_line(key="fast-1", payload=payload)
    replay = bouygues.create_line(key="fast-1", payload=payload)

    assert ticket.outcome.state == RequestState.COMPLETED and not ticket.duplicate
    assert ticket.outcome.result["msisdn"] == "0698765001"
    assert ticket.outcome == bouygues.request_status(ticket.reference)
    assert replay.duplicate and replay.reference == ticket.reference and replay.outcome == ticket.outcome
    req = SimulatedOperatorRequest.objects.get(idempotency_key="fast-1")
    assert req.line == SimulatedOperatorLine.objects.get(creation_request=req)  # same rows as the slow path
    assert set(SimulatedIdentifier.objects.filter(line=req.line).values_list("kind", "value")) == {
        ("msisdn", "0698765001"),
        ("iccid", payload["iccid"]),
    }


@pytest.mark.django_db
def test_R_CON_6_collision_in_the_one_transaction_path_falls_back_and_is_recorded(
    weekday, bouygues, monkeypatch
):
    used = create_payload(iccid=new_iccid("20"))
    bouygues.create_line(key="first", payload=used)
    # A SIM taken between the submit's check and its insert (another process): the check sees nothing.
    monkeypatch.setattr(bouygues, "_used_identifiers", lambda **_: set())

    ticket = bouygues.create_line(key="second", payload={**used, "msisdn": "0698765002"})

    assert ticket.outcome is None  # the step-by-step path: accepted, then settled under its row lock
    status = bouygues.request_status(ticket.reference)
    assert status.state == RequestState.FAILED and not status.retryable and "R-CON-6" in status.error
    assert SimulatedOperatorLine.objects.count() == 1  # nothing half-made by the rolled-back attempt
    assert not SimulatedIdentifier.objects.filter(value="0698765002").exists()


@pytest.mark.django_db(transaction=True)
def test_the_commit_mode_of_the_operator_never_touches_a_callers_transaction(weekday, bouygues):
    with transaction.atomic():
        ticket = bouygues.create_line(key="inside", payload=create_payload(iccid=new_iccid("20")))
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert ticket.outcome.state == RequestState.COMPLETED


# --------------------------------------------------------------------------------------------------------
# Batches of claimed requests per Celery message
# --------------------------------------------------------------------------------------------------------


def test_batch_task_follows_the_celery_guards():
    task = tasks.request_send_batch_task
    assert task.name == "provisioning.request_send_batch"
    assert task.acks_late and task.reject_on_worker_lost and task.ignore_result


@pytest.mark.django_db
def test_sweep_hands_claimed_requests_over_in_batches(weekday, settings):
    settings.PROVISIONING_SEND_BATCH_SIZE = 2
    Stock(networks=(Network.BOUYGUES,)).order(Network.BOUYGUES, quantity=5)
    batches: list[list[int]] = []

    report = services.dispatch_due_requests(send_batch=batches.append)

    assert report.sent == 5 and [len(b) for b in batches] == [2, 2, 1]
    ids = [pk for batch in batches for pk in batch]
    assert len(set(ids)) == 5
    assert set(OperatorRequest.objects.filter(pk__in=ids).values_list("state", flat=True)) == {State.SENT}


@pytest.mark.django_db
def test_R_PRV_3_batch_delivered_twice_makes_each_line_once(weekday):
    ids = claimed(Stock(networks=(Network.BOUYGUES,)), 3)

    assert tasks.request_send_batch_task.apply(args=[ids]).get() == {State.COMPLETED: 3}
    assert tasks.request_send_batch_task.apply(args=[ids]).get() == {State.COMPLETED: 3}  # redelivered

    assert SimulatedOperatorLine.objects.count() == 3
    assert list(OperatorRequest.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == [1, 1, 1]
    assert Contract.objects.filter(state=Contract.State.ACTIVE).count() == 3


class OneFlakyBouygues(BouyguesSimulator):
    """A transient error on the first submit of one key only."""

    flaky_key = ""
    failed = False

    def submit(self, kind, *, key, payload):
        cls = type(self)
        if key == cls.flaky_key and not cls.failed:
            cls.failed = True
            raise OperatorTransientError("Service opérateur indisponible (test).", network=self.network)
        return super().submit(kind, key=key, payload=payload)


@pytest.mark.django_db
def test_batch_hands_a_transient_failure_to_its_own_retrying_task(weekday, settings, monkeypatch):
    settings.OPERATOR_ADAPTERS = {**settings.OPERATOR_ADAPTERS, "bouygues": f"{__name__}.OneFlakyBouygues"}
    ids = claimed(Stock(networks=(Network.BOUYGUES,)), 3)
    OneFlakyBouygues.flaky_key = OperatorRequest.objects.get(pk=ids[1]).idempotency_key
    OneFlakyBouygues.failed = False
    retried: list[tuple] = []
    monkeypatch.setattr(
        tasks.request_send_task, "apply_async", lambda args, **kwargs: retried.append((args, kwargs))
    )

    states = tasks.request_send_batch_task.apply(args=[ids]).get()

    assert states == {State.COMPLETED: 2, "retrying": 1}
    assert retried == [([ids[1]], {"countdown": tasks.RETRY_BACKOFF})]
    flaky = OperatorRequest.objects.get(pk=ids[1])
    assert flaky.state == State.SENT and flaky.attempts == 1 and "indisponible" in flaky.last_error
    services.request_send(request_id=ids[1])  # what the retrying task does: same key, one line
    assert SimulatedOperatorLine.objects.count() == 3
