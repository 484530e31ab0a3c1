"""Provisioning: plan each operator request at the operator's next window, send it through the ``OperatorPort``
exactly once, follow it until the operator answers, and report the outcome to ``contracts.outcomes``.

The durable truth is the ``contracts.OperatorRequest`` row (STYLE 11): its state and its times say what to do
next, so a restarted worker or a lost Redis message loses nothing — ``dispatch_due_requests`` (Celery beat,
every ``PROVISIONING_SWEEP_SECONDS``) picks up whatever is due:

    pending ──plan──► planned ──claim (planned_at ≤ now)──► sent ──poll──► completed
                        ▲                                    │  │
                        └── window closed / retryable ───────┘  └──► failed (refused, or attempts exhausted)

- **plan** (``request_plan``): ``planned_at`` = ``rules.next_window`` of the kind and network from
  ``max(now, not_before)`` (R-PRV-1..4; port-in J+3 counted from the order), so the operator never refuses in
  the normal flow.
- **claim**: ``SELECT … FOR UPDATE SKIP LOCKED`` + ``UPDATE state='sent'`` in one transaction (STYLE 12): two
  sweeps never take the same request.
- **send** (``request_send``): the port is called *outside* any database transaction, with the request's
  ``idempotency_key`` — the operator never does one request twice, so a double delivery, a sweep re-sending a
  stale request, or a worker killed between the operator's answer and our commit make no second line.
  ``OperatorWindowClosed`` → planned again at its ``next_opening``; ``OperatorTransientError`` → raised for
  Celery's ``autoretry_for`` backoff (the stale-sent sweep is the safety net), final failure once
  ``PROVISIONING_MAX_ATTEMPTS`` submits failed; ``OperatorRefusal`` → final failure at once.
- **poll** (``request_poll``): ``request_status`` → completed / failed → ``contracts.outcomes``; a retryable
  operator failure is planned again with an exponential backoff. A ticket that already carries the
  operator's final answer (``OperatorTicket.outcome``: a synchronous operator, the zero-latency simulator)
  is settled at once, without a status call.

Cost per line (bench: zero-latency Bouygues creation) — 19 statements from send to contract Actif, checked by
``tests/provisioning/test_throughput.py``: the attempt is counted and the row read in one
``UPDATE … RETURNING``; the operator settles in one transaction; the outcome locks contract then request once
each and writes. The sweep hands claimed ids over in batches (``send_batch``, one Celery message per
``PROVISIONING_SEND_BATCH_SIZE`` ids); every request in a batch is still claimed and sent on its own.

The sweep also re-sends requests ``sent`` long ago that never got an operator reference (the message or the
worker was lost, ``PROVISIONING_RESEND_AFTER_SECONDS``) and polls outstanding ones not looked at for
``PROVISIONING_POLL_SECONDS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts import outcomes
from contracts.models import Contract, ContractEvent, OperatorRequest
from contracts.services import contract_event_record, operator_request_transition
from core.operator_kinds import RequestKind
from provisioning import rules
from provisioning.adapters import get_operator
from provisioning.errors import OperatorRefusal, OperatorTransientError, OperatorWindowClosed
from provisioning.kinds import CREATION_KINDS
from provisioning.ports import OperatorStatus, RequestState

logger = logging.getLogger(__name__)

State = OperatorRequest.State
RequestCallback = Callable[[int], Any]

#: A plan further away than this is announced in the contract's history ("planned for Monday 09:00").
_ANNOUNCE_AFTER = timedelta(minutes=1)


def max_attempts() -> int:
    return int(settings.PROVISIONING_MAX_ATTEMPTS)


def _resend_after() -> timedelta:
    return timedelta(seconds=float(settings.PROVISIONING_RESEND_AFTER_SECONDS))


def poll_after() -> timedelta:
    return timedelta(seconds=float(settings.PROVISIONING_POLL_SECONDS))


def retry_delay(attempts: int) -> timedelta:
    """Backoff before the next attempt after ``attempts`` failed ones: base × 2^(attempts−1), capped."""
    base = float(settings.PROVISIONING_RETRY_BASE_SECONDS)
    cap = float(settings.PROVISIONING_RETRY_MAX_SECONDS)
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


@dataclass
class DispatchReport:
    """What one sweep did (counts of requests)."""

    planned: int = 0
    sent: int = 0
    resent: int = 0
    polled: int = 0

    def __bool__(self) -> bool:
        return bool(self.planned or self.sent or self.resent or self.polled)


# --------------------------------------------------------------------------------------------------------
# Planning (R-PRV-1..4)
# --------------------------------------------------------------------------------------------------------


def _ordered_at(request: OperatorRequest) -> datetime:
    raw = (request.payload or {}).get("ordered_at")
    if raw:
        try:
            parsed = datetime.fromisoformat(str(raw))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    return request.created_at


def window_arguments(request: OperatorRequest) -> dict[str, Any]:
    """The ``rules.next_window`` keywords of a request: portability (port-in, J+3 from the order), eSIM."""
    payload = request.payload or {}
    esim = bool(payload.get("esim")) or request.kind in (
        RequestKind.CREATE_LINE_ESIM,
        RequestKind.SWAP_SIM_ESIM,
    )
    portability = request.kind == RequestKind.PORT_IN
    return {
        "portability": portability,
        "esim": esim and request.kind in (RequestKind.CREATE_LINE, RequestKind.SWAP_SIM, RequestKind.PORT_IN),
        "ordered_at": _ordered_at(request) if portability else None,
    }


def planned_time(request: OperatorRequest, at: datetime) -> datetime:
    """The first instant ``>= max(at, not_before)`` at which the operator accepts ``request`` (R-PRV-1..4).
    Raises ``rules.UnsupportedRequest`` when the operator never accepts it (an eSIM at Bouygues, R-OPT-2)."""
    start = max(at, request.not_before) if request.not_before else at
    return rules.next_window(request.kind, request.network, start, **window_arguments(request))


def _announce_plan(request: OperatorRequest, planned_at: datetime, now: datetime, reason: str = "") -> None:
    if planned_at - now < _ANNOUNCE_AFTER:
        return
    args = window_arguments(request)
    try:
        rule = rules.window_rule(
            request.kind, request.network, portability=args["portability"], esim=args["esim"]
        )
    except rules.UnsupportedRequest:  # pragma: no cover - planned_time refused it first
        rule = ""
    when = timezone.localtime(planned_at).strftime("%d/%m/%Y %H:%M")
    message = _("%(kind)s : envoi à l'opérateur planifié le %(when)s%(rule)s.") % {
        "kind": RequestKind(request.kind).label,
        "when": when,
        "rule": f" ({rule})" if rule else "",
    }
    if reason:
        message = f"{message} {reason}"
    contract_event_record(
        contract=request.contract,
        kind=ContractEvent.Kind.OPERATOR_REQUEST,
        actor_label=_("Système"),
        message=message,
        data={"operator_request": request.pk, "kind": request.kind, "planned_at": planned_at, "rule": rule},
    )


@transaction.atomic
def request_plan(*, request: OperatorRequest, now: datetime | None = None) -> OperatorRequest:
    """Plan a pending request at the operator's next window (R-PRV-1..4): pending → planned with
    ``planned_at``; a deferred plan is announced in the contract's history. Idempotent: a request that is no
    longer pending is returned unchanged. A request the operator never accepts fails for good."""
    now = now or timezone.now()
    locked = OperatorRequest.objects.select_for_update().select_related("contract").get(pk=request.pk)
    if locked.state != State.PENDING:
        return locked
    try:
        planned_at = planned_time(locked, now)
    except (rules.UnsupportedRequest, ValueError) as exc:
        return outcomes.operator_request_failed(request_id=locked.pk, error=str(exc), final=True)
    locked = operator_request_transition(request=locked, to_state=State.PLANNED, planned_at=planned_at)
    _announce_plan(locked, planned_at, now)
    return locked


def plan_pending_requests(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Plan up to ``limit`` pending requests (oldest first); claimed with ``SKIP LOCKED`` so two sweeps share
    the work; one UPDATE per distinct planned time. Returns how many were planned."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = list(
            OperatorRequest.objects.filter(state=State.PENDING)
            .order_by("created_at", "id")
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("contract")[:limit]
        )
        plans: dict[int, datetime] = {}
        refused: list[tuple[int, str]] = []
        for request in pending:
            try:
                plans[request.pk] = planned_time(request, now)
            except (rules.UnsupportedRequest, ValueError) as exc:
                refused.append((request.pk, str(exc)))
        by_time: dict[datetime, list[int]] = {}
        for pk, planned_at in plans.items():
            by_time.setdefault(planned_at, []).append(pk)
        for planned_at, ids in by_time.items():
            OperatorRequest.objects.filter(pk__in=ids, state=State.PENDING).update(
                state=State.PLANNED, planned_at=planned_at, updated_at=now
            )
        for request in pending:
            if request.pk in plans:
                _announce_plan(request, plans[request.pk], now)
    for request_id, error in refused:
        outcomes.operator_request_failed(request_id=request_id, error=error, final=True)
    return len(plans)


# --------------------------------------------------------------------------------------------------------
# Claiming (STYLE 12)
# --------------------------------------------------------------------------------------------------------


def _claim(queryset, *, limit: int, order_by: tuple[str, ...], **changes) -> list[int]:
    """Lock up to ``limit`` rows of ``queryset`` that nobody else holds, apply ``changes`` and commit."""
    with transaction.atomic():
        ids = list(
            queryset.order_by(*order_by)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            OperatorRequest.objects.filter(pk__in=ids).update(**changes)
    return ids


def claim_due_requests(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Planned requests whose time has come → sent (claimed by this caller only)."""
    now = now or timezone.now()
    due = OperatorRequest.objects.filter(state=State.PLANNED, planned_at__lte=now)
    return _claim(
        due, limit=limit, order_by=("planned_at", "id"), state=State.SENT, sent_at=now, updated_at=now
    )


def claim_stale_sends(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Requests sent long ago that never got an operator reference (lost message, killed worker, pending
    Celery retry): claimed again for a new submit (same key: the operator replays, never duplicates)."""
    now = now or timezone.now()
    stale = OperatorRequest.objects.filter(
        state=State.SENT, operator_reference="", sent_at__lte=now - _resend_after()
    )
    return _claim(stale, limit=limit, order_by=("sent_at", "id"), sent_at=now, updated_at=now)


def claim_outstanding(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Requests accepted by the operator and not looked at for ``PROVISIONING_POLL_SECONDS``."""
    now = now or timezone.now()
    outstanding = OperatorRequest.objects.filter(
        state=State.SENT, updated_at__lte=now - poll_after()
    ).exclude(operator_reference="")
    return _claim(outstanding, limit=limit, order_by=("updated_at", "id"), updated_at=now)


def send_batch_size() -> int:
    """How many claimed request ids one ``provisioning.request_send_batch`` message carries."""
    return max(1, int(settings.PROVISIONING_SEND_BATCH_SIZE))


def dispatch_due_requests(
    *,
    now: datetime | None = None,
    limit: int = 1000,
    send: RequestCallback | None = None,
    poll: RequestCallback | None = None,
    send_batch: Callable[[list[int]], Any] | None = None,
) -> DispatchReport:
    """The sweep: plan pending requests, claim the due ones and send them, re-send stale ones, poll
    outstanding ones. ``send`` / ``poll`` receive a request id (the Celery task enqueues there); by default
    they run here, in this process (tests, ``make run`` without a worker). ``send_batch``, when given, receives
    the claimed ids to send in chunks of ``send_batch_size()`` instead (one Celery message per chunk: every
    request in it is already claimed on its own and is sent on its own, idempotently)."""
    now = now or timezone.now()
    send = send or (lambda pk: request_send(request_id=pk))
    poll = poll or (lambda pk: request_poll(request_id=pk))
    report = DispatchReport()
    report.planned = plan_pending_requests(now=now, limit=limit)
    due = claim_due_requests(now=now, limit=limit)
    stale = claim_stale_sends(now=now, limit=limit)
    outstanding = claim_outstanding(now=now, limit=limit)
    report.sent, report.resent, report.polled = len(due), len(stale), len(outstanding)
    to_send = [*due, *stale]
    if send_batch is not None:
        size = send_batch_size()
        for start in range(0, len(to_send), size):
            chunk = to_send[start : start + size]
            try:
                send_batch(chunk)
            except Exception:  # the rows keep the truth: the stale-send sweep sends them again
                logger.exception("could not hand requests %s over for sending", chunk)
    else:
        for pk in to_send:
            _call(send, pk)
    for pk in outstanding:
        _call(poll, pk)
    if report:
        logger.info("provisioning sweep: %s", report)
    return report


def _call(callback: RequestCallback, pk: int) -> None:
    """One request's failure must not stop the sweep (its row keeps the truth, the next sweep tries again)."""
    try:
        callback(pk)
    except OperatorTransientError as exc:
        logger.info("request %s: transient operator error (%s), will retry", pk, exc.message)
    except Exception:
        logger.exception("provisioning of request %s failed", pk)


# --------------------------------------------------------------------------------------------------------
# Sending and polling (outside any DB transaction: the operator is a remote system)
# --------------------------------------------------------------------------------------------------------


def _begin_attempt(request_id: int, now: datetime) -> OperatorRequest | None:
    """A claimed request about to be submitted: one more attempt is counted (committed before the operator is
    called, so a message that kills its worker stops after ``PROVISIONING_MAX_ATTEMPTS``, Celery's
    ``reject_on_worker_lost`` caveat) and the row is returned — in ONE ``UPDATE … RETURNING`` statement on
    PostgreSQL (the ORM has no UPDATE … RETURNING: it would take a read and a write). ``None`` when the
    request is not ``sent`` without an operator reference (gone, settled, or already accepted)."""
    sent = OperatorRequest.objects.filter(pk=request_id, state=State.SENT, operator_reference="")
    if connection.vendor != "postgresql":
        updated = sent.update(attempts=F("attempts") + 1, sent_at=now, updated_at=now)
        return _request_or_none(request_id) if updated else None
    meta = OperatorRequest._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk, state, ref, attempts, sent_at, updated_at = (
        quote(meta.get_field(name).column)
        for name in ("id", "state", "operator_reference", "attempts", "sent_at", "updated_at")
    )
    # Only the model's quoted table and column names are interpolated; every value is a parameter.
    sql = f"UPDATE {table} SET {attempts} = {attempts} + 1, {sent_at} = %s, {updated_at} = %s WHERE {pk} = %s AND {state} = %s AND {ref} = %s RETURNING *"  # noqa: E501, S608
    rows = list(OperatorRequest.objects.raw(sql, [now, now, request_id, State.SENT.value, ""]))
    return rows[0] if rows else None


def _request_or_none(request_id: int) -> OperatorRequest | None:
    """The request by id (``get``: no ordering to build or sort), ``None`` when it is gone."""
    try:
        return OperatorRequest.objects.get(pk=request_id)
    except OperatorRequest.DoesNotExist:
        return None


def _replan(request_id: int, *, planned_at: datetime, error: str, reason: str) -> OperatorRequest | None:
    """sent → planned at ``planned_at`` (window closed, retryable failure); the operator reference is cleared:
    the next submit reuses the same key, the operator answers with the same reference."""
    with transaction.atomic():
        request = (
            OperatorRequest.objects.select_for_update()
            .select_related("contract")
            .filter(pk=request_id)
            .first()
        )
        if request is None or request.state != State.SENT:
            return request
        request = operator_request_transition(
            request=request,
            to_state=State.PLANNED,
            planned_at=planned_at,
            operator_reference="",
            last_error=error,
        )
        _announce_plan(request, planned_at, timezone.now(), reason=reason)
        return request


def request_send(*, request_id: int) -> OperatorRequest | None:
    """Submit a claimed (``sent``) request to its operator with its idempotency key, then look at its status.

    Safe to run twice, at once or later: only a ``sent`` request is submitted; one that already has its
    operator reference is only polled; the operator answers a known key with its first ticket. Returns the
    request (``None`` when the row is gone). Raises ``OperatorTransientError`` for the caller to retry later
    (Celery ``autoretry_for``), unless ``PROVISIONING_MAX_ATTEMPTS`` is reached: then the request fails."""
    now = timezone.now()
    request = _begin_attempt(request_id, now)
    if request is None:  # not a sent request without operator reference: see where it stands
        request = _request_or_none(request_id)
        if request is None or request.state != State.SENT:
            return request
        if request.operator_reference:
            return _poll(request, request.operator_reference)
        request = _begin_attempt(request_id, now)  # its reference was cleared meanwhile: submit again
        if request is None:
            return _request_or_none(request_id)
    operator = get_operator(request.network)
    try:
        ticket = operator.submit(request.kind, key=request.idempotency_key, payload=request.payload)
    except OperatorWindowClosed as exc:  # should not happen: the plan follows the same rules (R-PRV-1..4)
        opening = exc.next_opening or planned_time(request, now)
        logger.warning("request %s refused outside the window, planned again at %s", request.pk, opening)
        return _replan(
            request.pk,
            planned_at=max(opening, now),
            error=exc.message,
            reason=_("L'opérateur était fermé : %(error)s") % {"error": exc.message},
        )
    except OperatorRefusal as exc:
        return outcomes.operator_request_failed(request_id=request.pk, error=exc.message, final=True)
    except OperatorTransientError as exc:
        final = request.attempts >= max_attempts()
        result = outcomes.operator_request_failed(request_id=request.pk, error=exc.message, final=final)
        if final:
            return result
        raise
    # The reference is stored with the outcome when the operator already answered (zero latency), else now.
    if ticket.outcome is not None:  # settled at submit: no need to ask for its status
        return _settle(request, ticket.reference, ticket.outcome, store_reference=True)
    return _poll(request, ticket.reference, store_reference=True)


def request_poll(*, request_id: int) -> OperatorRequest | None:
    """Ask the operator where a sent request stands and report a final answer (``contracts.outcomes``).

    Completed → contract updated (creation: Actif, R-CON-7). Failed and retryable with attempts left →
    planned again after ``retry_delay`` within the operator's window. Failed otherwise → final failure (the
    contract shows the operator's message). Still pending → nothing (the sweep polls again). Idempotent."""
    request = _request_or_none(request_id)
    if request is None or request.state != State.SENT or not request.operator_reference:
        return request
    return _poll(request, request.operator_reference)


def _poll(
    request: OperatorRequest, reference: str, *, store_reference: bool = False
) -> OperatorRequest | None:
    operator = get_operator(request.network)
    sent = OperatorRequest.objects.filter(pk=request.pk, state=State.SENT)
    try:
        status = operator.request_status(reference)
    except OperatorRefusal as exc:  # the operator does not know this reference: submit again (same key)
        logger.warning("request %s: unknown operator reference %s", request.pk, reference)
        sent.update(operator_reference="", last_error=exc.message, updated_at=timezone.now())
        if store_reference:  # it just gave us that reference: do not loop, the sweep re-sends later
            return request
        return request_send(request_id=request.pk)
    except OperatorTransientError:
        if store_reference:
            sent.update(operator_reference=reference, updated_at=timezone.now())
        raise
    return _settle(request, reference, status, store_reference=store_reference)


def _settle(
    request: OperatorRequest, reference: str, status: OperatorStatus, *, store_reference: bool = False
) -> OperatorRequest | None:
    """What the operator's answer ``status`` means for ``request`` (see ``request_poll``)."""
    sent = OperatorRequest.objects.filter(pk=request.pk, state=State.SENT)
    if status.state == RequestState.COMPLETED:
        return outcomes.operator_request_completed(
            request_id=request.pk,
            result=status.result,
            operator_reference=reference,
            contract_id=request.contract_id,
        )
    if store_reference or status.state == RequestState.PENDING:
        sent.update(operator_reference=reference, updated_at=timezone.now())
        request.operator_reference = reference
    if status.state == RequestState.PENDING:
        return request
    error = status.error or _("Échec signalé par l'opérateur.")
    if status.retryable and request.attempts < max_attempts():
        now = timezone.now()
        with transaction.atomic():
            outcomes.operator_request_failed(request_id=request.pk, error=error, final=False)
            try:
                planned_at = planned_time(request, now + retry_delay(request.attempts))
            except (rules.UnsupportedRequest, ValueError):  # pragma: no cover - it was planned before
                planned_at = now + retry_delay(request.attempts)
            return _replan(request.pk, planned_at=planned_at, error=error, reason="")
    return outcomes.operator_request_failed(request_id=request.pk, error=error, final=True)


# --------------------------------------------------------------------------------------------------------
# R-CON-7: activation delay
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationDelay:
    """How long a line took to go live: ``elapsed`` (calendar), ``open_seconds`` (time the operator's window
    for this creation was open between the order and the delivery: the "business hours" of R-CON-7) and
    ``business_days`` (business days after the order day up to the delivery day, for portability)."""

    elapsed: timedelta
    open_seconds: float
    business_days: int
    portability: bool

    @property
    def within_rule(self) -> bool:
        """R-CON-7: within 1 business hour without portability, within 3 (business) days with portability."""
        return self.business_days <= 3 if self.portability else self.open_seconds <= 3600


def window_open_seconds(
    kind: str, network: str, start: datetime, end: datetime, *, esim: bool = False
) -> float:
    """Seconds between ``start`` and ``end`` during which ``network`` accepts ``kind`` (R-PRV-1..3 hours)."""
    spec = rules.window_spec(kind, network, esim=esim)
    start, end = rules.utc(start), rules.utc(end)
    total = 0.0
    day = rules.local(start).date()
    while day <= rules.local(end).date():
        if day.weekday() in spec.weekdays and (spec.on_holidays or not rules.is_public_holiday(day)):
            opens = datetime.combine(day, spec.opens, tzinfo=rules.PARIS)
            closes = (
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=rules.PARIS)
                if spec.closes is None
                else datetime.combine(day, spec.closes, tzinfo=rules.PARIS)
            )
            low, high = max(start, rules.utc(opens)), min(end, rules.utc(closes))
            if high > low:
                total += (high - low).total_seconds()
        day += timedelta(days=1)
    return total


def business_days_between(first: date, last: date) -> int:
    """Business days (Mon–Fri, French holidays excluded) in ``(first, last]``."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += rules.is_business_day(day)
    return count


def activation_delay(contract: Contract) -> ActivationDelay | None:
    """R-CON-7: the activation delay of a delivered line (``None`` while not delivered), measured from the
    order (its creation request's ``ordered_at``) to ``delivered_at``."""
    if contract.delivered_at is None:
        return None
    request = (
        OperatorRequest.objects.filter(contract=contract, kind__in=list(CREATION_KINDS))
        .order_by("created_at", "id")
        .first()
    )
    ordered_at = _ordered_at(request) if request is not None else contract.created_at
    portability = contract.portability or (request is not None and request.kind == RequestKind.PORT_IN)
    kind = request.kind if request is not None else RequestKind.CREATE_LINE
    esim = contract.is_esim
    open_kind = RequestKind.CREATE_LINE if kind == RequestKind.PORT_IN else kind
    return ActivationDelay(
        elapsed=contract.delivered_at - ordered_at,
        open_seconds=window_open_seconds(
            open_kind, contract.network, ordered_at, contract.delivered_at, esim=esim
        ),
        business_days=business_days_between(
            timezone.localtime(ordered_at).date(), timezone.localtime(contract.delivered_at).date()
        ),
        portability=portability,
    )


__all__ = [
    "ActivationDelay",
    "DispatchReport",
    "activation_delay",
    "claim_due_requests",
    "dispatch_due_requests",
    "plan_pending_requests",
    "planned_time",
    "request_plan",
    "request_poll",
    "request_send",
]
