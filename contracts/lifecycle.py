"""Lifecycle actions on a live contract (issue 4, item 4): suspend and reactivate (R-CON-5), terminate
(R-CON-6), SIM swap to a physical SIM or to an eSIM (R-ORD-5, R-OPT-2), options added and terminated (R-OPT-3,
R-OPT-8), roaming choice changed within the month (R-OPT-4, R-ALR-5), offer changes (R-CON-1..3, delegated to
``contracts.scheduling``) and the "retry" of a failed activation (R-CON-7).

Every action is a service that, in one transaction:

1. locks the contract (``select_for_update``) and checks its state and the rule — a refusal is a
   ``RuleViolation`` (French message, field, rule id) and leaves nothing behind;
2. writes the ``OperatorRequest`` of the right kind (``operator_request_create``): provisioning plans it at the
   operator's next window (R-PRV-1..3 for a SIM swap) and sends it exactly once;
3. records the action in the contract's history (``ContractEvent``, History tab);
4. wakes the dispatcher after commit (``transaction.on_commit(wake_dispatcher)``).

The change itself is completed when the operator confirms: ``contracts.outcomes`` calls the *applier*
registered here for the request's kind (``APPLIERS``) — suspend: Actif → Suspendu; terminate: number, SIM and
eSIM retired forever, options ended; swap: old SIM retired, new one in service… A final failure runs the kind's
``FAILURE_APPLIERS`` entry, which undoes what the request had reserved (a SIM set aside for a swap goes back to
stock, an option being added is dropped, a termination puts the line back in its state) and shows the
operator's message on the contract. A failed action is done again from its page, not "retried": only a failed
*activation* has the "retry" action (``contract_retry``).

An option is never suspended (R-OPT-8): ``contract_option_suspend`` exists only to answer that with the rule.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog import rules as catalog_rules
from catalog.labels import roaming_choice_label
from catalog.models import Offer, Option, RoamingChoice, Zone
from core.errors import RuleViolation
from core.networks import Network
from core.operator_kinds import RequestKind
from inventory import services as inventory
from inventory.models import EsimProfile, SimCard
from inventory.rules import iccid_error, normalize_iccid
from partners.models import User

from . import rules, scheduling
from .models import (
    Contract,
    ContractEvent,
    ContractOption,
    DataBlock,
    OneOffFee,
    OperatorRequest,
    ScheduledChange,
    SimType,
)
from .services import (
    ESIM_FAS_HT,
    contract_event_record,
    contract_transition,
    operator_request_create,
    operator_request_transition,
)

logger = logging.getLogger(__name__)

State = Contract.State
ReqState = OperatorRequest.State
OptStatus = ContractOption.Status

LIVE_STATES = (State.ACTIVE, State.SUSPENDED)
CREATION_KINDS = frozenset({RequestKind.CREATE_LINE, RequestKind.CREATE_LINE_ESIM, RequestKind.PORT_IN})
SWAP_KINDS = frozenset({RequestKind.SWAP_SIM, RequestKind.SWAP_SIM_ESIM})
OPERATOR = gettext_noop("Opérateur")  # actor label of operator outcomes (translated when written)


# --------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------


def _lock(contract: Contract) -> Contract:
    """The contract row, locked for this transaction (with what the checks read)."""
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("offer", "partner", "client", "phone_number", "sim", "esim")
        .get(pk=contract.pk)
    )


def _refuse(message: str, *, field: str, rule: str) -> RuleViolation:
    return RuleViolation(message, field=field, rule=rule)


def _require_live(contract: Contract, *, rule: str = "R-CON-9") -> None:
    """Actions on a line need a live line (Actif or Suspendu, R-CON-8)."""
    if contract.state in LIVE_STATES:
        return
    if contract.state == State.TERMINATED:
        raise _refuse(
            _("La ligne est résiliée : plus aucune action possible."), field="state", rule="R-CON-6"
        )
    if contract.state == State.TERMINATING:
        raise _refuse(_("La ligne est en cours de résiliation."), field="state", rule="R-CON-8")
    if contract.state == State.FAILED:
        raise _refuse(
            _("La mise en service de la ligne a échoué : relancez-la d'abord."), field="state", rule="R-CON-8"
        )
    raise _refuse(_("La ligne est en cours d'activation."), field="state", rule=rule)


def open_request_kinds(contract: Contract) -> set[str]:
    """Kinds of the contract's operator requests not finished yet (pending, planned or sent)."""
    return set(
        OperatorRequest.objects.filter(contract=contract, state__in=OperatorRequest.OPEN_STATES).values_list(
            "kind", flat=True
        )
    )


def _operator_line_id(contract: Contract) -> str:
    """The operator's id of the line, from its completed creation request (the simulator also knows the
    line by its number, ``msisdn`` of the base payload)."""
    result = (
        OperatorRequest.objects.filter(
            contract=contract, kind__in=list(CREATION_KINDS), state=ReqState.COMPLETED
        )
        .order_by("-completed_at", "-id")
        .values_list("result", flat=True)
        .first()
    )
    return str((result or {}).get("operator_line_id") or "")


def _request(
    contract: Contract, kind: str, *, payload: dict, actor: User | None, message: str
) -> OperatorRequest:
    """The durable intent (``operator_request_create``: history line + dispatcher woken after commit)."""
    line_id = _operator_line_id(contract)
    if line_id:
        payload = {"operator_line_id": line_id, **payload}
    return operator_request_create(
        contract=contract, kind=kind, payload=payload, actor=actor, message=message
    )


def _cancel_scheduled_change(contract: Contract, actor: User | None) -> None:
    """A terminated line keeps no scheduled offer change (R-CON-1/2): ``contract_scheduled_change_drop``."""
    scheduling.contract_scheduled_change_drop(
        contract=contract, actor=actor, reason=_("la ligne est résiliée")
    )


def _fmt_date(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%d/%m/%Y")


# --------------------------------------------------------------------------------------------------------
# Suspend / reactivate (R-CON-5)
# --------------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_suspend(*, contract: Contract, actor: User | None = None) -> OperatorRequest:
    """R-CON-5: ask the operator to suspend an active line. The line stays Actif until the operator confirms,
    then becomes Suspendu; its plan and options stay billed (nothing about billing or options changes)."""
    locked = _lock(contract)
    if locked.state == State.SUSPENDED:
        raise _refuse(_("La ligne est déjà suspendue."), field="state", rule="R-CON-5")
    _require_live(locked)
    if RequestKind.SUSPEND in open_request_kinds(locked):
        raise _refuse(_("Une suspension est déjà demandée à l'opérateur."), field="state", rule="R-CON-5")
    return _request(
        locked,
        RequestKind.SUSPEND,
        payload={},
        actor=actor,
        message=_(
            "Suspension demandée : les services seront coupés dès la confirmation de l'opérateur ; "
            "la facturation de l'abonnement continue (R-CON-5)."
        ),
    )


@transaction.atomic
def contract_resume(*, contract: Contract, actor: User | None = None) -> OperatorRequest:
    """R-CON-5: reactivate a suspended line (Suspendu → Actif when the operator confirms)."""
    locked = _lock(contract)
    if locked.state == State.ACTIVE:
        raise _refuse(_("La ligne n'est pas suspendue."), field="state", rule="R-CON-5")
    _require_live(locked)
    if RequestKind.RESUME in open_request_kinds(locked):
        raise _refuse(_("Une réactivation est déjà demandée à l'opérateur."), field="state", rule="R-CON-5")
    return _request(
        locked,
        RequestKind.RESUME,
        payload={},
        actor=actor,
        message=_("Réactivation demandée : les services reviennent dès la confirmation de l'opérateur."),
    )


def _apply_suspended(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    if contract.state != State.ACTIVE:  # terminated or terminating meanwhile: the operator's word is noted
        raise _refuse(
            _("suspension confirmée alors que la ligne est « %(state)s ».")
            % {"state": State(contract.state).label},
            field="state",
            rule="R-CON-8",
        )
    contract_transition(
        contract=contract,
        to_state=State.SUSPENDED,
        actor_label=_(OPERATOR),
        message=_(
            "Ligne suspendue par l'opérateur : services coupés jusqu'à la réactivation ; "
            "l'abonnement et les options restent facturés (R-CON-5)."
        ),
        data={"operator_request": request.pk, "kind": request.kind, "rule": "R-CON-5"},
        last_error="",
    )


def _apply_resumed(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    if contract.state != State.SUSPENDED:
        raise _refuse(
            _("réactivation confirmée alors que la ligne est « %(state)s ».")
            % {"state": State(contract.state).label},
            field="state",
            rule="R-CON-8",
        )
    contract_transition(
        contract=contract,
        to_state=State.ACTIVE,
        actor_label=_(OPERATOR),
        message=_("Ligne réactivée par l'opérateur : les services sont rétablis (R-CON-5)."),
        data={"operator_request": request.pk, "kind": request.kind, "rule": "R-CON-5"},
        last_error="",
    )


# --------------------------------------------------------------------------------------------------------
# Terminate (R-CON-6)
# --------------------------------------------------------------------------------------------------------


@transaction.atomic
def contract_terminate(*, contract: Contract, actor: User | None = None) -> OperatorRequest:
    """ "À résilier" (R-CON-9): the line goes "En cours de résiliation" at once, the operator terminates it,
    then it is Résilié with its number and SIM/eSIM retired forever (R-CON-6, applier). Requests not sent yet
    (a suspension, a swap, an option…) are cancelled, and so is a scheduled offer change."""
    locked = _lock(contract)
    if locked.state == State.TERMINATING:
        raise _refuse(_("La résiliation de cette ligne est déjà en cours."), field="state", rule="R-CON-8")
    if locked.state == State.TERMINATED:
        raise _refuse(_("La ligne est déjà résiliée."), field="state", rule="R-CON-6")
    _require_live(locked)
    from_state = locked.state
    _cancel_open_requests(locked, actor=actor, reason=_("résiliation de la ligne"))
    _cancel_scheduled_change(locked, actor)
    contract_transition(
        contract=locked,
        to_state=State.TERMINATING,
        actor=actor,
        message=_("Résiliation demandée (« À résilier ») : la ligne est en cours de résiliation."),
        data={"rule": "R-CON-9"},
    )
    return _request(
        locked,
        RequestKind.TERMINATE,
        payload={"from_state": from_state},
        actor=actor,
        message=_(
            "Résiliation envoyée à l'opérateur : à sa confirmation, le numéro et la SIM seront retirés "
            "définitivement (R-CON-6)."
        ),
    )


def _apply_terminated(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """R-CON-6: the line is Résilié; its number, SIM and eSIM are retired for ever (``RetiredIdentifier``:
    the database refuses to hand them out again); live options end; nothing else stays open."""
    if contract.state == State.TERMINATED:
        return
    now = timezone.now()
    partner = contract.partner
    reason = _("Résiliation du contrat %(number)s") % {"number": contract.number}
    retired: dict[str, str] = {}
    if contract.phone_number_id:
        inventory.number_retire(partner=partner, msisdns=[contract.phone_number.msisdn], reason=reason)
        retired["msisdn"] = contract.phone_number.msisdn
    if contract.sim_id:
        inventory.sim_retire(partner=partner, iccids=[contract.sim.iccid], reason=reason)
        retired["iccid"] = contract.sim.iccid
    if contract.esim_id:
        inventory.esim_retire(partner=partner, iccids=[contract.esim.iccid], reason=reason)
        retired["esim"] = contract.esim.iccid
    live = ContractOption.objects.filter(contract=contract).exclude(status=OptStatus.TERMINATED)
    live.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now)).update(ended_at=now)
    ended = live.update(status=OptStatus.TERMINATED)
    _cancel_open_requests(contract, actor=None, reason=_("ligne résiliée"), keep=request.pk)
    _cancel_scheduled_change(contract, None)
    identifiers = ", ".join(
        filter(
            None,
            [
                _("numéro %(n)s") % {"n": retired["msisdn"]} if "msisdn" in retired else "",
                _("SIM %(i)s") % {"i": retired["iccid"]} if "iccid" in retired else "",
                _("eSIM %(i)s") % {"i": retired["esim"]} if "esim" in retired else "",
            ],
        )
    )
    contract_transition(
        contract=contract,
        to_state=State.TERMINATED,
        actor_label=_(OPERATOR),
        message=_("Ligne résiliée par l'opérateur. Retirés définitivement (R-CON-6) : %(ids)s.")
        % {"ids": identifiers or "—"}
        + (_(" %(n)d option(s) arrêtée(s).") % {"n": ended} if ended else ""),
        data={"operator_request": request.pk, "kind": request.kind, "retired": retired, "rule": "R-CON-6"},
        terminated_at=now,
        last_error="",
    )


def _undo_termination(request: OperatorRequest, contract: Contract) -> None:
    """The termination did not happen: the line goes back to the state it had (R-CON-8)."""
    if contract.state != State.TERMINATING:
        return
    back = request.payload.get("from_state") or State.ACTIVE
    contract_transition(
        contract=contract,
        to_state=back,
        actor_label=_(OPERATOR),
        message=_("Résiliation non effectuée : la ligne reste « %(state)s ».") % {"state": State(back).label},
        data={"operator_request": request.pk, "kind": request.kind},
    )


# --------------------------------------------------------------------------------------------------------
# SIM swap (R-ORD-5, R-OPT-2, windows R-PRV-1/2/3)
# --------------------------------------------------------------------------------------------------------


def _check_esim_contacts(contract: Contract, email: str, mobile: str) -> tuple[str, str]:
    """R-ORD-5 (R-ORD-3): a swap to eSIM needs the contact's email (QR code) and mobile (SMS code)."""
    email = (email or "").strip()
    if not email:
        raise _refuse(
            _("SIM swap vers eSIM : l'e-mail du contact est obligatoire (il reçoit le QR code)."),
            field="contact_email",
            rule="R-ORD-5",
        )
    try:
        validate_email(email)
    except ValidationError:
        raise _refuse(
            _("L'e-mail du contact n'est pas valide."), field="contact_email", rule="R-ORD-5"
        ) from None
    if not (mobile or "").strip():
        raise _refuse(
            _("SIM swap vers eSIM : le mobile du contact est obligatoire (il reçoit le code par SMS)."),
            field="contact_mobile",
            rule="R-ORD-5",
        )
    national = rules.msisdn_from_any(mobile)
    if not rules.is_mobile_number(national):
        raise _refuse(
            _("Le mobile du contact doit être un numéro mobile français (06/07)."),
            field="contact_mobile",
            rule="R-ORD-5",
        )
    if contract.msisdn and national == contract.msisdn:
        raise _refuse(
            _(
                "Le mobile du contact doit être un autre numéro que celui de la ligne (le code arrive par SMS)."
            ),
            field="contact_mobile",
            rule="R-ORD-5",
        )
    return email, national


@transaction.atomic
def contract_sim_swap(
    *,
    contract: Contract,
    actor: User | None = None,
    iccid: str = "",
    esim: bool = False,
    contact_email: str = "",
    contact_mobile: str = "",
) -> OperatorRequest:
    """SIM swap (R-ORD-5, R-CON-9) of a live line.

    - to a physical SIM: ``iccid`` of a SIM of the partner's stock or of the client's assigned stock, same
      network; it is set aside at once (in use, so no other order takes it);
    - to an eSIM (``esim=True``): Orange only (R-OPT-2), ``contact_email`` and ``contact_mobile`` required; a new
      eSIM profile is allocated at once.

    The dispatcher sends the swap in the operator's window (R-PRV-1 Orange SIM Mon–Sat 07:00–22:00, R-PRV-2
    Orange eSIM Mon–Fri 09:00–17:30, R-PRV-3 Bouygues 24/7). On confirmation the old SIM/eSIM is retired forever,
    the new one is the line's; an eSIM swap triggers the eSIM delivery (email + SMS, R-ORD-4)."""
    locked = _lock(contract)
    _require_live(locked, rule="R-ORD-5")
    if SWAP_KINDS & open_request_kinds(locked):
        raise _refuse(_("Un SIM swap est déjà en cours sur cette ligne."), field="target", rule="R-ORD-5")
    partner = locked.partner
    if esim:
        decision = catalog_rules.esim_eligibility(locked.network)
        if not decision.allowed:
            raise _refuse(decision.reason, field="target", rule="R-OPT-2")
        email, mobile = _check_esim_contacts(locked, contact_email, contact_mobile)
        profile = inventory.esim_allocate(partner=partner, count=1, client=locked.client)[0]
        from .esim import esim_request_fields  # the profile and the confirmation code the operator will hold

        return _request(
            locked,
            RequestKind.SWAP_SIM_ESIM,
            payload={
                **esim_request_fields(contract=locked, profile=profile),
                "new_esim_id": profile.pk,
                "contact_email": email,
                "contact_mobile": mobile,
                "old_iccid": _current_iccid(locked),
            },
            actor=actor,
            message=_("SIM swap vers eSIM demandé (nouvelle eSIM %(iccid)s, envoi à %(email)s).")
            % {"iccid": profile.iccid, "email": email},
        )
    wanted = normalize_iccid(iccid or "")
    if not wanted:
        raise _refuse(
            _("Indiquez l'ICCID de la nouvelle carte SIM (stock du partenaire ou du client)."),
            field="iccid",
            rule="R-ORD-5",
        )
    reason = iccid_error(wanted)
    if reason:
        raise _refuse(f"{wanted} : {reason}", field="iccid", rule="R-ORD-5")
    sim = SimCard.objects.filter(partner=partner, iccid=wanted).first()
    if sim is not None and sim.pk == locked.sim_id:
        raise _refuse(_("C'est déjà la carte SIM de la ligne."), field="iccid", rule="R-ORD-5")
    if sim is not None and sim.network != locked.network:
        raise _refuse(
            _("La SIM %(iccid)s est une SIM %(sim)s : il faut une SIM %(network)s.")
            % {
                "iccid": wanted,
                "sim": Network(sim.network).label,
                "network": Network(locked.network).label,
            },
            field="iccid",
            rule="R-ORD-5",
        )
    # In stock, or assigned to this very client; anything else (another client's, in use, retired, another
    # partner's, unknown) is refused with the same message (R-ORD-5).
    # Where it comes from, so that a failed swap gives it back there.
    from_client_stock = (
        sim is not None and sim.state == SimCard.State.ASSIGNED and sim.client_id == locked.client_id
    )
    (sim,) = inventory.sim_mark_in_use(partner=partner, iccids=[wanted], client=locked.client)
    return _request(
        locked,
        RequestKind.SWAP_SIM,
        payload={
            "esim": False,
            "iccid": sim.iccid,
            "new_sim_id": sim.pk,
            "sim_from_client_stock": from_client_stock,
            "sim_type": SimType.WITH_PIN if sim.pin else SimType.WITHOUT_PIN,
            "old_iccid": _current_iccid(locked),
        },
        actor=actor,
        message=_("SIM swap demandé vers la SIM %(iccid)s.") % {"iccid": sim.iccid},
    )


def _current_iccid(contract: Contract) -> str:
    if contract.sim_id:
        return contract.sim.iccid
    return contract.esim.iccid if contract.esim_id else ""


def _esim_delivery(contract: Contract, request: OperatorRequest, result: dict[str, Any]) -> None:
    """R-ORD-3/4: record the codes the operator holds for the new eSIM and queue its delivery (email with the
    QR code, SMS with the confirmation code) — ``contracts.esim.esim_operator_confirmed``, once the contract
    points to its new profile. A delivery problem never undoes the swap done at the operator."""
    from .esim import esim_operator_confirmed

    try:
        with transaction.atomic():
            esim_operator_confirmed(request=request, contract=contract, result=result)
    except Exception as exc:
        logger.exception("eSIM delivery of contract %s failed", contract.pk)
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor_label=_("Système"),
            message=_("Envoi de l'eSIM impossible (%(error)s) : renvoyez-la depuis l'onglet Ressources.")
            % {"error": getattr(exc, "message", None) or exc.__class__.__name__},
            data={"operator_request": request.pk},
        )


def _apply_sim_swapped(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """The operator swapped the SIM: the old SIM/eSIM is retired forever (R-CON-6), the new one is in
    service and is the line's; a swap to eSIM adds the eSIM option and its FAS (R-OPT-2) and sends it."""
    payload = request.payload or {}
    now = timezone.now()
    partner = contract.partner
    old_sim, old_esim = contract.sim, contract.esim
    to_esim = bool(payload.get("esim"))
    changes: dict[str, Any]
    if to_esim:
        profile = EsimProfile.objects.get(pk=payload["new_esim_id"])
        inventory.esim_mark_in_use(partner=partner, iccids=[profile.iccid])
        changes = {
            "sim": None,
            "esim": profile,
            "sim_type": SimType.ESIM,
            "contact_email": payload.get("contact_email") or contract.contact_email,
            "contact_mobile": payload.get("contact_mobile") or contract.contact_mobile,
        }
        new_iccid = profile.iccid
    else:
        sim = SimCard.objects.get(pk=payload["new_sim_id"])
        changes = {
            "sim": sim,
            "esim": None,
            "sim_type": payload.get("sim_type") or (SimType.WITH_PIN if sim.pin else SimType.WITHOUT_PIN),
        }
        new_iccid = sim.iccid
    for name, value in changes.items():
        setattr(contract, name, value)
    contract.last_error = ""
    contract.save(update_fields=[*changes.keys(), "last_error", "updated_at"])
    reason = _("SIM swap du contrat %(number)s") % {"number": contract.number}
    if old_sim is not None and (changes["sim"] is None or old_sim.pk != changes["sim"].pk):
        inventory.sim_retire(partner=partner, iccids=[old_sim.iccid], reason=reason)
    if old_esim is not None and (changes["esim"] is None or old_esim.pk != changes["esim"].pk):
        inventory.esim_retire(partner=partner, iccids=[old_esim.iccid], reason=reason)
    esim_options = ContractOption.objects.filter(contract=contract, code=catalog_rules.ESIM).exclude(
        status=OptStatus.TERMINATED
    )
    if to_esim and not esim_options.exists():
        option = Option.objects.filter(network=contract.network, code=catalog_rules.ESIM).first()
        fas = (option.fas_ht if option is not None and option.fas_ht is not None else None) or ESIM_FAS_HT
        ContractOption.objects.create(
            partner_id=contract.partner_id,
            contract=contract,
            option=option,
            code=catalog_rules.ESIM,
            label=option.label if option is not None else "eSIM Orange",
            monthly_fee_ht=option.monthly_price_ht if option is not None else Decimal("0"),
            fas_ht=fas,
            status=OptStatus.ACTIVE,
            created_at=now,
            activated_at=now,
        )
        OneOffFee.objects.create(
            partner_id=contract.partner_id,
            contract=contract,
            kind=OneOffFee.Kind.ESIM,
            label=_("FAS eSIM (SIM swap)"),
            amount_ht=fas,
            rule="R-OPT-2",
            created_at=now,
        )
    elif not to_esim:
        esim_options.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now)).update(ended_at=now)
        esim_options.update(status=OptStatus.TERMINATED)
    old = (old_sim.iccid if old_sim else "") or (old_esim.iccid if old_esim else "")
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.RESOURCE,
        actor_label=_(OPERATOR),
        message=_(
            "SIM swap effectué : %(new_kind)s %(new)s en service ; l'ancienne carte %(old)s est retirée "
            "définitivement (R-CON-6)."
        )
        % {"new_kind": _("eSIM") if to_esim else _("SIM"), "new": new_iccid, "old": old or "—"},
        data={
            "operator_request": request.pk,
            "kind": request.kind,
            "old_iccid": old,
            "new_iccid": new_iccid,
            "rule": "R-ORD-5",
        },
    )
    if to_esim:
        _esim_delivery(contract, request, result)


def _undo_sim_swap(request: OperatorRequest, contract: Contract) -> None:
    """The swap did not happen: the SIM set aside goes back to stock; an unused eSIM profile is retired
    (an eSIM is never handed out twice, R-OPT-2)."""
    payload = request.payload or {}
    partner = contract.partner
    if payload.get("esim"):
        profile = EsimProfile.objects.filter(pk=payload.get("new_esim_id")).first()
        if profile is not None and contract.esim_id != profile.pk:
            inventory.esim_retire(
                partner=partner, iccids=[profile.iccid], reason=_("SIM swap vers eSIM non effectué")
            )
        return
    sim = SimCard.objects.filter(pk=payload.get("new_sim_id")).first()
    if sim is not None and contract.sim_id != sim.pk:
        # Back where it came from: the client's assigned stock, or the partner's stock (R-SC-7, R-BO-2).
        inventory.sim_allocation_cancel(
            partner=partner,
            iccids=[sim.iccid],
            to_partner_stock=not payload.get("sim_from_client_stock", True),
        )


# --------------------------------------------------------------------------------------------------------
# Options (R-OPT-3, R-OPT-8)
# --------------------------------------------------------------------------------------------------------


def addable_options(contract: Contract) -> list[Option]:
    """The catalog options this line may add now (R-OPT-8 Options tab; eligibility of ``catalog.rules``,
    incl. R-OPT-3 fixed IP and Init Sys partner platform), without the ones it already has."""
    have = set(
        ContractOption.objects.filter(contract=contract)
        .exclude(status=OptStatus.TERMINATED)
        .values_list("code", flat=True)
    )
    is_init_sys = contract.partner.is_init_sys
    return [
        o
        for o in Option.objects.filter(network=contract.network, active=True, orderable=True).order_by(
            "sort_order", "code"
        )
        if o.code not in have
        and o.code != catalog_rules.ESIM
        and catalog_rules.option_eligibility(contract.offer, o.code, is_init_sys).allowed
    ]


@transaction.atomic
def contract_option_add(
    *, contract: Contract, option_code: str, actor: User | None = None
) -> OperatorRequest:
    """R-OPT-8: add a catalog option to a live line (Options tab). Eligibility from ``catalog.rules``
    (R-OPT-3 fixed IP on blocked Orange plans / compteur, partner platform for Init Sys partners only, R-OPT-6/7
    service options, R-CAT-9 5G). The option is "En cours" until the operator confirms, then active (its
    set-up fee, if any, is recorded then)."""
    locked = _lock(contract)
    _require_live(locked, rule="R-OPT-8")
    code = (option_code or "").strip()
    if code == catalog_rules.ESIM:
        raise _refuse(
            _("L'eSIM ne s'ajoute pas comme une option : faites un SIM swap vers eSIM."),
            field="option",
            rule="R-OPT-2",
        )
    option = Option.objects.filter(network=locked.network, code=code, active=True).first()
    if option is None:
        raise _refuse(
            _("Option « %(code)s » inconnue sur le réseau %(network)s.")
            % {"code": code, "network": Network(locked.network).label},
            field="option",
            rule="R-CAT-1",
        )
    decision = catalog_rules.option_eligibility(locked.offer, code, locked.partner.is_init_sys)
    if not decision.allowed:
        raise _refuse(
            _("Option « %(label)s » : %(reason)s") % {"label": option.label, "reason": decision.reason},
            field="option",
            rule=decision.rule,
        )
    if not option.orderable:
        raise _refuse(
            _("L'option « %(label)s » ne se commande pas.") % {"label": option.label},
            field="option",
            rule="R-OPT-1",
        )
    existing = (
        ContractOption.objects.filter(contract=locked, code=code).exclude(status=OptStatus.TERMINATED).first()
    )
    if existing is not None:
        raise _refuse(
            _("L'option « %(label)s » est déjà sur la ligne (%(status)s).")
            % {"label": option.label, "status": existing.get_status_display().lower()},
            field="option",
            rule="R-OPT-8",
        )
    now = timezone.now()
    contract_option = ContractOption.objects.create(
        partner_id=locked.partner_id,
        contract=locked,
        option=option,
        code=code,
        label=option.label,
        monthly_fee_ht=option.monthly_price_ht,
        fas_ht=option.fas_ht or Decimal("0"),
        status=OptStatus.PENDING,
        created_at=now,
    )
    return _request(
        locked,
        RequestKind.ADD_OPTION,
        payload={"option_code": code, "contract_option_id": contract_option.pk},
        actor=actor,
        message=_("Ajout de l'option « %(label)s » demandé (R-OPT-8).") % {"label": option.label},
    )


@transaction.atomic
def contract_option_terminate(
    *, contract: Contract, contract_option: ContractOption, actor: User | None = None
) -> OperatorRequest:
    """Terminate an option of a live line (R-OPT-8: an option is terminated, never suspended). R-OPT-3: an
    Orange option ends on the 1st of next month (00:00 Paris), a Bouygues option at once
    (``catalog.rules.option_termination_effective_at``). The option shows "Résiliation programmée" meanwhile."""
    locked = _lock(contract)
    try:
        option = ContractOption.objects.select_for_update().get(pk=contract_option.pk, contract=locked)
    except ContractOption.DoesNotExist:
        raise _refuse(_("Option inconnue sur cette ligne."), field="option", rule="R-OPT-8") from None
    _require_live(locked, rule="R-OPT-8")
    if option.status == OptStatus.TERMINATED:
        raise _refuse(_("Cette option est déjà résiliée."), field="option", rule="R-OPT-8")
    if option.status == OptStatus.TERMINATING:
        raise _refuse(
            _("La résiliation de cette option est déjà programmée (fin le %(date)s).")
            % {"date": _fmt_date(option.ended_at) if option.ended_at else "—"},
            field="option",
            rule="R-OPT-3",
        )
    if option.status == OptStatus.PENDING:
        raise _refuse(
            _("L'option est en cours d'activation : attendez la confirmation de l'opérateur."),
            field="option",
            rule="R-OPT-8",
        )
    if option.zone or option.roaming_choice_id:
        raise _refuse(
            _("Une coupure ou une option d'itinérance ne se résilie pas : changez le choix de la zone."),
            field="option",
            rule="R-OPT-4",
        )
    if option.code == catalog_rules.ESIM:
        raise _refuse(
            _("L'eSIM est la carte de la ligne : pour en changer, faites un SIM swap."),
            field="option",
            rule="R-OPT-2",
        )
    now = timezone.now()
    effective = catalog_rules.option_termination_effective_at(locked.network, now)
    deferred = effective > now
    option.status = OptStatus.TERMINATING
    option.ended_at = effective if deferred else None
    option.save(update_fields=["status", "ended_at"])
    message = (
        _(
            "Résiliation de l'option « %(label)s » demandée : fin le %(date)s (Orange : 1er du mois suivant, R-OPT-3)."
        )
        % {"label": option.label, "date": _fmt_date(effective)}
        if deferred
        else _("Résiliation de l'option « %(label)s » demandée : fin immédiate (Bouygues, R-OPT-3).")
        % {"label": option.label}
    )
    return _request(
        locked,
        RequestKind.REMOVE_OPTION,
        payload={
            "option_code": option.code,
            "contract_option_id": option.pk,
            "effective_at": effective.isoformat(),
        },
        actor=actor,
        message=message,
    )


def contract_option_suspend(
    *, contract: Contract, contract_option: ContractOption | None = None, actor: User | None = None
) -> None:
    """R-OPT-8: an option cannot be suspended, only terminated. Always refused (the API and the pages offer
    no such action; this answers a caller who asks anyway)."""
    raise _refuse(
        _("Une option ne peut pas être suspendue, seulement résiliée (R-OPT-8)."),
        field="option",
        rule="R-OPT-8",
    )


def _option_of(request: OperatorRequest, contract: Contract) -> ContractOption | None:
    pk = (request.payload or {}).get("contract_option_id")
    if pk is None:
        return None
    return ContractOption.objects.select_for_update().filter(pk=pk, contract=contract).first()


def _apply_option_added(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    payload = request.payload or {}
    option = _option_of(request, contract)
    if option is None or option.status != OptStatus.PENDING:
        return
    now = timezone.now()
    option.status, option.activated_at = OptStatus.ACTIVE, now
    option.save(update_fields=["status", "activated_at"])
    if payload.get("roaming_zone"):
        _finish_roaming_change(request, contract, option, now)
        return
    if option.fas_ht:
        OneOffFee.objects.create(
            partner_id=contract.partner_id,
            contract=contract,
            kind=OneOffFee.Kind.OPTION,
            label=_("FAS %(option)s") % {"option": option.label},
            amount_ht=option.fas_ht,
            created_at=now,
        )
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPTION,
        actor_label=_(OPERATOR),
        message=_("Option « %(label)s » activée.") % {"label": option.label},
        data={"operator_request": request.pk, "option": option.code, "rule": "R-OPT-8"},
    )


def _undo_option_add(request: OperatorRequest, contract: Contract) -> None:
    option = _option_of(request, contract)
    if option is not None and option.status == OptStatus.PENDING:
        option.status, option.ended_at = OptStatus.TERMINATED, timezone.now()
        option.save(update_fields=["status", "ended_at"])


def _apply_option_removed(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """R-OPT-3: a Bouygues option ends now; an Orange option ends on the 1st of next month (it stays
    "Résiliation programmée" until then, ``contract_options_end_due`` closes it)."""
    option = _option_of(request, contract)
    if option is None or option.status != OptStatus.TERMINATING:
        return
    now = timezone.now()
    if option.ended_at is None or option.ended_at <= now:
        option.status, option.ended_at = OptStatus.TERMINATED, option.ended_at or now
        option.save(update_fields=["status", "ended_at"])
        message = _("Option « %(label)s » résiliée.") % {"label": option.label}
    else:
        message = _("Résiliation de l'option « %(label)s » confirmée : fin le %(date)s (R-OPT-3).") % {
            "label": option.label,
            "date": _fmt_date(option.ended_at),
        }
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPTION,
        actor_label=_(OPERATOR),
        message=message,
        data={"operator_request": request.pk, "option": option.code, "rule": "R-OPT-3"},
    )


def _undo_option_removal(request: OperatorRequest, contract: Contract) -> None:
    option = _option_of(request, contract)
    if option is not None and option.status == OptStatus.TERMINATING:
        option.status, option.ended_at = OptStatus.ACTIVE, None
        option.save(update_fields=["status", "ended_at"])


def contract_options_end_due(*, now: dt.datetime | None = None) -> int:
    """Options whose programmed end has come (Orange, 1st of the month, R-OPT-3) become Résilié. Idempotent;
    meant for the periodic task of ``contracts.tasks``. Returns how many options ended."""
    now = now or timezone.now()
    return ContractOption.objects.filter(
        status=OptStatus.TERMINATING, ended_at__isnull=False, ended_at__lte=now
    ).update(status=OptStatus.TERMINATED)


# --------------------------------------------------------------------------------------------------------
# Roaming choice changed within the month (R-OPT-4, R-ALR-5)
# --------------------------------------------------------------------------------------------------------


def roaming_zone_choices(contract: Contract) -> dict[str, list[RoamingChoice]]:
    """Per zone the line may change, the catalog's roaming choices it may pick (R-OPT-4/5, R-ROA-3/4)."""
    offer = contract.offer
    zones = [
        z.zone
        for z in catalog_rules.roaming_zones(offer)
        if z.allowed and not (contract.network == Network.ORANGE and z.zone == catalog_rules.EUROPE)
    ]
    rows = RoamingChoice.objects.filter(network=contract.network, active=True, zone__in=zones).order_by(
        "sort_order", "code"
    )
    out: dict[str, list[RoamingChoice]] = {z: [] for z in zones}
    for row in rows:
        if catalog_rules.roaming_choice_eligibility(offer, row).allowed:
            out[row.zone].append(row)
    return {z: choices for z, choices in out.items() if choices}


def roaming_envelope(contract: Contract, zone: str) -> ContractOption | None:
    """The roaming choice in force for ``zone`` (R-OPT-4: the envelope is the latest option's, never the sum
    of the month's options)."""
    return (
        ContractOption.objects.filter(contract=contract, zone=zone, status=OptStatus.ACTIVE)
        .order_by("-activated_at", "-created_at", "-id")
        .first()
    )


def options_billed_for_month(contract: Contract, year: int, month: int) -> list[ContractOption]:
    """Options with a monthly fee that were live at some point of the month (R-CON-4 / R-OPT-4: every month
    started is billed — an option replaced within the month is billed for it as well as its successor)."""
    start = dt.datetime(year, month, 1, tzinfo=timezone.get_default_timezone())
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.get_default_timezone())
    return list(
        ContractOption.objects.filter(contract=contract, activated_at__isnull=False, activated_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .exclude(monthly_fee_ht__isnull=True)
        .order_by("activated_at", "id")
    )


@transaction.atomic
def contract_roaming_change(
    *, contract: Contract, zone: str, choice_code: str, actor: User | None = None
) -> OperatorRequest:
    """Change the roaming cut-off or option of one zone (R-OPT-4/5, R-ROA-3/4) of a live line.

    When the operator confirms: the previous choice ends (it keeps its month: both are billed, R-OPT-4), the
    new one is active and is the zone's envelope — envelopes never add up. A roaming block of the zone is
    lifted at once (R-ALR-5): an ``unblock_data`` request goes with the change when the zone was blocked."""
    locked = _lock(contract)
    _require_live(locked, rule="R-OPT-4")
    offer = locked.offer
    zone = (zone or "").strip()
    decision = next((z for z in catalog_rules.roaming_zones(offer) if z.zone == zone), None)
    if decision is None:
        raise _refuse(
            _("Zone d'itinérance « %(zone)s » inconnue sur ce réseau.") % {"zone": zone},
            field="zone",
            rule="R-OPT-5",
        )
    if not decision.allowed:
        raise _refuse(decision.reason, field="zone", rule=decision.rule)
    if locked.network == Network.ORANGE and zone == catalog_rules.EUROPE:
        raise _refuse(
            _("En Europe, la coupure Orange est l'enveloppe du forfait : rien à changer."),
            field="zone",
            rule="R-ROA-3",
        )
    choice = RoamingChoice.objects.filter(
        network=locked.network, code=(choice_code or "").strip(), active=True
    ).first()
    if choice is None or choice.zone != zone:
        raise _refuse(
            _("Choix « %(code)s » inconnu pour cette zone.") % {"code": choice_code},
            field="choice",
            rule="R-OPT-5" if locked.network == Network.ORANGE else "R-ROA-4",
        )
    eligible = catalog_rules.roaming_choice_eligibility(offer, choice)
    if not eligible.allowed:
        raise _refuse(eligible.reason, field="choice", rule=eligible.rule)
    current = roaming_envelope(locked, zone)
    if current is not None and current.code == choice.code:
        raise _refuse(_("C'est déjà le choix d'itinérance de cette zone."), field="choice", rule="R-OPT-4")
    if ContractOption.objects.filter(contract=locked, zone=zone, status=OptStatus.PENDING).exists():
        raise _refuse(
            _("Un changement d'itinérance est déjà en cours pour cette zone."), field="zone", rule="R-OPT-4"
        )
    facts = catalog_rules.RoamingChoiceFacts.of(choice)
    now = timezone.now()
    new = ContractOption.objects.create(
        partner_id=locked.partner_id,
        contract=locked,
        roaming_choice=choice,
        code=choice.code,
        label=roaming_choice_label(facts),
        zone=zone,
        monthly_fee_ht=(choice.price_ht or Decimal("0")) if choice.kind == "option" else Decimal("0"),
        status=OptStatus.PENDING,
        created_at=now,
    )
    zone_label = Zone(zone).label if zone in Zone.values else zone
    request = _request(
        locked,
        RequestKind.ADD_OPTION,
        payload={
            "option_code": choice.code,
            "contract_option_id": new.pk,
            "roaming_zone": zone,
            "replaces": current.code if current is not None else "",
            "replaces_option_id": current.pk if current is not None else None,
        },
        actor=actor,
        message=_("Itinérance %(zone)s : « %(new)s » demandé%(old)s (R-OPT-4).")
        % {
            "zone": zone_label,
            "new": new.label,
            "old": _(" en remplacement de « %(old)s »") % {"old": current.label}
            if current is not None
            else "",
        },
    )
    # R-ALR-5: a roaming block of this zone is lifted at once (``contracts.datablocks``: one unblock_data request
    # when a block was open; nothing to unblock otherwise).
    from .datablocks import contract_data_unblock

    contract_data_unblock(
        contract=locked,
        scope=DataBlock.Scope.ROAMING,
        zone=zone,
        rule="R-ALR-5",
        reason=_("choix d'itinérance %(zone)s modifié") % {"zone": zone_label},
        actor=actor,
    )
    return request


def _finish_roaming_change(
    request: OperatorRequest, contract: Contract, new: ContractOption, now: dt.datetime
) -> None:
    """R-OPT-4: the previous choice of the zone ends now but keeps its month (both billed); the new one is
    the envelope."""
    payload = request.payload or {}
    previous = (
        ContractOption.objects.filter(contract=contract, zone=new.zone, status=OptStatus.ACTIVE)
        .exclude(pk=new.pk)
        .order_by("-created_at", "-id")
    )
    ended = list(previous)
    previous.update(status=OptStatus.TERMINATED, ended_at=now)
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPTION,
        actor_label=_(OPERATOR),
        message=_(
            "Itinérance : « %(new)s » active%(old)s. Les deux choix du mois sont facturés ; l'enveloppe est "
            "celle du nouveau choix, elles ne s'additionnent pas (R-OPT-4)."
        )
        % {
            "new": new.label,
            "old": _(", remplace « %(old)s »") % {"old": ", ".join(o.label for o in ended)} if ended else "",
        },
        data={
            "operator_request": request.pk,
            "zone": new.zone,
            "new": new.code,
            "replaced": [o.code for o in ended] or payload.get("replaces") or "",
            "rule": "R-OPT-4",
        },
    )


# --------------------------------------------------------------------------------------------------------
# Offer changes (R-CON-1..3, ``contracts.scheduling``) and retry (R-CON-7)
# --------------------------------------------------------------------------------------------------------


def offer_change_targets(
    contract: Contract, kind: str = ""
) -> list[tuple[Offer, catalog_rules.ChangeDecision]]:
    """Offers this line may move to (R-CON-1 upgrade/downgrade, R-CON-2 migration; R-CON-3 refusals left
    out), optionally only one ``kind`` (``change_speed`` → upgrade/downgrade, ``migrate`` → migration)."""
    wanted = {"change_speed": ("upgrade", "downgrade"), "migrate": ("migration",)}.get(kind)
    out = []
    for offer in (
        Offer.objects.filter(network=contract.network, active=True)
        .exclude(pk=contract.offer_id)
        .order_by("sort_order", "code")
    ):
        decision = catalog_rules.offer_change(contract.offer, offer)
        if decision.allowed and (wanted is None or decision.kind in wanted):
            out.append((offer, decision))
    return out


def contract_offer_change(
    *, contract: Contract, offer_code: str, actor: User | None = None
) -> ScheduledChange:
    """Upgrade/downgrade (R-CON-1) or migration blocked ⇄ non-blocked (R-CON-2), effective on the 1st of next
    month: ``contracts.scheduling.contract_offer_change_schedule`` (R-CON-3 refusals there)."""
    _require_live(contract, rule="R-CON-1")
    offer = Offer.objects.filter(code=(offer_code or "").strip()).first()
    if offer is None:
        raise _refuse(_("Offre inconnue : %(code)s.") % {"code": offer_code}, field="offer", rule="R-CON-1")
    return scheduling.contract_offer_change_schedule(contract=contract, new_offer=offer, actor=actor)


def pending_offer_change(contract: Contract) -> ScheduledChange | None:
    """The scheduled offer change waiting for the 1st of next month, if any."""
    return scheduling.contract_pending_change(contract.partner, contract)


def contract_offer_change_cancel(*, contract: Contract, actor: User | None = None) -> ScheduledChange:
    """Cancel the scheduled offer change before it takes effect (``contracts.scheduling``)."""
    change = scheduling.contract_pending_change(contract.partner, contract)
    if change is None:
        raise _refuse(_("Aucun changement d'offre programmé sur cette ligne."), field="offer", rule="R-CON-1")
    return scheduling.scheduled_change_cancel(change=change, actor=actor)


def contract_retry(*, contract: Contract, actor: User | None = None) -> OperatorRequest:
    """The "retry" action of a line whose activation failed (R-CON-7/8): its failed creation request goes back
    to the queue (``contracts.outcomes.contract_provisioning_retry``)."""
    from .outcomes import contract_provisioning_retry

    with transaction.atomic():
        locked = _lock(contract)
        if locked.state != State.FAILED:
            raise _refuse(
                _("Rien à relancer : la mise en service de cette ligne n'est pas en erreur."),
                field="state",
                rule="R-CON-8",
            )
        return contract_provisioning_retry(contract=locked, actor=actor)


# --------------------------------------------------------------------------------------------------------
# Cancelling requests not sent yet
# --------------------------------------------------------------------------------------------------------


def _cancel_open_requests(
    contract: Contract, *, actor: User | None, reason: str, keep: int | None = None
) -> int:
    """Cancel the contract's requests not sent yet (pending/planned) and undo what they reserved. Creation
    requests and offer changes are left alone (the line is live; ``contracts.scheduling`` owns the latter)."""
    requests = list(
        OperatorRequest.objects.select_for_update()
        .filter(contract=contract, state__in=(ReqState.PENDING, ReqState.PLANNED))
        .exclude(kind__in=[*CREATION_KINDS, RequestKind.CHANGE_OFFER])
        .exclude(pk=keep)
        .order_by("created_at", "id")
    )
    for request in requests:
        operator_request_transition(request=request, to_state=ReqState.CANCELLED)
        undo = UNDO.get(request.kind)
        if undo is not None:
            undo(request, contract)
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.OPERATOR_REQUEST,
            actor=actor,
            message=_("%(kind)s annulée (%(reason)s).")
            % {"kind": RequestKind(request.kind).label, "reason": reason},
            data={"operator_request": request.pk, "kind": request.kind},
        )
    return len(requests)


# --------------------------------------------------------------------------------------------------------
# Registration in ``contracts.outcomes``
# --------------------------------------------------------------------------------------------------------

Applier = Callable[[OperatorRequest, Contract, dict[str, Any]], None]

#: What a completed request does to the contract (registered in ``contracts.outcomes.APPLIERS``).
APPLIERS: dict[str, Applier] = {
    RequestKind.SUSPEND: _apply_suspended,
    RequestKind.RESUME: _apply_resumed,
    RequestKind.TERMINATE: _apply_terminated,
    RequestKind.SWAP_SIM: _apply_sim_swapped,
    RequestKind.SWAP_SIM_ESIM: _apply_sim_swapped,
    RequestKind.ADD_OPTION: _apply_option_added,
    RequestKind.REMOVE_OPTION: _apply_option_removed,
}

#: What cancelling or failing a request must give back.
UNDO: dict[str, Callable[[OperatorRequest, Contract], None]] = {
    RequestKind.TERMINATE: _undo_termination,
    RequestKind.SWAP_SIM: _undo_sim_swap,
    RequestKind.SWAP_SIM_ESIM: _undo_sim_swap,
    RequestKind.ADD_OPTION: _undo_option_add,
    RequestKind.REMOVE_OPTION: _undo_option_removal,
}


def _failed(request: OperatorRequest, contract: Contract, error: str) -> None:
    """A lifecycle request failed for good: undo what it reserved, show the operator's message on the line
    (the action can be asked again from its page)."""
    undo = UNDO.get(request.kind)
    if undo is not None:
        undo(request, contract)
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=timezone.now())


#: What a final failure does (registered in ``contracts.outcomes.FAILURE_APPLIERS``).
FAILURE_APPLIERS: dict[str, Callable[[OperatorRequest, Contract, str], None]] = dict.fromkeys(
    APPLIERS, _failed
)
