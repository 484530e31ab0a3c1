"""Data blocks, SMS bars, their lifting, and the data threshold of compteur lines (issue 7).

``usage`` rates the operators' CDRs and, when a line reaches a limit, calls these services (the import arrow is
``usage → contracts``; ``provisioning`` sends the operator requests they write):

- ``contract_data_block(contract_id=…, scope=…, zone=…, rule=…, reason=…)``: block the data of a line — the
  France + Europe envelope of a blocked plan is used up (``data``, R-ALR-1/2), a roaming cut-off or option is
  used up (``roaming`` + ``zone``, R-ALR-3, R-ROA-3/4), the data threshold of a compteur line is reached
  (``threshold``, R-CAT-7/8). Exactly once: at most one open block per (line, scope, zone) — a partial unique
  index — so a second call, or a concurrent one, writes nothing and returns ``None``.
- ``contract_sms_bar(contract_id=…, reason=…)``: Orange fair use (R-CAT-11) — more than 500 SMS in an hour bars
  SMS sending for 3 days; the operator lifts it by itself (``lift_at``).
- ``contract_data_unblock(contract=…, scope=…, zone=…, rule=…, reason=…)``: lift the open blocks that match,
  with ONE ``unblock_data`` request — after a top-up (R-CAT-10), a roaming change (R-ALR-5), a raised threshold.
- ``data_blocks_lift_due()``: the new month (00:00 Paris on the 1st) lifts every data block of the month before
  (envelopes and cut-offs start again) and closes the SMS bars whose 3 days are over (periodic task).
- ``contract_data_threshold_set(contract=…, threshold_bytes=…)``: the data threshold of a Compteur / Compteur
  Data line, 1 Go to 100 Go (R-CAT-7/8); raising or removing it lifts an open threshold block.

A block only concerns a live line (Actif or Suspendu): on any other line the block services return ``None``
quietly (the line is gone; ``usage`` may still rate late records).

Call them from a short transaction of your own, one line at a time: they lock the contract row (the order every
contract service follows), so a caller holding locks on several lines must take them in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import rules as catalog_rules
from catalog.models import Zone
from core.clock import month_bounds, month_start
from core.errors import RuleViolation, constraint_name
from core.money import GB, format_bytes
from core.networks import Network
from core.operator_kinds import RequestKind
from partners.models import User

from .lifecycle import LIVE_STATES, OPERATOR, _request
from .models import Contract, ContractEvent, DataBlock, OperatorRequest
from .services import contract_event_record

logger = logging.getLogger(__name__)

Scope = DataBlock.Scope
DATA_SCOPES = DataBlock.DATA_SCOPES
SMS_BAR_DAYS = 3  # R-CAT-11: SMS sending suspended for 3 days
#: The rule recorded on the unblock of the new month: envelopes and cut-offs are monthly (R-CAT-3, R-ALR-1..3).
NEW_MONTH_RULE = "R-ALR-1"
THRESHOLD_MIN_BYTES = 1 * GB  # R-CAT-7/8: thresholds from 1 Go…
THRESHOLD_MAX_BYTES = 100 * GB  # …to 100 Go
_ONE_OPEN = "data_block_one_open"


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------


def _lock_contract(contract_id: int) -> Contract | None:
    try:
        return (
            Contract.objects.select_for_update(of=("self",))
            .select_related("partner", "offer")
            .get(pk=contract_id)
        )
    except Contract.DoesNotExist:
        return None


def _insert_block(
    contract: Contract,
    *,
    scope: str,
    zone: str,
    rule: str,
    reason: str,
    now: dt.datetime,
    lift_at: dt.datetime | None = None,
) -> DataBlock | None:
    """INSERT the open block, or nothing when one of that (scope, zone) is open already: the partial unique
    index ``data_block_one_open`` decides (a savepoint keeps the caller's transaction usable), never a
    check-then-act. A concurrent insert waits for the first one's commit, then gets the conflict."""
    try:
        with transaction.atomic():
            return DataBlock.objects.create(
                partner_id=contract.partner_id,
                contract=contract,
                scope=scope,
                zone=zone,
                rule=rule[:12],
                reason=(reason or "")[:200],
                blocked_at=now,
                lift_at=lift_at,
            )
    except IntegrityError as exc:
        if constraint_name(exc) != _ONE_OPEN:
            raise
        return None


def _check_scope(scope: str, zone: str) -> str:
    if scope not in DATA_SCOPES:
        raise ValueError(f"unknown data block scope {scope!r} (sms: contract_sms_bar)")
    if scope != Scope.ROAMING:
        return ""
    zone = (zone or "").strip()
    if zone not in Zone.values:
        raise ValueError(f"a roaming block needs a catalog zone, not {zone!r}")
    return zone


def _fmt(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%d/%m/%Y %H:%M")


# --------------------------------------------------------------------------------------------------------
# Blocks (R-ALR-1..3, R-CAT-7/8) and SMS bars (R-CAT-11)
# --------------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_data_block(
    *, contract_id: int, scope: str, zone: str = "", rule: str, reason: str
) -> DataBlock | None:
    """Block the data of a live line for ``scope`` (``data``, ``roaming`` with its ``zone``, ``threshold``) and
    ask the operator (a ``block_data`` request, sent at once: line actions are 24/7). ``reason`` is French and
    shown on the line (« enveloppe atteinte »), ``rule`` the SPEC rule that blocks (R-ALR-1, R-ALR-3, R-CAT-7…).

    Idempotent: ``None`` and nothing written when a block of that scope and zone is open already (exactly once
    under concurrency, by the partial unique index), or when the line is not live."""
    zone = _check_scope(scope, zone)
    contract = _lock_contract(contract_id)
    if contract is None or contract.state not in LIVE_STATES:
        return None
    block = _insert_block(contract, scope=scope, zone=zone, rule=rule, reason=reason, now=timezone.now())
    if block is None:
        return None
    block.block_request = _request(
        contract,
        RequestKind.BLOCK_DATA,
        payload={"scope": scope, "zone": zone, "rule": rule, "data_block_id": block.pk},
        actor=None,
        message=_("Blocage demandé à l'opérateur : %(label)s.") % {"label": block.label},
    )
    block.save(update_fields=["block_request"])
    return block


@transaction.atomic
def contract_sms_bar(
    *, contract_id: int, days: int = SMS_BAR_DAYS, rule: str = "R-CAT-11", reason: str
) -> DataBlock | None:
    """R-CAT-11 (Orange): more than 500 SMS in an hour suspends SMS sending for ``days`` (3) days, best effort.
    Writes the open ``sms`` block (``lift_at`` = now + days) and a ``bar_sms`` request; the operator lifts the
    bar by itself at the end (``data_blocks_lift_due`` closes the block then, with no request).

    Idempotent like ``contract_data_block``: ``None`` while a bar is running, on a line that is not live, and
    on a Bouygues line (the rule is Orange's)."""
    if days < 1:
        raise ValueError("an SMS bar lasts at least one day")
    contract = _lock_contract(contract_id)
    if contract is None or contract.state not in LIVE_STATES or contract.network != Network.ORANGE:
        return None
    now = timezone.now()
    _close_ended_sms_bars(now, contract_id=contract.pk)  # an ended bar no longer holds the slot
    lift_at = now + dt.timedelta(days=days)
    block = _insert_block(
        contract, scope=Scope.SMS, zone="", rule=rule, reason=reason, now=now, lift_at=lift_at
    )
    if block is None:
        return None
    block.block_request = _request(
        contract,
        RequestKind.BAR_SMS,
        payload={"days": days, "rule": rule, "data_block_id": block.pk},
        actor=None,
        message=_("Blocage des envois de SMS demandé à l'opérateur jusqu'au %(until)s : %(reason)s.")
        % {"until": _fmt(lift_at), "reason": reason},
    )
    block.save(update_fields=["block_request"])
    return block


# --------------------------------------------------------------------------------------------------------
# Lifting (R-CAT-10 top-up, R-ALR-5 roaming change, a raised threshold, the new month)
# --------------------------------------------------------------------------------------------------------


def _lift(
    contract: Contract,
    *,
    scopes: tuple[str, ...],
    zone: str | None,
    rule: str,
    reason: str,
    actor: User | None,
    blocked_before: dt.datetime | None = None,
) -> tuple[OperatorRequest | None, int]:
    """Lift the contract's open blocks of ``scopes`` (and ``zone`` when given) with ONE ``unblock_data``
    request when the line is live (none otherwise: nothing to ask the operator). Returns (request, count)."""
    qs = DataBlock.objects.select_for_update().filter(
        contract=contract, lifted_at__isnull=True, scope__in=scopes
    )
    if zone is not None:
        qs = qs.filter(zone=zone)
    if blocked_before is not None:
        qs = qs.filter(blocked_at__lt=blocked_before)
    blocks = list(qs.order_by("blocked_at", "id"))
    if not blocks:
        return None, 0
    labels = "; ".join(b.label for b in blocks)
    request = None
    if contract.state in LIVE_STATES:
        request = _request(
            contract,
            RequestKind.UNBLOCK_DATA,
            payload={
                "rule": rule,
                "zone": zone or "",
                "blocks": [{"scope": b.scope, "zone": b.zone} for b in blocks],
                "data_block_ids": [b.pk for b in blocks],
            },
            actor=actor,
            message=_("Déblocage demandé à l'opérateur (%(reason)s) : %(labels)s.")
            % {"reason": reason, "labels": labels},
        )
    else:
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor=actor,
            actor_label="" if actor else _("Système"),
            message=_("Blocage levé (%(reason)s) : %(labels)s.") % {"reason": reason, "labels": labels},
            data={"rule": rule, "data_blocks": [b.pk for b in blocks]},
        )
    DataBlock.objects.filter(pk__in=[b.pk for b in blocks]).update(
        lifted_at=timezone.now(), lift_reason=(reason or "")[:200], lift_request=request
    )
    return request, len(blocks)


@transaction.atomic
def contract_data_unblock(
    *,
    contract: Contract,
    scope: str | None = None,
    zone: str | None = None,
    rule: str,
    reason: str,
    actor: User | None = None,
) -> OperatorRequest | None:
    """Lift the line's open data blocks of ``scope`` (``None``: every data scope — ``data``, ``roaming``,
    ``threshold``; an SMS bar ends by itself) and ``zone`` (``None``: any), recording ``reason`` (French) and
    ``rule``. Writes ONE ``unblock_data`` request when something was lifted on a live line; returns it, or
    ``None`` when nothing was blocked."""
    if scope is not None and scope not in DATA_SCOPES:
        raise ValueError(f"unknown data block scope {scope!r}")
    locked = _lock_contract(contract.pk)
    if locked is None:
        return None
    request, _count = _lift(
        locked,
        scopes=DATA_SCOPES if scope is None else (scope,),
        zone=zone,
        rule=rule,
        reason=reason,
        actor=actor,
    )
    return request


def _close_ended_sms_bars(now: dt.datetime, *, contract_id: int | None = None) -> int:
    """SMS bars whose ``lift_at`` has passed are over: the operator lifted them (no request). One history line
    per bar. Rows another run holds are skipped (``skip_locked``): each bar is closed once."""
    with transaction.atomic():
        qs = DataBlock.objects.select_for_update(skip_locked=True).filter(
            scope=Scope.SMS, lifted_at__isnull=True, lift_at__lte=now
        )
        if contract_id is not None:
            qs = qs.filter(contract_id=contract_id)
        rows = list(qs.order_by().values_list("pk", "partner_id", "contract_id", "lift_at"))
        if not rows:
            return 0
        DataBlock.objects.filter(pk__in=[row[0] for row in rows]).update(
            lifted_at=F("lift_at"), lift_reason=_("Fin du blocage des envois de SMS")
        )
        ContractEvent.objects.bulk_create(
            [
                ContractEvent(
                    partner_id=partner_id,
                    contract_id=cid,
                    kind=ContractEvent.Kind.NOTE,
                    actor_label=_("Système"),
                    message=_("Fin du blocage des envois de SMS (le %(at)s) : l'opérateur l'a levé.")
                    % {"at": _fmt(lift_at)},
                    data={"data_block": pk, "rule": "R-CAT-11"},
                    created_at=now,
                )
                for pk, partner_id, cid, lift_at in rows
            ]
        )
        return len(rows)


def data_blocks_lift_due(*, now: dt.datetime | None = None) -> int:
    """The month rollover, for the periodic task: every open ``data``/``roaming``/``threshold`` block set before
    the current Europe/Paris month began (00:00 Paris on the 1st) is lifted — envelopes and cut-offs start
    again — with reason « Nouveau mois » and one ``unblock_data`` request per line; every SMS bar whose 3 days
    are over is closed (no request: the operator lifts it by itself). One transaction per line; idempotent and
    safe to run twice at once (row locks). Returns how many blocks were lifted or closed."""
    now = now or timezone.now()
    start, _end = month_bounds(month_start(now))
    contract_ids = list(
        DataBlock.objects.filter(lifted_at__isnull=True, scope__in=DATA_SCOPES, blocked_at__lt=start)
        .order_by()
        .values_list("contract_id", flat=True)
        .distinct()
    )
    lifted = 0
    for contract_id in contract_ids:
        with transaction.atomic():
            contract = _lock_contract(contract_id)
            if contract is None:
                continue
            _request_made, count = _lift(
                contract,
                scopes=DATA_SCOPES,
                zone=None,
                rule=NEW_MONTH_RULE,
                reason=_("Nouveau mois"),
                actor=None,
                blocked_before=start,
            )
            lifted += count
    return lifted + _close_ended_sms_bars(now)


# --------------------------------------------------------------------------------------------------------
# Data threshold of compteur lines (R-CAT-7, R-CAT-8)
# --------------------------------------------------------------------------------------------------------


def threshold_bounds(contract: Contract) -> tuple[int, int]:
    """(min, max) threshold of the line's offer, from the catalog (``details``), 1 Go and 100 Go by default."""
    details = contract.offer.details or {}
    low = int(details.get("data_threshold_min_bytes") or THRESHOLD_MIN_BYTES)
    high = int(details.get("data_threshold_max_bytes") or THRESHOLD_MAX_BYTES)
    return max(low, THRESHOLD_MIN_BYTES), min(high, THRESHOLD_MAX_BYTES)


@transaction.atomic
def contract_data_threshold_set(
    *, contract: Contract, threshold_bytes: int | None, actor: User | None = None
) -> Contract:
    """Set (or remove, ``None``) the data threshold of a Compteur / Compteur Data line: 1 Go to 100 Go
    (R-CAT-7, R-CAT-8). ``usage`` blocks the line's data when the month reaches it; raising the threshold or
    removing it lifts that block at once. Same value again: nothing changes (idempotent)."""
    locked = _lock_contract(contract.pk)
    offer = locked.offer
    rule = "R-CAT-8" if offer.range == catalog_rules.COMPTEUR_DATA else "R-CAT-7"
    if offer.range not in catalog_rules.COMPTEUR_RANGES:
        raise RuleViolation(
            _("Un seuil data ne se règle que sur les offres Compteur et Compteur Data."),
            field="threshold_bytes",
            rule="R-CAT-7",
        )
    if locked.state in (Contract.State.TERMINATED, Contract.State.TERMINATING):
        raise RuleViolation(
            _("La ligne est résiliée ou en cours de résiliation : son seuil data ne change plus."),
            field="state",
            rule="R-CON-6",
        )
    if threshold_bytes is not None:
        low, high = threshold_bounds(locked)
        if isinstance(threshold_bytes, bool) or not isinstance(threshold_bytes, int):
            raise RuleViolation(
                _("Le seuil data est un volume en octets."), field="threshold_bytes", rule=rule
            )
        if not low <= threshold_bytes <= high:
            raise RuleViolation(
                _("Le seuil data doit être compris entre %(low)s et %(high)s.")
                % {"low": format_bytes(low), "high": format_bytes(high)},
                field="threshold_bytes",
                rule=rule,
            )
    before = locked.data_threshold_bytes
    if before == threshold_bytes:
        return locked
    locked.data_threshold_bytes = threshold_bytes
    locked.save(update_fields=["data_threshold_bytes", "updated_at"])
    contract_event_record(
        contract=locked,
        kind=ContractEvent.Kind.CHANGE,
        actor=actor,
        message=_("Seuil data : %(before)s → %(after)s.")
        % {
            "before": format_bytes(before) if before else _("aucun"),
            "after": format_bytes(threshold_bytes) if threshold_bytes else _("aucun"),
        },
        data={"rule": rule, "before": before, "after": threshold_bytes},
    )
    if threshold_bytes is None or (before is not None and threshold_bytes > before):
        _lift(
            locked,
            scopes=(Scope.THRESHOLD,),
            zone=None,
            rule=rule,
            reason=_("Seuil data relevé à %(after)s") % {"after": format_bytes(threshold_bytes)}
            if threshold_bytes
            else _("Seuil data supprimé"),
            actor=actor,
        )
    return locked


# --------------------------------------------------------------------------------------------------------
# Operator outcomes (registered in ``contracts.outcomes``)
# --------------------------------------------------------------------------------------------------------


def _blocks_of(request: OperatorRequest) -> list[DataBlock]:
    payload = request.payload or {}
    ids = payload.get("data_block_ids") or (
        [payload["data_block_id"]] if payload.get("data_block_id") else []
    )
    return list(
        DataBlock.objects.filter(pk__in=ids, contract_id=request.contract_id).order_by("blocked_at", "id")
    )


def _apply_data_blocked(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    blocks = _blocks_of(request)
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_(OPERATOR),
        message=_("Blocage effectué par l'opérateur : %(labels)s.")
        % {"labels": "; ".join(b.label for b in blocks) or _("data de la ligne")},
        data={
            "operator_request": request.pk,
            "kind": request.kind,
            "rule": (request.payload or {}).get("rule"),
        },
    )


def _apply_data_unblocked(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    payload = request.payload or {}
    blocks = _blocks_of(request)
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_(OPERATOR),
        message=_("Data de la ligne débloquée par l'opérateur%(what)s.")
        % {"what": f" ({'; '.join(b.where for b in blocks)})" if blocks else ""},
        data={"operator_request": request.pk, "kind": request.kind, "rule": payload.get("rule")},
    )


def _apply_sms_barred(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    blocks = _blocks_of(request)
    until = blocks[0].lift_at if blocks and blocks[0].lift_at else None
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_(OPERATOR),
        message=_("Envois de SMS bloqués par l'opérateur jusqu'au %(until)s (usage raisonnable).")
        % {"until": _fmt(until) if until else "—"},
        data={"operator_request": request.pk, "kind": request.kind, "rule": "R-CAT-11"},
    )


def _fail_block(request: OperatorRequest, contract: Contract, error: str) -> None:
    """The operator did not block: the block is closed (so that ``usage`` may ask again), the operator's
    message shows on the line."""
    now = timezone.now()
    DataBlock.objects.filter(pk__in=[b.pk for b in _blocks_of(request)], lifted_at__isnull=True).update(
        lifted_at=now, lift_reason=(_("Refusé par l'opérateur : %(error)s") % {"error": error})[:200]
    )
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=now)


def _fail_unblock(request: OperatorRequest, contract: Contract, error: str) -> None:
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=timezone.now())


APPLIERS: dict[str, Callable[[OperatorRequest, Contract, dict[str, Any]], None]] = {
    RequestKind.BLOCK_DATA: _apply_data_blocked,
    RequestKind.UNBLOCK_DATA: _apply_data_unblocked,
    RequestKind.BAR_SMS: _apply_sms_barred,
}
FAILURE_APPLIERS: dict[str, Callable[[OperatorRequest, Contract, str], None]] = {
    RequestKind.BLOCK_DATA: _fail_block,
    RequestKind.UNBLOCK_DATA: _fail_unblock,
    RequestKind.BAR_SMS: _fail_block,
}
