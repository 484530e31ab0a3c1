"""Issue 10 item 5: with the broker down, placing an order or a contract action is not held by the wake-up of the
dispatcher. The order or the operator request is committed; the wake-up is one publish attempt on its own
connection, bounded by ``BROKER_WAKE_TIMEOUT_SECONDS`` with no retry (kombu or Celery), and it fails quietly —
the beat sweep sends the request from the database. The timing figure lives in ``bench/bench_broker_down.py``
(benchmarks print, tests do not assert timings)."""

from __future__ import annotations

import pytest
from celery import current_app

from contracts import lifecycle
from contracts.models import Contract, OperatorRequest, Order
from contracts.services import DISPATCH_TASK, LineSpec, order_place
from core.operator_kinds import RequestKind
from tests.factories.contracts import ContractFactory, offer

pytestmark = pytest.mark.django_db(transaction=True)

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the broker is down


@pytest.fixture
def broker_down(settings, monkeypatch):
    """Eager off, the broker URL on a closed port; records every connection opened for publishing and every
    publish, then lets them really run (and fail)."""
    settings.PROVISIONING_WAKE_ON_ORDER = True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.BROKER_WAKE_TIMEOUT_SECONDS = 0.3
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT_BROKER)  # Celery reads it before its own config
    seen = {"connections": [], "publishes": []}
    real_connection_for_write = current_app.connection_for_write
    real_send_task = current_app.send_task

    def connection_for_write(*args, **kwargs):
        connection = real_connection_for_write(*args, **kwargs)
        seen["connections"].append(connection)
        return connection

    def send_task(name, *args, **kwargs):
        seen["publishes"].append((name, kwargs))
        return real_send_task(name, *args, **kwargs)

    monkeypatch.setattr(current_app, "connection_for_write", connection_for_write)
    monkeypatch.setattr(current_app, "send_task", send_task)
    return seen


def assert_one_bounded_attempt(seen, caplog):
    assert [name for name, _ in seen["publishes"]] == [DISPATCH_TASK]
    name, kwargs = seen["publishes"][0]
    assert kwargs["retry"] is False  # Celery's publish retry policy is off
    connection = kwargs["connection"]  # its own connection, not one from Celery's pool (retried for 4 s)
    assert any(connection is opened for opened in seen["connections"])
    assert (connection.hostname, connection.port) == ("127.0.0.1", 1)  # the broker we were given: down
    assert connection.connect_timeout == 0.3
    assert connection.transport_options["max_retries"] == 0  # kombu gives up after one connection attempt
    assert connection.transport_options["socket_connect_timeout"] == 0.3
    assert "could not wake provisioning.dispatch_due_requests" in caplog.text  # logged, not raised


def test_order_is_committed_and_the_wakeup_is_one_bounded_attempt_when_the_broker_is_down(
    catalog, partner, staff, client_account, orange_stock, broker_down, caplog
):
    order = order_place(
        partner=partner,
        client=client_account,
        created_by=staff,
        offer=offer("OR-ILL-10G-B"),
        quantity=2,
        lines=[LineSpec(), LineSpec()],
    )

    assert Order.objects.filter(pk=order.pk).exists()
    assert Contract.objects.filter(order=order).count() == 2
    assert_one_bounded_attempt(broker_down, caplog)


def test_contract_action_is_committed_and_the_wakeup_is_one_bounded_attempt_when_the_broker_is_down(
    catalog, partner, client_account, broker_down, caplog
):
    contract = ContractFactory(
        order__client=client_account, order__offer=offer("OR-ILL-10G-B"), state=Contract.State.ACTIVE
    )

    request = lifecycle.contract_suspend(contract=contract)

    assert OperatorRequest.objects.filter(pk=request.pk, kind=RequestKind.SUSPEND).exists()
    assert_one_bounded_attempt(broker_down, caplog)
