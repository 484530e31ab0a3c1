"""eSIM delivery (R-ORD-3, R-ORD-4, R-OPT-2): the activation email (activation code and its QR code) to the contact
email, the 6-digit confirmation code by SMS to the contact mobile, and the partner's "resend" from the contract's
Resources tab. Emails and SMS go through the outbox (``notifications.services.esim_delivery_enqueue``).

**When a new eSIM line's details are sent: when the operator confirms the line's creation** (``create_line_esim``
or ``port_in`` of an eSIM, hooked after the creation applier of ``contracts.outcomes``), not at order commit.
The profile itself is allocated at once when ordered (R-OPT-2 "attribution immédiate": ICCID, matching id and
activation code are on the Resources tab right away), but the handset can only download it once the operator has
created it — an Orange eSIM ordered on Saturday is created on Monday 09:00 (R-PRV-2); a QR code scanned before
would fail and could burn the user's tries. Sending on confirmation also means the confirmation code sent by SMS
is exactly the one the operator checks: it comes back in the operator's answer (``confirmation_code``), the
platform records it (``EsimActivation``) and never sends a code the operator does not know.

Who draws the confirmation code: the platform when it writes the request (``esim_request_fields``, e.g. the SIM
swap to eSIM payload — ``confirmation_code_generate``; the operator then uses it, ES2+ "confirm order" style),
otherwise the operator. Either way the operator's answer is what gets recorded and sent.

Exactly once: the first delivery of a profile uses the dedup key ``esim:<contract id>:<ICCID>`` — a repeated
confirmation, a retried task, a second call send nothing more; a resend (``resend=True``) always sends, with
its own history line. The confirmation code never appears in the email (ID-LPA).

Three wrong tries lock the code, and an installed eSIM is never installed again: the operator checks that
(``provisioning.simulators.orange.OrangeSimulator.esim_confirm``; try it with ``manage.py
simulate_esim_download``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.operator_kinds import RequestKind
from inventory.models import EsimProfile
from notifications import rules as notification_rules
from notifications import services as notifications
from notifications.models import OutboxMessage
from notifications.selectors import outbox_list
from partners.models import Partner, User

from .models import Contract, ContractEvent, EsimActivation, OperatorRequest
from .services import contract_event_record

logger = logging.getLogger(__name__)

Applier = Callable[[OperatorRequest, Contract, dict[str, Any]], None]


def _profile_activation_code(profile: EsimProfile) -> str:
    """R-ORD-4 / ID-LPA: ``LPA:1$<SM-DP+>$<matching id>$$1`` from the profile of the stock."""
    return notification_rules.activation_code_build(
        smdp_address=profile.smdp_address, matching_id=profile.matching_id
    )


def first_delivery_key(contract: Contract, profile: EsimProfile) -> str:
    return f"esim:{contract.pk}:{profile.iccid}"


# --------------------------------------------------------------------------------------------------------
# Operator side: the code travels in the request, comes back in the answer
# --------------------------------------------------------------------------------------------------------


@transaction.atomic
def esim_request_fields(*, contract: Contract, profile: EsimProfile) -> dict[str, Any]:
    """The payload fields of an operator request that installs ``profile`` on ``contract`` (SIM swap to eSIM,
    R-ORD-5; any creation): the platform's profile and a fresh 6-digit confirmation code (R-ORD-3), recorded
    as not yet confirmed by the operator. Merge into the request's payload: ``{**payload, **fields}``."""
    activation_code = _profile_activation_code(profile)
    code = notifications.confirmation_code_generate(avoid=[activation_code, profile.iccid])
    EsimActivation.objects.update_or_create(
        esim=profile,
        defaults={
            "partner_id": contract.partner_id,
            "contract": contract,
            "activation_code": activation_code,
            "confirmation_code": code,
            "confirmed_at": None,
        },
        create_defaults={
            "partner_id": contract.partner_id,
            "contract": contract,
            "activation_code": activation_code,
            "confirmation_code": code,
            "created_at": timezone.now(),
        },
    )
    return {
        "esim": True,
        "iccid": profile.iccid,
        "matching_id": profile.matching_id,
        "smdp_address": profile.smdp_address,
        "confirmation_code": code,
    }


#: Operator requests whose answer carries the codes of a new eSIM profile.
ESIM_REQUEST_KINDS = (
    RequestKind.CREATE_LINE_ESIM,
    RequestKind.PORT_IN,
    RequestKind.SWAP_SIM_ESIM,
    RequestKind.CREATE_LINE,
)


def _record_operator_answer(
    *, contract: Contract, profile: EsimProfile, request: OperatorRequest, result: dict[str, Any]
) -> EsimActivation | None:
    """Record the codes the operator holds for ``profile`` (from its answer to ``request``); ``None`` when the
    answer has no usable confirmation code (a history note says so). Idempotent for one request."""
    existing = EsimActivation.objects.select_for_update().filter(esim=profile).first()
    if existing is not None and existing.confirmed_at and existing.operator_request_id == request.pk:
        return existing
    ours = _profile_activation_code(profile)
    theirs = (result.get("activation_code") or "").strip()
    code = (
        result.get("confirmation_code")
        or (request.payload or {}).get("confirmation_code")
        or (existing.confirmation_code if existing else "")
    )
    if not notification_rules.confirmation_code_valid(code):
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor_label=_("Système"),
            message=_(
                "eSIM : l'opérateur n'a pas transmis de code de confirmation ; informations non envoyées."
            ),
            data={"operator_request": request.pk, "iccid": profile.iccid, "rule": "R-ORD-3"},
        )
        return None
    if (
        theirs and theirs != ours
    ):  # the handset talks to the operator's SM-DP+: its code is the one that works
        logger.warning("contract %s: operator activation code differs from the profile's", contract.pk)
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor_label=_("Système"),
            message=_(
                "eSIM : le code d'activation de l'opérateur diffère du profil en stock (%(ours)s) ; "
                "celui de l'opérateur est envoyé."
            )
            % {"ours": ours},
            data={"operator_request": request.pk, "iccid": profile.iccid, "operator": theirs, "stock": ours},
        )
    now = timezone.now()
    values = {
        "partner_id": contract.partner_id,
        "contract": contract,
        "activation_code": theirs or ours,
        "confirmation_code": code,
        "operator_request": request,
        "confirmed_at": now,
    }
    activation, _created = EsimActivation.objects.update_or_create(
        esim=profile, defaults=values, create_defaults={**values, "created_at": now}
    )
    return activation


def _confirmed_activation(contract: Contract, profile: EsimProfile) -> EsimActivation | None:
    """The operator-confirmed codes of ``profile``; recorded on the fly from the completed operator request
    that installed it when nobody recorded them yet (e.g. a swap applier calling the delivery directly)."""
    activation = EsimActivation.objects.filter(esim=profile).first()
    if activation is not None and activation.confirmed_at is not None:
        return activation
    request = (
        OperatorRequest.objects.filter(
            contract=contract,
            state=OperatorRequest.State.COMPLETED,
            kind__in=list(ESIM_REQUEST_KINDS),
            result__iccid=profile.iccid,
        )
        .order_by("-completed_at", "-id")
        .first()
    )
    if request is None:
        return None
    return _record_operator_answer(contract=contract, profile=profile, request=request, result=request.result)


@transaction.atomic
def esim_operator_confirmed(
    *, request: OperatorRequest, contract: Contract, result: dict[str, Any]
) -> EsimActivation | None:
    """The operator created the contract's eSIM (creation, port-in, or swap to eSIM — call it *after* the
    contract points to its new profile): record the codes it holds, then queue the first delivery (R-ORD-3/4).

    Runs inside the operator's completion transaction: a refusal (no contact email, invalid mobile) is written
    in the contract's history and never undoes the line's activation. Idempotent."""
    contract = Contract.objects.select_related("esim", "partner").get(pk=contract.pk)
    profile = contract.esim
    if profile is None:
        return None
    activation = _record_operator_answer(contract=contract, profile=profile, request=request, result=result)
    if activation is None:
        return None
    try:
        with transaction.atomic():
            esim_delivery_for_contract(contract)
    except RuleViolation as exc:
        contract_event_record(
            contract=contract,
            kind=ContractEvent.Kind.NOTE,
            actor_label=_("Système"),
            message=_("Informations eSIM non envoyées : %(error)s") % {"error": exc.message},
            data={
                "operator_request": request.pk,
                "iccid": profile.iccid,
                "rule": exc.rule,
                "field": exc.field,
            },
        )
    return activation


def after_line_created(applier: Applier | None) -> Applier:
    """Chain the first eSIM delivery after a creation applier (``contracts.outcomes``): the line goes live,
    then its eSIM details are queued (see the module docstring: sent when the operator confirms)."""

    def applier_then_deliver(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
        if applier is not None:
            applier(request, contract, result)
        if contract.esim_id:
            esim_operator_confirmed(request=request, contract=contract, result=result)

    applier_then_deliver.chained = applier  # type: ignore[attr-defined]
    return applier_then_deliver


def creation_appliers(appliers: dict[str, Applier]) -> dict[str, Applier]:
    """The creation appliers of ``appliers`` wrapped by ``after_line_created`` (once: re-wrapping is a no-op)."""
    out: dict[str, Applier] = {}
    for kind in (RequestKind.CREATE_LINE_ESIM, RequestKind.PORT_IN):
        current = appliers.get(kind)
        if current is not None and hasattr(current, "chained"):
            continue
        out[kind] = after_line_created(current)
    return out


# --------------------------------------------------------------------------------------------------------
# Delivery and resend
# --------------------------------------------------------------------------------------------------------


def _record_sent(
    contract: Contract, delivery: notifications.EsimDelivery, *, actor: User | None, resend: bool, iccid: str
) -> ContractEvent:
    params = {"email": delivery.email.to, "mobile": delivery.sms.to}
    if resend:
        message = _(
            "Informations eSIM renvoyées : e-mail à %(email)s (code d'activation et QR code), SMS au "
            "%(mobile)s (code de confirmation)."
        )
    else:
        message = _(
            "Informations eSIM envoyées : e-mail à %(email)s (code d'activation et QR code), SMS au "
            "%(mobile)s (code de confirmation)."
        )
    return contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.RESOURCE,
        actor=actor,
        actor_label="" if actor else _("Système"),
        message=message % params,
        data={
            "iccid": iccid,
            "email": delivery.email.to,
            "mobile": delivery.sms.to,
            "outbox_email": delivery.email.pk,
            "outbox_sms": delivery.sms.pk,
            "resend": resend,
            "rule": "R-ORD-4" if resend else "R-ORD-3",
        },
    )


@transaction.atomic
def esim_delivery_for_contract(
    contract: Contract,
    *,
    to_email: str | None = None,
    to_mobile: str | None = None,
    resend: bool = False,
    actor: User | None = None,
) -> notifications.EsimDelivery:
    """Queue the eSIM details of ``contract``: email with the activation code ``LPA:1$<SM-DP+>$<matching
    id>$$1`` (built from its ``EsimProfile``) and its QR code to ``to_email`` (default: the contact email),
    SMS with the 6-digit confirmation code the operator holds to ``to_mobile`` (default: the contact mobile),
    and a history line.

    First delivery: dedup key ``esim:<contract>:<ICCID>`` — a second call queues nothing and writes no
    history; ``resend=True``: always sent. ``RuleViolation`` when the line has no eSIM, the operator has not
    created it yet, or a recipient is missing or invalid."""
    contract = Contract.objects.select_related("esim", "partner").get(pk=contract.pk)
    profile = contract.esim
    if profile is None:
        raise RuleViolation(_("Cette ligne n'a pas d'eSIM."), field="esim", rule="R-OPT-2")
    activation = _confirmed_activation(contract, profile)
    if activation is None:
        raise RuleViolation(
            _("Les informations eSIM seront disponibles dès que l'opérateur aura créé le profil."),
            field="esim",
            rule="R-ORD-4",
        )
    email = (to_email if to_email is not None else contract.contact_email or "").strip()
    mobile = (to_mobile if to_mobile is not None else contract.contact_mobile or "").strip()
    if not email:
        raise RuleViolation(_("Aucun e-mail de contact pour l'eSIM."), field="email", rule="R-ORD-3")
    if not mobile:
        raise RuleViolation(
            _("Aucun mobile de contact pour le code de l'eSIM."), field="mobile", rule="R-ORD-3"
        )
    key = None if resend else first_delivery_key(contract, profile)
    already = (
        bool(key)
        and OutboxMessage.objects.filter(partner=contract.partner, dedup_key=f"{key}:email").exists()
    )
    delivery = notifications.esim_delivery_enqueue(
        partner=contract.partner,
        contract_ref=contract.pk,
        to_email=email,
        to_mobile=mobile,
        activation_code=activation.activation_code or _profile_activation_code(profile),
        confirmation_code=activation.confirmation_code,
        line_label=contract.user_name or contract.number,
        msisdn=contract.msisdn or "",
        dedup_key=key,
    )
    if not already:
        _record_sent(contract, delivery, actor=actor, resend=resend, iccid=profile.iccid)
    return delivery


def _clean_resend_email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise RuleViolation(_("Saisissez l'e-mail qui recevra le QR code."), field="email", rule="R-ORD-4")
    try:
        validate_email(value)
    except ValidationError:
        raise RuleViolation(
            _("Adresse e-mail invalide : « %(value)s ».") % {"value": value}, field="email", rule="R-ORD-4"
        ) from None
    return value


def _clean_resend_mobile(value: str, contract: Contract) -> str:
    raw = (value or "").strip()
    if not raw:
        raise RuleViolation(
            _("Saisissez le mobile qui recevra le code de confirmation."), field="mobile", rule="R-ORD-4"
        )
    try:
        e164 = notifications.mobile_to_e164(raw)
    except RuleViolation:
        raise RuleViolation(
            _("Numéro de mobile invalide : « %(value)s ».") % {"value": raw}, field="mobile", rule="R-ORD-4"
        ) from None
    if not contract.portability and contract.msisdn:
        try:
            own = notifications.mobile_to_e164(contract.msisdn)
        except RuleViolation:
            own = ""
        if own and own == e164:
            raise RuleViolation(  # R-ORD-3: the code cannot reach the phone that has no SIM yet
                _("Le code de confirmation doit être envoyé à un autre numéro que celui de la ligne eSIM."),
                field="mobile",
                rule="R-ORD-3",
            )
    return raw


@transaction.atomic
def contract_esim_resend(
    *, contract: Contract, email: str, mobile: str, actor: User | None
) -> notifications.EsimDelivery:
    """R-ORD-4: the partner sends the eSIM details again, to ``email`` (activation code and QR code) and to
    ``mobile`` (confirmation code), from the Resources tab. Always sent (no dedup), one history line each."""
    contract = Contract.objects.select_related("esim", "partner").get(pk=contract.pk)
    if contract.state == Contract.State.TERMINATED:
        raise RuleViolation(
            _("La ligne est résiliée : son eSIM ne peut plus être installée."), field="esim", rule="R-CON-6"
        )
    email = _clean_resend_email(email)
    mobile = _clean_resend_mobile(mobile, contract)
    return esim_delivery_for_contract(contract, to_email=email, to_mobile=mobile, resend=True, actor=actor)


# --------------------------------------------------------------------------------------------------------
# Reads (Resources tab)
# --------------------------------------------------------------------------------------------------------


def contract_esim_activation(partner: Partner, contract: Contract) -> EsimActivation | None:
    """The operator-confirmed codes of the contract's current eSIM, or ``None``."""
    if not contract.esim_id:
        return None
    return EsimActivation.objects.filter(
        partner=partner, contract=contract, esim_id=contract.esim_id, confirmed_at__isnull=False
    ).first()


def contract_esim_deliveries(partner: Partner, contract: Contract) -> QuerySet[OutboxMessage]:
    """The eSIM emails and SMS of the contract (outbox rows, newest first) with their delivery state."""
    return outbox_list(partner, ref=contract)


def contract_esim_resources(partner: Partner, contract: Contract) -> dict[str, Any]:
    """What the Resources tab shows about the eSIM: codes, QR code, deliveries, resend defaults."""
    if not contract.esim_id:
        return {}
    activation = contract_esim_activation(partner, contract)
    qr = ""
    if activation is not None:
        import base64

        from notifications.qr import qr_png

        qr = base64.b64encode(qr_png(activation.activation_code, scale=4)).decode()
    return {
        "esim_activation": activation,
        "esim_qr_base64": qr,
        "esim_deliveries": list(contract_esim_deliveries(partner, contract)[:10]),
        "esim_resend_defaults": {
            "email": contract.contact_email,
            "mobile": contract.contact_mobile,
        },
    }
