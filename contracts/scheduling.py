"""Scheduled changes of offer: upgrade/downgrade (R-CON-1) and blocked ⇄ non-blocked migration (R-CON-2), effective
the 1st of next month at 00:00 Europe/Paris; refused changes carry their rule (R-CON-3, ``catalog.rules``).

How a change lives (``ScheduledChange`` + its ``OperatorRequest``):

    schedule ──► scheduled ──(effective_at, operator confirms)──► applied
                    │  ▲                       │
       cancel before│  └── request retried ────┤ operator fails for good
      effective_at  ▼                          ▼
                cancelled                    failed

- ``contract_offer_change_schedule`` writes, in one transaction, the change and its durable intent: an
  ``OperatorRequest`` ``change_offer`` with ``not_before = effective_at`` — the dispatcher plans it at that
  instant and sends it then (nothing else has to wake up on the 1st).
- ``scheduled_change_cancel``: only while ``scheduled`` and before ``effective_at``; its request, not sent yet,
  is cancelled with it.
- ``scheduled_changes_apply_due`` (beat task ``contracts.apply_scheduled_changes``, every 5 minutes, harmless
  to run often): for due changes it makes sure the intent is there (a missing or cancelled request is written
  again), wakes the dispatcher, applies a completed request whose outcome was not applied, marks a change
  whose request failed for good, and cancels the change of a terminated line.
- The operator's confirmation applies the change (``APPLIERS[change_offer]``, registered in
  ``contracts.outcomes``): ``contract.offer`` switches, the change is closed with ``applied_at``.

**What the contract shows between the effective date and the operator's confirmation**: its current offer —
the one the operator still runs — and, on the Informations tab, the pending change "en cours chez
l'opérateur" (no longer cancellable). The contract never claims an offer the operator has not confirmed;
billing uses the contractual date ``effective_at`` (the 1st), not ``applied_at``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import rules as catalog_rules
from catalog.models import Offer
from core.errors import RuleViolation
from core.operator_kinds import RequestKind
from partners.models import Partner, User

from .models import Contract, ContractEvent, ContractOption, OperatorRequest, ScheduledChange
from .services import (
    contract_event_record,
    operator_request_create,
    operator_request_transition,
    wake_dispatcher,
)

logger = logging.getLogger(__name__)

State = ScheduledChange.State
ReqState = OperatorRequest.State
#: A line whose offer may be changed (R-CON-9: Upgrade/Downgrade and Migration on a live line).
CHANGEABLE_STATES = (Contract.State.ACTIVE, Contract.State.SUSPENDED)
_GONE_STATES = (Contract.State.TERMINATING, Contract.State.TERMINATED)
_DUE_BATCH = 500


def _when(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%d/%m/%Y à %H:%M")


def _kind_label(kind: str) -> str:
    return str(ScheduledChange.Kind(kind).label)


def _lock_contract(contract_id: int) -> Contract:
    return Contract.objects.select_for_update(of=("self",)).select_related("offer").get(pk=contract_id)


def _operator_line_id(contract: Contract) -> str:
    """The operator's id of the line, from the answer to its creation (the simulator also finds it by number)."""
    result = (
        OperatorRequest.objects.filter(contract=contract, state=ReqState.COMPLETED)
        .filter(result__has_key="operator_line_id")
        .order_by("-completed_at", "-id")
        .values_list("result", flat=True)
        .first()
    )
    return (result or {}).get("operator_line_id", "")


def _request_for(change: ScheduledChange, contract: Contract, actor: User | None) -> OperatorRequest:
    """The durable intent of ``change``: ``change_offer`` sent at ``effective_at`` (``not_before``)."""
    offer = change.to_offer
    payload: dict[str, Any] = {
        "offer_code": offer.code,
        "range": offer.range,
        "blocked": offer.blocked,
        "data_bytes": offer.data_bytes,
        "change_kind": change.kind,
        "effective_at": change.effective_at.isoformat(),
        "scheduled_change": change.pk,
    }
    line_id = _operator_line_id(contract)
    if line_id:
        payload["operator_line_id"] = line_id
    return operator_request_create(
        contract=contract,
        kind=RequestKind.CHANGE_OFFER,
        payload=payload,
        not_before=change.effective_at,
        actor=actor,
        message=_("Demande opérateur enregistrée : changement d'offre vers %(offer)s, pas avant le %(when)s.")
        % {"offer": offer.label, "when": _when(change.effective_at)},
    )


def _pending_message(pending: ScheduledChange) -> str:
    return _(
        "Un changement d'offre est déjà programmé pour le %(when)s (%(offer)s) : annulez-le avant d'en "
        "programmer un autre."
    ) % {"when": _when(pending.effective_at), "offer": pending.to_offer.label}


# --------------------------------------------------------------------------------------------------------
# Schedule, cancel
# --------------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_offer_change_schedule(
    *, contract: Contract, new_offer: Offer, actor: User | None
) -> ScheduledChange:
    """Schedule the move of ``contract`` to ``new_offer`` on the 1st of next month, 00:00 Paris.

    Upgrade/downgrade within the range (R-CON-1) or blocked ⇄ non-blocked migration (R-CON-2); a change of
    range, a plan → compteur, a Travel → Illimité are refused with R-CON-3, another network with R-CAT-1
    (``catalog.rules.offer_change``) — always on the field ``offer``. The line must be active or suspended
    and have no other pending change (one per contract: a database constraint, and this French message)."""
    now = timezone.now()
    locked = _lock_contract(contract.pk)
    if locked.state not in CHANGEABLE_STATES:
        raise RuleViolation(
            _(
                "Changement d'offre impossible : la ligne est « %(state)s » (il faut une ligne active ou suspendue)."
            )
            % {"state": Contract.State(locked.state).label},
            field="state",
            rule="R-CON-9",
        )
    if new_offer is None:
        raise RuleViolation(_("Choisissez la nouvelle offre."), field="offer", rule="R-CON-1")
    pending = (
        ScheduledChange.objects.filter(contract=locked, state=State.SCHEDULED)
        .select_related("to_offer")
        .first()
    )
    if pending is not None:
        raise RuleViolation(_pending_message(pending), field="offer", rule="R-CON-9")
    if OperatorRequest.objects.filter(
        contract=locked, kind=RequestKind.CHANGE_OFFER, state__in=OperatorRequest.OPEN_STATES
    ).exists():
        raise RuleViolation(
            _("Un changement d'offre est en cours chez l'opérateur : attendez sa confirmation."),
            field="offer",
            rule="R-CON-9",
        )
    decision = catalog_rules.offer_change(locked.offer, new_offer)
    decision.raise_if_refused(field="offer")  # R-CON-3 (range, plan → compteur, Travel → Illimité), R-CAT-1
    effective_at = catalog_rules.offer_change_effective_at(now)
    try:
        with transaction.atomic():
            change = ScheduledChange.objects.create(
                partner_id=locked.partner_id,
                contract=locked,
                kind=decision.kind,
                from_offer=locked.offer,
                to_offer=new_offer,
                effective_at=effective_at,
                rule=decision.rule,
                created_by=actor,
                created_at=now,
            )
    except IntegrityError:  # sched_change_one_pending: a concurrent schedule won
        pending = (
            ScheduledChange.objects.filter(contract=locked, state=State.SCHEDULED)
            .select_related("to_offer")
            .first()
        )
        if pending is None:
            raise
        raise RuleViolation(_pending_message(pending), field="offer", rule="R-CON-9") from None
    change.operator_request = _request_for(change, locked, actor)
    change.save(update_fields=["operator_request"])
    contract_event_record(
        contract=locked,
        kind=ContractEvent.Kind.CHANGE,
        actor=actor,
        message=_("%(kind)s programmé : %(from)s → %(to)s, effectif le %(when)s (%(rule)s).")
        % {
            "kind": _kind_label(change.kind),
            "from": locked.offer.label,
            "to": new_offer.label,
            "when": _when(effective_at),
            "rule": decision.rule,
        },
        data={
            "scheduled_change": change.pk,
            "kind": change.kind,
            "from_offer": locked.offer.code,
            "to_offer": new_offer.code,
            "effective_at": effective_at,
            "rule": decision.rule,
            "operator_request": change.operator_request_id,
        },
    )
    return change


@transaction.atomic
def scheduled_change_cancel(*, change: ScheduledChange, actor: User | None) -> ScheduledChange:
    """Cancel a scheduled change before it takes effect; its operator request (not sent yet) is cancelled
    with it. Idempotent on a cancelled change. After ``effective_at``, or once applied or sent to the
    operator → ``RuleViolation``."""
    now = timezone.now()
    contract = _lock_contract(change.contract_id)
    locked = (
        ScheduledChange.objects.select_for_update().select_related("from_offer", "to_offer").get(pk=change.pk)
    )
    if locked.state == State.CANCELLED:
        return locked
    rule = locked.rule or "R-CON-1"
    if locked.state != State.SCHEDULED:
        raise RuleViolation(
            _("Ce changement d'offre est « %(state)s » : il ne peut plus être annulé.")
            % {"state": State(locked.state).label},
            field="change",
            rule=rule,
        )
    if now >= locked.effective_at:
        raise RuleViolation(
            _("Le changement d'offre a pris effet le %(when)s : il ne peut plus être annulé.")
            % {"when": _when(locked.effective_at)},
            field="change",
            rule=rule,
        )
    request = None
    if locked.operator_request_id:
        request = OperatorRequest.objects.select_for_update().get(pk=locked.operator_request_id)
        if request.state in (ReqState.SENT, ReqState.COMPLETED):
            raise RuleViolation(
                _("Le changement d'offre est déjà transmis à l'opérateur : il ne peut plus être annulé."),
                field="change",
                rule=rule,
            )
        if request.state in (ReqState.PENDING, ReqState.PLANNED):
            operator_request_transition(request=request, to_state=ReqState.CANCELLED)
    locked.state = State.CANCELLED
    locked.cancelled_at = now
    locked.cancelled_by = actor
    locked.save(update_fields=["state", "cancelled_at", "cancelled_by"])
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.CHANGE,
        actor=actor,
        message=_("%(kind)s annulé avant sa date d'effet (%(from)s → %(to)s, prévu le %(when)s).")
        % {
            "kind": _kind_label(locked.kind),
            "from": locked.from_offer.label,
            "to": locked.to_offer.label,
            "when": _when(locked.effective_at),
        },
        data={
            "scheduled_change": locked.pk,
            "operator_request": locked.operator_request_id,
            "cancelled": True,
        },
    )
    return locked


@transaction.atomic
def contract_scheduled_change_drop(
    *, contract: Contract, actor: User | None = None, reason: str = ""
) -> ScheduledChange | None:
    """A line being terminated keeps no scheduled change (for ``contracts.lifecycle``): the pending change is
    cancelled whatever its date — unlike ``scheduled_change_cancel``, which is the partner's action and
    refused once the change took effect — with its operator request when not sent yet. A request already
    sent is left to the operator (its answer is applied, the termination follows). Returns the change
    cancelled, or ``None``. Never raises for a due change: a termination must not fail on it."""
    now = timezone.now()
    locked_contract = _lock_contract(contract.pk)
    change = (
        ScheduledChange.objects.select_for_update()
        .select_related("to_offer")
        .filter(contract=locked_contract, state__in=[State.SCHEDULED, State.FAILED])
        .order_by("-created_at", "-id")
        .first()
    )
    if change is None:
        return None
    if change.operator_request_id:
        request = OperatorRequest.objects.select_for_update().get(pk=change.operator_request_id)
        if request.state in (ReqState.SENT, ReqState.COMPLETED):
            return None
        if request.state in (ReqState.PENDING, ReqState.PLANNED):
            operator_request_transition(request=request, to_state=ReqState.CANCELLED)
    change.state, change.cancelled_at, change.cancelled_by = State.CANCELLED, now, actor
    change.save(update_fields=["state", "cancelled_at", "cancelled_by"])
    contract_event_record(
        contract=locked_contract,
        kind=ContractEvent.Kind.CHANGE,
        actor=actor,
        actor_label="" if actor else _("Système"),
        message=_("%(kind)s vers %(to)s annulé : %(reason)s.")
        % {
            "kind": _kind_label(change.kind),
            "to": change.to_offer.label,
            "reason": reason or _("la ligne est résiliée"),
        },
        data={
            "scheduled_change": change.pk,
            "operator_request": change.operator_request_id,
            "cancelled": True,
        },
    )
    return change


# --------------------------------------------------------------------------------------------------------
# Applying (operator confirmation) and the beat safety net
# --------------------------------------------------------------------------------------------------------


def _follow_europe_cutoff(contract: Contract, old: Offer, new: Offer) -> None:
    """R-ROA-3: the Orange Europe cut-off of an Illimité line is its envelope — it follows the new offer."""
    before = catalog_rules.orange_europe_cutoff(old)
    after = catalog_rules.orange_europe_cutoff(new)
    if before is None or after is None:
        return
    from catalog.labels import roaming_choice_label  # the order's own wording of a cut-off

    ContractOption.objects.filter(contract=contract, code=before.code).exclude(
        status=ContractOption.Status.TERMINATED
    ).update(code=after.code, label=roaming_choice_label(after))


def _switch_offer(
    *, contract: Contract, change: ScheduledChange | None, request: OperatorRequest, to_offer: Offer
) -> None:
    """The operator confirmed: the contract takes ``to_offer``; the change is closed (``applied_at``)."""
    now = timezone.now()
    from_offer = contract.offer
    if contract.offer_id != to_offer.pk:
        live_codes = set(
            ContractOption.objects.filter(contract=contract)
            .exclude(status=ContractOption.Status.TERMINATED)
            .values_list("code", flat=True)
        )
        contract.offer = to_offer
        contract.five_g = bool(to_offer.five_g_included or catalog_rules.FIVE_G in live_codes)  # R-CAT-9
        contract.save(update_fields=["offer", "five_g", "updated_at"])
        _follow_europe_cutoff(contract, from_offer, to_offer)
    if change is not None and change.state in (State.SCHEDULED, State.FAILED):
        change.state = State.APPLIED
        change.applied_at = now
        change.last_error = ""
        change.save(update_fields=["state", "applied_at", "last_error"])
    kind = _kind_label(change.kind) if change is not None else _("Changement d'offre")
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.CHANGE,
        actor_label=_("Opérateur"),
        message=_("%(kind)s appliqué par l'opérateur : %(from)s → %(to)s%(when)s.")
        % {
            "kind": kind,
            "from": from_offer.label,
            "to": to_offer.label,
            "when": _(" (effectif le %(when)s)") % {"when": _when(change.effective_at)} if change else "",
        },
        data={
            "scheduled_change": change.pk if change else None,
            "operator_request": request.pk,
            "from_offer": from_offer.code,
            "to_offer": to_offer.code,
            "rule": change.rule if change else "",
        },
    )


def _change_of(request: OperatorRequest, contract: Contract) -> ScheduledChange | None:
    change = ScheduledChange.objects.select_for_update().filter(operator_request=request).first()
    if change is None and (request.payload or {}).get("scheduled_change"):
        change = (
            ScheduledChange.objects.select_for_update()
            .filter(pk=request.payload["scheduled_change"], contract=contract)
            .first()
        )
    return change


def _apply_offer_changed(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """``APPLIERS[change_offer]``: the operator changed the offer (R-CON-1/2) — the contract follows."""
    change = _change_of(request, contract)
    if change is not None:
        to_offer = change.to_offer
    else:  # a change_offer written by something else than a scheduled change: trust its payload
        code = (request.payload or {}).get("offer_code") or result.get("offer_code")
        to_offer = Offer.objects.filter(code=code).first()
        if to_offer is None:
            raise RuleViolation(
                _("Offre %(code)s inconnue du catalogue.") % {"code": code}, field="offer", rule="R-CON-1"
            )
    _switch_offer(contract=contract, change=change, request=request, to_offer=to_offer)


def _mark_failed(change: ScheduledChange, contract: Contract, request: OperatorRequest, error: str) -> None:
    if change.state != State.SCHEDULED:
        return
    change.state = State.FAILED
    change.last_error = error
    change.save(update_fields=["state", "last_error"])
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.CHANGE,
        actor_label=_("Opérateur"),
        message=_("%(kind)s vers %(to)s refusé par l'opérateur : %(error)s")
        % {"kind": _kind_label(change.kind), "to": change.to_offer.label, "error": error},
        data={"scheduled_change": change.pk, "operator_request": request.pk, "error": error},
    )


def _fail_offer_change(request: OperatorRequest, contract: Contract, error: str) -> None:
    """``FAILURE_APPLIERS[change_offer]``: the change fails visibly (the request's "retry" brings it back)."""
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=timezone.now())
    change = _change_of(request, contract)
    if change is not None:
        _mark_failed(change, contract, request, error)


#: Registered in ``contracts.outcomes`` (one import + ``update`` line at its end).
APPLIERS = {RequestKind.CHANGE_OFFER: _apply_offer_changed}
FAILURE_APPLIERS = {RequestKind.CHANGE_OFFER: _fail_offer_change}


@transaction.atomic
def _settle_due(change_id: int, now: dt.datetime) -> bool:
    """One due change, under the contract → change → request locks (the order of ``contracts.outcomes``).
    Returns True when its request is still on its way (the dispatcher should be woken)."""
    contract_id = ScheduledChange.objects.filter(pk=change_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        return False
    contract = _lock_contract(contract_id)
    change = (
        ScheduledChange.objects.select_for_update().select_related("to_offer", "from_offer").get(pk=change_id)
    )
    if change.state not in (State.SCHEDULED, State.FAILED) or change.effective_at > now:
        return False
    request = (
        OperatorRequest.objects.select_for_update().filter(pk=change.operator_request_id).first()
        if change.operator_request_id
        else None
    )
    if contract.state in _GONE_STATES:
        if request is not None and request.state in (ReqState.PENDING, ReqState.PLANNED):
            request = operator_request_transition(request=request, to_state=ReqState.CANCELLED)
        if request is None or request.state in (ReqState.CANCELLED, ReqState.FAILED):
            change.state, change.cancelled_at = State.CANCELLED, now
            change.save(update_fields=["state", "cancelled_at"])
            contract_event_record(
                contract=contract,
                kind=ContractEvent.Kind.CHANGE,
                actor_label=_("Système"),
                message=_("%(kind)s vers %(to)s annulé : la ligne est résiliée.")
                % {"kind": _kind_label(change.kind), "to": change.to_offer.label},
                data={"scheduled_change": change.pk},
            )
        return False
    if request is None or request.state == ReqState.CANCELLED:
        # The durable intent went missing: write it again (sent at once, the effective date has come).
        change.operator_request = _request_for(change, contract, None)
        change.save(update_fields=["operator_request"])
        return True
    if request.state == ReqState.COMPLETED:  # the operator did it but the outcome was not applied
        _switch_offer(contract=contract, change=change, request=request, to_offer=change.to_offer)
        return False
    if request.state == ReqState.FAILED:
        _mark_failed(change, contract, request, request.last_error)
        return False
    if change.state == State.FAILED:  # the failed request was retried: the change waits again
        change.state, change.last_error = State.SCHEDULED, ""
        change.save(update_fields=["state", "last_error"])
    return True


def scheduled_changes_apply_due(now: dt.datetime | None = None) -> int:
    """The beat safety net (``contracts.apply_scheduled_changes``): settle every change whose effective date
    has come (see the module docstring). Each change in its own transaction; idempotent. Returns how many
    due changes were looked at."""
    now = now or timezone.now()
    due = list(
        ScheduledChange.objects.filter(effective_at__lte=now)
        .filter(
            Q(state=State.SCHEDULED)
            | Q(
                state=State.FAILED,
                operator_request__state__in=[*OperatorRequest.OPEN_STATES, ReqState.COMPLETED],
            )
        )
        .order_by("effective_at", "id")
        .values_list("pk", flat=True)[:_DUE_BATCH]
    )
    wake = False
    for pk in due:
        try:
            wake = _settle_due(pk, now) or wake
        except Exception:  # one change must not stop the others; the next run tries again
            logger.exception("scheduled change %s could not be settled", pk)
    if wake:
        transaction.on_commit(wake_dispatcher)
    return len(due)


# --------------------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------------------


def contract_pending_change(partner: Partner, contract: Contract) -> ScheduledChange | None:
    """The contract's scheduled change not applied yet (at most one), or ``None``. Partner-scoped."""
    return (
        ScheduledChange.objects.filter(partner=partner, contract=contract, state=State.SCHEDULED)
        .select_related("from_offer", "to_offer", "operator_request", "created_by")
        .first()
    )


def contract_scheduled_changes(partner: Partner, contract: Contract):
    """Every scheduled change of the contract, newest first."""
    return (
        ScheduledChange.objects.filter(partner=partner, contract=contract)
        .select_related("from_offer", "to_offer", "operator_request")
        .order_by("-created_at", "-id")
    )


def scheduled_change_get_for_partner_or_404(partner: Partner, change_id) -> ScheduledChange:
    """One scheduled change; the same 404 for a missing one and for another partner's."""
    try:
        return ScheduledChange.objects.select_related("contract", "from_offer", "to_offer").get(
            partner=partner, pk=change_id
        )
    except (ScheduledChange.DoesNotExist, ValueError, TypeError):
        raise Http404("changement programmé") from None
