"""How provisioning reports operator outcomes back to contracts (ARCHITECTURE: the arrow runs
``provisioning → contracts``; this module never imports ``provisioning``).

Provisioning calls three functions, each in one transaction, each idempotent (a task delivered twice, a poll
racing a sweep, a retry clicked twice change nothing more):

- ``operator_request_completed(request_id=…, result=…)``: the operator did it. The request becomes
  ``completed`` with the operator's result, and the applier registered for the request's kind in
  ``APPLIERS`` moves the contract and writes the history line (a creation: En cours → Actif, delivery date recorded,
  R-CON-7/8). Already completed → returns quietly.
- ``operator_request_failed(request_id=…, error=…, final=…)``: an attempt failed. Not final → the error is
  recorded on the request and in the history, provisioning retries. Final → the request is ``failed`` and the
  applier of ``FAILURE_APPLIERS`` shows it on the contract (a creation: contract ``failed`` with the operator's
  message, issue 4 "retry" action).
- ``operator_request_retry(request_id=…, actor=…)`` / ``contract_provisioning_retry(contract=…, actor=…)``: the
  "retry" action — failed request → pending, contract failed → pending, dispatcher woken after commit.

Row locks are always taken contract first, then request (same order as the contract services that write
requests), so two outcomes for one line never deadlock.

The lifecycle actions (suspend, terminate, change of offer, SIM swap…) register their own appliers:
``APPLIERS[RequestKind.SUSPEND] = _apply_suspended`` — each receives the locked request, the locked contract and
the operator's result, runs inside the completion transaction and writes the history line (``contract_transition``
does); a ``RuleViolation`` it raises is recorded in the history instead, the request stays completed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.operator_kinds import RequestKind
from inventory import services as inventory
from inventory.models import PhoneNumber, SimCard
from partners.models import User

from .models import Contract, ContractEvent, ContractOption, OperatorRequest
from .services import (
    contract_event_record,
    contract_transition,
    operator_request_transition,
    wake_dispatcher,
)

logger = logging.getLogger(__name__)

State = OperatorRequest.State
Applier = Callable[[OperatorRequest, Contract, dict[str, Any]], None]
FailureApplier = Callable[[OperatorRequest, Contract, str], None]

#: Kinds that create the line at the operator (the contract goes live when they complete).
CREATION_KINDS = frozenset({RequestKind.CREATE_LINE, RequestKind.CREATE_LINE_ESIM, RequestKind.PORT_IN})


# --------------------------------------------------------------------------------------------------------
# Locks
# --------------------------------------------------------------------------------------------------------


def _lock(request_id: int, contract_id: int | None = None) -> tuple[OperatorRequest, Contract] | None:
    """Lock the contract (with the partner, number, SIM and eSIM the appliers read), then the request (fixed
    order). ``None`` when the request does not exist. Small queries on purpose: a six-table join costs more
    to plan than the lazy loads it would save.

    ``contract_id``: the request's contract when the caller already knows it (it never changes), which saves
    the look-up; checked once both rows are locked, and looked up again when it was not the request's."""
    if contract_id is None:
        contract_id = (
            OperatorRequest.objects.filter(pk=request_id).values_list("contract_id", flat=True).first()
        )
        if contract_id is None:
            return None
    try:  # ``get``: no ordering to build or sort (Contract is ordered by -created_at)
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("partner", "phone_number", "sim", "esim")
            .get(pk=contract_id)
        )
    except Contract.DoesNotExist:
        contract = None
    try:
        request = OperatorRequest.objects.select_for_update().get(pk=request_id)
    except OperatorRequest.DoesNotExist:
        return None
    if contract is None or request.contract_id != contract.pk:  # a wrong hint: lock the right contract
        return _lock(request_id)
    return request, contract


def _move_contract(
    contract: Contract,
    to_state: str,
    *,
    actor_label: str,
    message: str,
    data: dict[str, Any],
    **changes,
) -> Contract:
    """``contract_transition`` for a contract this module already holds locked (``_lock``): the same rule
    (``Contract.TRANSITIONS``, idempotent, illegal move refused with R-CON-8 by ``contract_transition`` itself),
    the same ``update_fields`` save and history line, without locking the row a second time."""
    if contract.state == to_state or to_state not in Contract.TRANSITIONS[contract.state]:
        return contract_transition(
            contract=contract,
            to_state=to_state,
            actor_label=actor_label,
            message=message,
            data=data,
            **changes,
        )
    from_state = contract.state
    contract.state = to_state
    contract.state_changed_at = timezone.now()
    for name, value in changes.items():
        setattr(contract, name, value)
    contract.save(update_fields=["state", "state_changed_at", "updated_at", *changes.keys()])
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.STATE_CHANGED,
        message=message,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )
    return contract


def _move_request(request: OperatorRequest, to_state: str, **changes) -> OperatorRequest:
    """``operator_request_transition`` for a request this module already holds locked (same rule:
    ``OperatorRequest.TRANSITIONS``, illegal move refused, ``update_fields``) without locking it again."""
    if to_state not in OperatorRequest.TRANSITIONS[request.state]:
        return operator_request_transition(request=request, to_state=to_state, **changes)  # raises
    request.state = to_state
    for name, value in changes.items():
        setattr(request, name, value)
    request.save(update_fields=["state", "updated_at", *changes.keys()])
    return request


# --------------------------------------------------------------------------------------------------------
# Appliers (completed requests)
# --------------------------------------------------------------------------------------------------------


def _apply_line_created(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """create_line / create_line_esim / port_in: the line is live (R-CON-7, R-CON-8 En cours → Actif).

    - the number: a 14-digit ``0700…`` number chosen by Orange for a Data only / M2M line (R-CAT-5/6) is
      stored on the contract and recorded in the inventory as in use; a pool number becomes in use;
    - the SIM / the eSIM profile become in use (R-OPT-2);
    - the options ordered with the line become active."""
    now = timezone.now()
    changes: dict[str, Any] = {"delivered_at": now, "last_error": ""}
    msisdn = (result.get("msisdn") or "").strip()
    if not contract.msisdn and msisdn:
        changes["msisdn"] = msisdn
        if len(msisdn) == 14:  # R-CAT-5/6: Orange's number, recorded in the inventory as in use
            changes["phone_number"] = inventory.number_record_external(
                partner=contract.partner,
                network=contract.network,
                msisdn=msisdn,
                client=contract.client,
                kind=PhoneNumber.Kind.M2M_DATA,
            )
    elif contract.phone_number_id:
        # reserved for this client by the order: only its state changes
        inventory.number_mark_in_use(partner=contract.partner, msisdns=[contract.phone_number.msisdn])
    if contract.sim_id and contract.sim.state != SimCard.State.IN_USE:  # the order put it in use already
        inventory.sim_mark_in_use(
            partner=contract.partner, iccids=[contract.sim.iccid], client=contract.client
        )
    if contract.esim_id:
        inventory.esim_mark_in_use(partner=contract.partner, iccids=[contract.esim.iccid])
    ContractOption.objects.filter(contract=contract, status=ContractOption.Status.PENDING).update(
        status=ContractOption.Status.ACTIVE, activated_at=now
    )
    number = changes.get("msisdn") or contract.msisdn or ""
    _move_contract(
        contract,
        Contract.State.ACTIVE,
        actor_label=_("Opérateur"),
        message=_("Ligne activée par l'opérateur (numéro %(msisdn)s).") % {"msisdn": number}
        if number
        else _("Ligne activée par l'opérateur."),
        data={
            "operator_request": request.pk,
            "kind": request.kind,
            "operator_reference": request.operator_reference,
            "operator_line_id": result.get("operator_line_id", ""),
            "msisdn": number,
            "iccid": result.get("iccid", ""),
        },
        **changes,
    )


#: RequestKind → what a completed request does to the contract. The lifecycle actions add their kinds.
APPLIERS: dict[str, Applier] = {
    RequestKind.CREATE_LINE: _apply_line_created,
    RequestKind.CREATE_LINE_ESIM: _apply_line_created,
    RequestKind.PORT_IN: _apply_line_created,
}


def _fail_line_creation(request: OperatorRequest, contract: Contract, error: str) -> None:
    """A creation failed for good: the contract shows the error and offers "retry" (issue 4)."""
    if contract.state != Contract.State.PENDING:
        return
    contract_transition(
        contract=contract,
        to_state=Contract.State.FAILED,
        actor_label=_("Opérateur"),
        message=_("Activation refusée par l'opérateur : %(error)s") % {"error": error},
        data={"operator_request": request.pk, "kind": request.kind, "error": error},
        last_error=error,
    )


#: RequestKind → what a final failure does to the contract (default: the error is recorded on it).
FAILURE_APPLIERS: dict[str, FailureApplier] = {
    RequestKind.CREATE_LINE: _fail_line_creation,
    RequestKind.CREATE_LINE_ESIM: _fail_line_creation,
    RequestKind.PORT_IN: _fail_line_creation,
}


def _record_contract_error(request: OperatorRequest, contract: Contract, error: str) -> None:
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=timezone.now())


# --------------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------------


def operator_request_completed(
    *, request_id: int, result: dict[str, Any], operator_reference: str = "", contract_id: int | None = None
) -> OperatorRequest | None:
    """The operator completed the request: request → completed (result kept, and ``operator_reference`` when
    given), then the kind's applier (``APPLIERS``), which writes the history line; a kind without applier gets
    a plain "done by the operator" line. Idempotent: an already completed (or cancelled) request is returned
    unchanged. Returns ``None`` when the request does not exist.

    When the applier refuses (``RuleViolation``: the contract moved on meanwhile), the operator's word is kept
    all the same: the request is completed and the refusal is written in the history.

    ``contract_id`` (optional): the request's contract, when the caller has it (saves a look-up)."""
    try:
        return _complete(
            request_id=request_id,
            result=result or {},
            operator_reference=operator_reference,
            contract_id=contract_id,
        )
    except RuleViolation as exc:
        logger.warning("operator result of request %s not applied: %s", request_id, exc.message)
        return _complete(
            request_id=request_id,
            result=result or {},
            operator_reference=operator_reference,
            contract_id=contract_id,
            refused=exc,
        )


@transaction.atomic
def _complete(
    *,
    request_id: int,
    result: dict[str, Any],
    operator_reference: str,
    contract_id: int | None = None,
    refused: RuleViolation | None = None,
) -> OperatorRequest | None:
    locked = _lock(request_id, contract_id)
    if locked is None:
        return None
    request, contract = locked
    if request.state != State.SENT:
        # completed already (double delivery), cancelled meanwhile, or not sent: nothing more to do.
        return request
    changes: dict[str, Any] = {"completed_at": timezone.now(), "result": result, "last_error": ""}
    if operator_reference:
        changes["operator_reference"] = operator_reference
    request = _move_request(request, State.COMPLETED, **changes)
    applier = APPLIERS.get(request.kind)
    if applier is not None and refused is None:
        applier(request, contract, result)
        return request
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_("Opérateur"),
        message=_("%(kind)s effectuée par l'opérateur (réf. %(ref)s).")
        % {"kind": RequestKind(request.kind).label, "ref": request.operator_reference or "—"},
        data={
            "operator_request": request.pk,
            "kind": request.kind,
            "operator_reference": request.operator_reference,
        },
    )
    if refused is not None:
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor_label=_("Système"),
            message=_("Réponse de l'opérateur non appliquée au contrat : %(error)s")
            % {"error": refused.message},
            data={"operator_request": request.pk, "rule": refused.rule},
        )
    return request


@transaction.atomic
def operator_request_failed(*, request_id: int, error: str, final: bool) -> OperatorRequest | None:
    """An attempt of the request failed with the operator's message ``error``.

    ``final=False``: the error is recorded on the request and in the history (provisioning retries it).
    ``final=True``: the request → failed, and the kind's ``FAILURE_APPLIERS`` entry shows it on the contract (a
    creation: contract → failed with the message). Idempotent: a completed, cancelled or already failed
    request is returned unchanged. ``None`` when the request does not exist."""
    locked = _lock(request_id)
    if locked is None:
        return None
    request, contract = locked
    if request.state in (State.COMPLETED, State.CANCELLED, State.FAILED):
        return request
    error = (error or _("Erreur opérateur inconnue.")).strip()
    if not final:
        request.last_error = error
        request.save(update_fields=["last_error", "updated_at"])
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.OPERATOR_RESPONSE,
            actor_label=_("Opérateur"),
            message=_("%(kind)s : échec de la tentative %(n)d (%(error)s) ; nouvel essai automatique.")
            % {"kind": RequestKind(request.kind).label, "n": request.attempts, "error": error},
            data={"operator_request": request.pk, "kind": request.kind, "error": error, "final": False},
        )
        return request
    request = _move_request(request, State.FAILED, last_error=error)
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_("Opérateur"),
        message=_("%(kind)s en échec après %(n)d tentative(s) : %(error)s")
        % {"kind": RequestKind(request.kind).label, "n": request.attempts, "error": error},
        data={"operator_request": request.pk, "kind": request.kind, "error": error, "final": True},
    )
    FAILURE_APPLIERS.get(request.kind, _record_contract_error)(request, contract, error)
    return request


@transaction.atomic
def operator_request_retry(*, request_id: int, actor: User | None = None) -> OperatorRequest:
    """The "retry" action (issue 4): a failed request goes back to the queue (pending, attempts reset) and its
    contract, if it shows the failure, back to En cours (R-CON-8); the dispatcher is woken after commit.

    Idempotent: a request already back in the queue is returned unchanged. Any other state (completed,
    cancelled) → ``RuleViolation``. ``OperatorRequest.DoesNotExist`` for an unknown id."""
    locked = _lock(request_id)
    if locked is None:
        raise OperatorRequest.DoesNotExist(request_id)
    request, contract = locked
    if request.state in OperatorRequest.OPEN_STATES:
        return request
    if request.state != State.FAILED:
        raise RuleViolation(
            _("Seule une demande opérateur en échec peut être relancée (état : %(state)s).")
            % {"state": State(request.state).label},
            field="state",
            rule="R-CON-8",
        )
    previous_error = request.last_error
    request = operator_request_transition(
        request=request,
        to_state=State.PENDING,
        attempts=0,
        last_error="",
        operator_reference="",
        planned_at=None,
        sent_at=None,
    )
    message = _("Nouvelle tentative demandée : %(kind)s.") % {"kind": RequestKind(request.kind).label}
    data = {"operator_request": request.pk, "kind": request.kind, "previous_error": previous_error}
    if contract.state == Contract.State.FAILED:
        contract_transition(
            contract=contract,
            to_state=Contract.State.PENDING,
            actor=actor,
            message=message,
            data=data,
            last_error="",
        )
    else:
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.OPERATOR_REQUEST,
            actor=actor,
            message=message,
            data=data,
        )
    transaction.on_commit(wake_dispatcher)
    return request


@transaction.atomic
def contract_provisioning_retry(*, contract: Contract, actor: User | None = None) -> OperatorRequest:
    """The contract's "retry" action: retries its latest failed operator request (see
    ``operator_request_retry``). Nothing failed → ``RuleViolation``."""
    request = (
        OperatorRequest.objects.filter(contract=contract, state=State.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )
    if request is None:
        if contract.operator_requests.filter(state__in=OperatorRequest.OPEN_STATES).exists():
            return contract.operator_requests.filter(state__in=OperatorRequest.OPEN_STATES).latest(
                "created_at"
            )
        raise RuleViolation(
            _("Aucune demande opérateur en échec à relancer sur ce contrat."), field="state", rule="R-CON-8"
        )
    return operator_request_retry(request_id=request.pk, actor=actor)


# Lifecycle actions (suspend, resume, terminate, SIM swap, options): ``contracts.lifecycle``.
from . import lifecycle as _lifecycle  # noqa: E402

APPLIERS.update(_lifecycle.APPLIERS)
FAILURE_APPLIERS.update(_lifecycle.FAILURE_APPLIERS)

# Data blocks and SMS bars (R-ALR-1..5, R-CAT-11) and top-ups (R-CAT-10, R-PRV-5): ``contracts.datablocks`` and
# ``contracts.topups``; a top-up not sent yet is cancelled with the line's other requests on termination.
from . import datablocks as _datablocks, topups as _topups  # noqa: E402, I001

APPLIERS.update(_datablocks.APPLIERS)
FAILURE_APPLIERS.update(_datablocks.FAILURE_APPLIERS)
APPLIERS.update(_topups.APPLIERS)
FAILURE_APPLIERS.update(_topups.FAILURE_APPLIERS)
_lifecycle.UNDO.update(_topups.UNDO)

# Scheduled offer changes (R-CON-1/2) and the first eSIM delivery after a creation (R-ORD-3/4): ``contracts.
# scheduling`` and ``contracts.esim`` (keep last: the eSIM hook wraps the creation appliers above).
from . import esim as _esim, scheduling as _scheduling  # noqa: E402, I001

APPLIERS.update(_scheduling.APPLIERS)
FAILURE_APPLIERS.update(_scheduling.FAILURE_APPLIERS)
APPLIERS.update(_esim.creation_appliers(APPLIERS))
