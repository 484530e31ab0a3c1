"""Celery tasks of provisioning (STYLE 8–12): thin — take an id, call one service — and idempotent.

Guards Celery documents for ``acks_late`` (Tasks guide, "acks_late" / "reject_on_worker_lost"; Redis broker
guide, "Visibility timeout"), and how they hold here:

- ``acks_late=True``: a message is acknowledged after the task ran, so a worker killed mid-task (``kill -9``)
  leaves it to be delivered again. That requires **idempotent** tasks: every task re-reads the
  ``OperatorRequest`` row and acts only on its current state; the operator is called with the request's
  idempotency key (a second submit returns the first ticket, never a second line); outcomes are applied
  under row locks and return quietly when already applied.
- ``reject_on_worker_lost=True``: the message goes back to the queue when the worker process dies. Celery
  warns this can loop on a message that kills its worker; the loop is bounded by the request's ``attempts``
  (``PROVISIONING_MAX_ATTEMPTS``), after which the request fails and every later delivery is a no-op.
- Redis ``visibility_timeout`` (``CELERY_BROKER_TRANSPORT_OPTIONS``, 3600 s): an unacknowledged message is
  redelivered only after it, so it must exceed every countdown we use (retry backoff ≤ ``RETRY_BACKOFF_MAX``,
  poll countdown ``PROVISIONING_POLL_SECONDS``). It also means a killed worker's messages come back late —
  which is why the durable truth is the database: the beat sweep (``provisioning.dispatch_due_requests``)
  re-sends requests sent long ago without an operator answer and polls outstanding ones, so nothing waits for
  the broker to redeliver.
- A missing row (deleted meanwhile) ends the task cleanly.
- Batches (``provisioning.request_send_batch``): the sweep sends claimed ids ``PROVISIONING_SEND_BATCH_SIZE`` at a
  time, one message per batch instead of one per request (the per-message cost of Celery is most of a line's
  cost at zero latency). Each id is sent by the same idempotent ``services.request_send``, so a redelivered
  batch only finishes what is left; a transient error goes to that request's own ``request_send_task``
  (autoretry with backoff), never retries the whole batch.

No ``queue=``: the tasks run on Celery's default queue, which every worker of ``docker-compose.yml`` and
``make run`` consumes; a dedicated queue would need a ``-Q`` on every worker command line for no gain yet.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from contracts.models import OperatorRequest
from provisioning import services
from provisioning.errors import OperatorTransientError

logger = logging.getLogger(__name__)

#: Celery-level retries of one message; the database's ``attempts`` bounds the request itself.
MAX_RETRIES = 10
RETRY_BACKOFF = 2
RETRY_BACKOFF_MAX = 60

_RETRYING = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperatorTransientError,),
    "retry_backoff": RETRY_BACKOFF,
    "retry_backoff_max": RETRY_BACKOFF_MAX,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
    "ignore_result": True,
}


def _enqueue_send_batch(request_ids: list[int]) -> None:
    request_send_batch_task.apply_async(args=[list(request_ids)])


def _enqueue_poll(request_id: int) -> None:
    request_poll_task.apply_async(args=[request_id])


def _schedule_poll(request: OperatorRequest | None) -> None:
    """The operator accepted but has not answered yet: look again in a moment (the sweep is the safety net)."""
    if request is not None and request.state == OperatorRequest.State.SENT and request.operator_reference:
        request_poll_task.apply_async(args=[request.pk], countdown=services.poll_after().total_seconds())


@shared_task(
    name="provisioning.dispatch_due_requests", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def dispatch_due_requests_task() -> dict:
    """The sweep (beat, every ``PROVISIONING_SWEEP_SECONDS``; woken by orders after commit): plans pending
    requests, sends due ones and re-sends stale ones (``request_send_batch`` tasks of
    ``PROVISIONING_SEND_BATCH_SIZE`` claimed ids), polls outstanding ones (one task each).
    Safe to run twice at once: every request is claimed by one sweep only."""
    report = services.dispatch_due_requests(send_batch=_enqueue_send_batch, poll=_enqueue_poll)
    return report.__dict__


@shared_task(bind=True, name="provisioning.request_send", **_RETRYING)
def request_send_task(self, request_id: int) -> str:
    """Submit one claimed request to its operator (idempotency key), then poll it."""
    request = services.request_send(request_id=request_id)
    if request is None:
        logger.info("operator request %s no longer exists", request_id)
        return "missing"
    _schedule_poll(request)
    return request.state


@shared_task(
    name="provisioning.request_send_batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def request_send_batch_task(request_ids: list[int]) -> dict[str, int]:
    """Submit several claimed requests, one after the other — the sweep's way to send many requests without
    one Celery message each (``PROVISIONING_SEND_BATCH_SIZE``). Each request is sent exactly as
    ``request_send_task`` sends it (its own row, its own idempotency key, its own outcome transaction), so a
    batch delivered twice, or cut by a killed worker and delivered again (``acks_late``), only finishes what
    was left: completed requests are skipped. A transient operator error on one request does not retry the
    batch: that request goes to its own ``request_send_task`` with Celery's backoff; any other error is
    logged and left to the sweep (the row still says ``sent``)."""
    states: dict[str, int] = {}
    for request_id in request_ids:
        try:
            request = services.request_send(request_id=request_id)
        except OperatorTransientError as exc:
            logger.info(
                "request %s: transient operator error (%s), retried on its own", request_id, exc.message
            )
            request_send_task.apply_async(args=[request_id], countdown=RETRY_BACKOFF)
            state = "retrying"
        except SoftTimeLimitExceeded:  # the rest of the batch stays claimed: the stale-send sweep sends it
            raise
        except Exception:
            logger.exception("sending operator request %s failed", request_id)
            state = "error"
        else:
            _schedule_poll(request)
            state = "missing" if request is None else request.state
        states[state] = states.get(state, 0) + 1
    return states


@shared_task(bind=True, name="provisioning.request_poll", **_RETRYING)
def request_poll_task(self, request_id: int) -> str:
    """Ask the operator where one request stands and report the outcome to contracts."""
    request = services.request_poll(request_id=request_id)
    if request is None:
        logger.info("operator request %s no longer exists", request_id)
        return "missing"
    return request.state
