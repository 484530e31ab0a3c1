"""Writes of the self-care (R-SC-6, R-SC-8): a client's action on one of its lines.

``selfcare_possible_actions`` says which actions the line page offers (greyed with the French reason
otherwise); ``selfcare_action_perform`` re-checks it (a POST to a greyed action is refused, nothing done), calls
the same ``contracts`` services as the back-office (source « selfcare » for a top-up), records a
``SelfcareOrder`` with its « bon de commande » number and emails the partner's staff who opted in
(``notifications.partners.selfcare_action_notify``). The page's hidden ``request_key`` makes a double submit
one action (STYLE 33)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts import lifecycle, selectors, topups
from contracts import rules as contract_rules
from contracts.models import Contract, ContractEvent, ContractTopup
from contracts.services import _format_number, _reserve_sequence
from core.errors import RuleViolation
from core.money import format_bytes
from inventory.rules import normalize_iccid
from inventory.selectors import sims_assigned_to_client
from notifications.partners import selfcare_action_notify
from partners.models import ClientAccount, User

from .models import SelfcareOrder

Action = SelfcareOrder.Action
ORDER_PREFIX = "BDC"

#: the self-care action → the R-CON-9 action it is built on
_BASE = {
    Action.TOPUP: contract_rules.ACTION_TOPUP,
    Action.SUSPEND: contract_rules.ACTION_SUSPEND,
    Action.RESUME: contract_rules.ACTION_RESUME,
    Action.SIM_SWAP: contract_rules.ACTION_SWAP_SIM,
    Action.ESIM_SWAP: contract_rules.ACTION_SWAP_ESIM,
}


@dataclass(frozen=True)
class SelfcareAction:
    code: str  # the URL slug
    label: str
    enabled: bool
    reason: str = ""


def selfcare_possible_actions(contract: Contract, client: ClientAccount) -> list[SelfcareAction]:
    """R-SC-6: the client's actions on its line, enabled or greyed with the French reason — R-CON-9's
    (``contracts.selectors.contract_possible_actions``), narrowed for the client: a physical SIM swap only
    with a SIM the partner assigned to this client (R-SC-7), an eSIM swap only if the partner allowed it."""
    base = {a.code: a for a in selectors.contract_possible_actions(contract)}
    live = contract.state in (Contract.State.ACTIVE, Contract.State.SUSPENDED)
    result = []
    for action in Action:
        if action == Action.RENAME:
            reason = "" if contract.state != Contract.State.TERMINATED else _("La ligne est résiliée.")
            result.append(SelfcareAction(action.value, str(action.label), not reason, reason))
            continue
        possible = base[_BASE[action]]
        reason = possible.reason if not possible.enabled else ""
        if not reason and action == Action.SIM_SWAP:
            has_assigned = sims_assigned_to_client(
                contract.partner, client, network=contract.network
            ).exists()
            if not has_assigned:
                reason = _("Aucune carte SIM ne vous est affectée par votre opérateur pour ce réseau.")
        if not reason and action == Action.ESIM_SWAP and not client.selfcare_esim_swap_allowed:
            reason = _("Le SIM swap vers eSIM n'est pas autorisé pour votre compte.")
        if not reason and not live:
            reason = _("La ligne n'est pas active.")
        result.append(SelfcareAction(action.value, str(action.label), not reason, reason))
    return result


def selfcare_action_get(contract: Contract, client: ClientAccount, code: str) -> SelfcareAction | None:
    return next((a for a in selfcare_possible_actions(contract, client) if a.code == code), None)


def _next_number() -> str:
    year = timezone.localdate().year
    return _format_number(ORDER_PREFIX, year, _reserve_sequence(ORDER_PREFIX, year, 1))


def _rename(contract: Contract, user_name: str, actor: User) -> dict:
    user_name = " ".join((user_name or "").split())
    if not user_name:
        raise RuleViolation(_("Indiquez le nom de l'utilisateur."), field="user_name", rule="R-SC-6")
    if len(user_name) > 120:
        raise RuleViolation(_("120 caractères au plus."), field="user_name", rule="R-SC-6")
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    before = locked.user_name
    locked.user_name = user_name
    locked.save(update_fields=["user_name", "updated_at"])
    contract.user_name = user_name
    ContractEvent.objects.create(
        partner_id=locked.partner_id,
        contract=locked,
        kind=ContractEvent.Kind.NOTE,
        actor=actor,
        actor_label=actor.get_username(),
        message=_("Utilisateur renommé depuis l'espace client : « %(old)s » → « %(new)s ».")
        % {"old": before or "—", "new": user_name},
        data={"user_name_before": before, "user_name": user_name},
        created_at=timezone.now(),
    )
    return {"before": before, "after": user_name}


@transaction.atomic
def selfcare_action_perform(
    *,
    contract: Contract,
    client: ClientAccount,
    user: User,
    action: str,
    request_key: str,
    data: dict,
) -> SelfcareOrder:
    """Perform one self-care action (R-SC-6) and return its order (« bon de commande »). ``contract`` must come
    from ``contract_get_for_client_or_404(client, …)``. Refusals are ``RuleViolation`` with a French message."""
    request_key = (request_key or "").strip()[:64]
    # Lock the line first: a concurrent double submit waits here, then finds the first order by its key.
    Contract.objects.select_for_update().filter(pk=contract.pk).first()
    if request_key:
        existing = SelfcareOrder.objects.filter(
            partner_id=contract.partner_id, request_key=request_key
        ).first()
        if existing is not None:
            if existing.contract_id != contract.pk:
                raise RuleViolation(_("Cette demande a déjà été envoyée."), field=None, rule="STYLE-33")
            return existing
    allowed = selfcare_action_get(contract, client, action)
    if allowed is None:
        raise RuleViolation(_("Action inconnue."), field=None, rule="R-SC-6")
    if not allowed.enabled:
        raise RuleViolation(allowed.reason, field=None, rule="R-SC-6")
    operator_request = None
    details: dict = {}
    labels: list[tuple[str, str]] = []
    if action == Action.TOPUP:
        topup = topups.contract_topup(
            contract=contract,
            volume_bytes=data.get("volume_bytes"),
            actor=user,
            source=ContractTopup.Source.SELFCARE,
            confirm_repeat=bool(data.get("confirm_repeat")),
            request_key=f"sc-{request_key}" if request_key else None,
        )
        operator_request = topup.operator_request
        details = {"volume_bytes": topup.volume_bytes, "topup_id": topup.pk}
        labels = [(_("Volume"), format_bytes(topup.volume_bytes))]
    elif action == Action.SUSPEND:
        operator_request = lifecycle.contract_suspend(contract=contract, actor=user)
    elif action == Action.RESUME:
        operator_request = lifecycle.contract_resume(contract=contract, actor=user)
    elif action == Action.SIM_SWAP:
        iccid = normalize_iccid(data.get("iccid") or "")
        if (
            not sims_assigned_to_client(contract.partner, client, network=contract.network)
            .filter(iccid=iccid)
            .exists()
        ):  # R-SC-7: only a SIM the partner assigned to this client (never the partner's stock)
            raise RuleViolation(
                _("Cette carte SIM ne fait pas partie des cartes qui vous sont affectées."),
                field="iccid",
                rule="R-SC-7",
            )
        operator_request = lifecycle.contract_sim_swap(contract=contract, actor=user, iccid=iccid)
        details = {"iccid": iccid}
        labels = [(_("Nouvelle SIM (ICCID)"), iccid)]
    elif action == Action.ESIM_SWAP:
        operator_request = lifecycle.contract_sim_swap(
            contract=contract,
            actor=user,
            esim=True,
            contact_email=data.get("contact_email", ""),
            contact_mobile=data.get("contact_mobile", ""),
        )
        details = {"contact_email": data.get("contact_email", "")}
        labels = [(_("E-mail du contact"), details["contact_email"])]
    elif action == Action.RENAME:
        details = _rename(contract, data.get("user_name", ""), user)
        labels = [(_("Ancien utilisateur"), details["before"] or "—")]
    try:
        with transaction.atomic():
            order = SelfcareOrder.objects.create(
                partner_id=contract.partner_id,
                client=client,
                contract=contract,
                number=_next_number(),
                action=action,
                request_key=request_key,
                operator_request=operator_request,
                details=details,
                created_by=user,
            )
    except IntegrityError:  # the same key committed meanwhile by a concurrent submit
        existing = SelfcareOrder.objects.filter(
            partner_id=contract.partner_id, request_key=request_key
        ).first()
        if existing is None:
            raise
        return existing
    selfcare_action_notify(
        contract=contract,
        action_label=str(Action(action).label),
        order_number=order.number,
        actor_user=user,
        details=labels,
    )
    return order
