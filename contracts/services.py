"""Writes of the contract domain (STYLE 1): placing an order, moving a contract or an operator request through
its state machine, recording history.

``order_place`` (R-ORD-1..3) checks everything first, then writes the whole order in one transaction with batch
writes: the number of SQL queries does not grow with the number of lines (``bench/bench_order.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog import rules as catalog_rules
from catalog.labels import roaming_choice_label, zone_label
from catalog.models import Offer, Option, RoamingChoice
from core.broker import wake_task
from core.errors import RuleViolation, constraint_name
from core.networks import Network
from core.operator_kinds import RequestKind
from inventory import services as inventory
from inventory.models import PhoneNumber
from inventory.rules import normalize_iccid
from partners.models import ClientAccount, Partner, Site, User

from . import rules
from .models import (
    Contract,
    ContractEvent,
    ContractOption,
    IdempotencyRecord,
    NumberSequence,
    OneOffFee,
    OperatorRequest,
    Order,
    SimType,
)

logger = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
MAX_LINES_PER_ORDER = 1000
ESIM_FAS_HT = Decimal("1.50")  # R-OPT-2 (the catalog's eSIM option carries the same FAS)
DISPATCH_TASK = "provisioning.dispatch_due_requests"
#: Orange gives Data only and M2M lines a 14-digit number after the order (R-CAT-5, R-CAT-6).
OPERATOR_NUMBERED_RANGES = frozenset({catalog_rules.DATA_ONLY, catalog_rules.M2M})
#: The option recorded on the line when "allow SVA?" is answered no (R-ORD-1, R-OPT-6/7).
SVA_BLOCK_OPTION = {Network.ORANGE: "sva_calls", Network.BOUYGUES: "sva_block"}
SVA_BLOCK_LABEL = {
    Network.ORANGE: "Désactiver les appels vers SVA Orange",
    Network.BOUYGUES: "Blocage des SVA",
}


@dataclass
class LineSpec:
    """One line of an order (R-ORD-2). ``msisdn``: a Bouygues number chosen from the pool, or the number being
    ported when ``portability``; empty → drawn at random (R-CON-6) or given later by Orange (R-CAT-5/6).
    ``sim_type`` empty → the order's. ``iccid``: a given physical SIM of the stock (else one is allocated)."""

    user_name: str = ""
    msisdn: str = ""
    contact_email: str = ""
    contact_mobile: str = ""
    sim_type: str = ""
    portability: bool = False
    rio: str = ""
    iccid: str = ""
    site_id: int | None = None


@dataclass
class _Line:
    """A checked line, with what gets allocated to it."""

    index: int
    spec: LineSpec
    sim_type: str
    msisdn: str = ""
    ported_number: str = ""
    rio: str = ""
    contact_mobile: str = ""
    number: PhoneNumber | None = None
    sim: object | None = None
    esim: object | None = None
    site: Site | None = None

    @property
    def label(self) -> str:
        return _("Ligne %(n)d") % {"n": self.index + 1}

    def field(self, name: str) -> str:
        return f"lines[{self.index}].{name}"


@dataclass
class _OptionLine:
    """A ContractOption to write on every line (or only on eSIM lines)."""

    code: str
    label: str
    option: Option | None = None
    roaming_choice: RoamingChoice | None = None
    zone: str = ""
    monthly_fee_ht: Decimal | None = None
    fas_ht: Decimal = Decimal("0")
    data: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------
# Numbers (CMD-2026-000123, CTR-2026-000123)
# --------------------------------------------------------------------------------------------------------


def _reserve_sequence(prefix: str, year: int, count: int) -> int:
    """Reserve ``count`` consecutive numbers of the (prefix, year) counter; returns the first one.

    The counter row is locked (``select_for_update``) until the caller commits: concurrent orders wait for it,
    so numbers are unique and gapless. Three queries. Call it as late as possible in the transaction."""
    NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix, year=year)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(prefix=prefix, year=year)
    NumberSequence.objects.filter(pk=sequence.pk).update(last=F("last") + count)
    return sequence.last + 1


def _format_number(prefix: str, year: int, n: int) -> str:
    return f"{prefix}-{year}-{n:06d}"


# --------------------------------------------------------------------------------------------------------
# History and state machines (STYLE 7) — also used by provisioning (issue 4)
# --------------------------------------------------------------------------------------------------------


def contract_event_record(
    *,
    contract: Contract,
    kind: str,
    message: str = "",
    actor: User | None = None,
    actor_label: str = "",
    from_state: str = "",
    to_state: str = "",
    data: dict | None = None,
) -> ContractEvent:
    """Append one line to the contract's history (R-ORD-6 "Historique")."""
    return ContractEvent.objects.create(
        partner_id=contract.partner_id,
        contract=contract,
        kind=kind,
        message=message,
        actor=actor,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
        created_at=timezone.now(),
    )


@transaction.atomic
def contract_transition(
    *,
    contract: Contract,
    to_state: str,
    actor: User | None = None,
    actor_label: str = "",
    message: str = "",
    data: dict | None = None,
    **changes,
) -> Contract:
    """Move ``contract`` to ``to_state`` (``Contract.TRANSITIONS``): locks the row, returns quietly when it is
    already there (idempotent), raises ``RuleViolation`` (R-CON-8) on an illegal move, saves the state and the
    given field ``changes`` (e.g. ``delivered_at``, ``msisdn``, ``last_error``) with ``update_fields`` and
    writes a ``ContractEvent``."""
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.state == to_state:
        return locked
    if to_state not in Contract.TRANSITIONS[locked.state]:
        raise RuleViolation(
            _("Passage de l'état « %(from)s » à « %(to)s » impossible.")
            % {"from": Contract.State(locked.state).label, "to": Contract.State(to_state).label},
            field="state",
            rule="R-CON-8",
        )
    from_state = locked.state
    now = timezone.now()
    locked.state = to_state
    locked.state_changed_at = now
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=["state", "state_changed_at", "updated_at", *changes.keys()])
    contract_event_record(
        contract=locked,
        kind=ContractEvent.Kind.STATE_CHANGED,
        message=message
        or _("État : %(from)s → %(to)s")
        % {"from": Contract.State(from_state).label, "to": Contract.State(to_state).label},
        actor=actor,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        data=data,
    )
    return locked


def operator_request_payload_base(contract: Contract) -> dict:
    """What every operator request about an existing line carries (``provisioning.ports``)."""
    return {"contract_number": contract.number, "msisdn": contract.msisdn, "network": contract.network}


@transaction.atomic
def operator_request_create(
    *,
    contract: Contract,
    kind: str,
    payload: dict,
    not_before: dt.datetime | None = None,
    actor: User | None = None,
    message: str = "",
) -> OperatorRequest:
    """Write the durable intent of one operator call for ``contract`` (ARCHITECTURE "Operator requests"), with
    its history line, and wake the dispatcher after commit. For actions of issue 4 (suspend, terminate…)."""
    request = OperatorRequest.objects.create(
        partner_id=contract.partner_id,
        contract=contract,
        network=contract.network,
        kind=kind,
        payload={**operator_request_payload_base(contract), **payload},
        not_before=not_before,
        created_at=timezone.now(),
    )
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_REQUEST,
        message=message or _("Demande opérateur enregistrée : %(kind)s") % {"kind": RequestKind(kind).label},
        actor=actor,
        data={"operator_request": request.pk, "kind": kind},
    )
    transaction.on_commit(wake_dispatcher)
    return request


@transaction.atomic
def operator_request_transition(*, request: OperatorRequest, to_state: str, **changes) -> OperatorRequest:
    """Move an operator request (``OperatorRequest.TRANSITIONS``): locked, idempotent, illegal move refused."""
    locked = OperatorRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state == to_state and to_state != OperatorRequest.State.PLANNED:
        return locked
    if to_state not in OperatorRequest.TRANSITIONS[locked.state]:
        raise RuleViolation(
            _("Demande opérateur : passage de « %(from)s » à « %(to)s » impossible.")
            % {
                "from": OperatorRequest.State(locked.state).label,
                "to": OperatorRequest.State(to_state).label,
            },
            field="state",
        )
    locked.state = to_state
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=["state", "updated_at", *changes.keys()])
    return locked


def wake_dispatcher() -> None:
    """Ask provisioning to send due requests now, by Celery task *name* (ARCHITECTURE: contracts never imports
    provisioning). Best effort and quick when the broker is down (:func:`core.broker.wake_task`: one bounded
    attempt, no retry): the periodic sweep picks requests up from the database anyway. In eager mode (``make run``
    without Redis) the task runs in-process if it exists."""
    if not settings.PROVISIONING_WAKE_ON_ORDER:
        return
    wake_task(DISPATCH_TASK)


# --------------------------------------------------------------------------------------------------------
# order_place (R-ORD-1..3)
# --------------------------------------------------------------------------------------------------------


def _check_header(
    *,
    partner: Partner,
    client: ClientAccount,
    offer: Offer,
    quantity: int,
    configuration: str,
    sim_type: str,
    activation_date: dt.date,
    today: dt.date,
) -> None:
    if client is None or client.partner_id != partner.id:
        raise RuleViolation(_("Ce client n'appartient pas à votre compte."), field="client", rule="R-ORD-1")
    if offer is None or not offer.active:
        raise RuleViolation(_("Cette offre n'est pas commercialisée."), field="offer", rule="R-ORD-1")
    if not isinstance(quantity, int) or quantity < 1:
        raise RuleViolation(_("La quantité doit être d'au moins 1 ligne."), field="quantity", rule="R-ORD-1")
    if quantity > MAX_LINES_PER_ORDER:
        raise RuleViolation(
            _("Une commande compte au plus %(max)d lignes.") % {"max": MAX_LINES_PER_ORDER},
            field="quantity",
            rule="R-ORD-1",
        )
    if configuration not in Order.Configuration.values:
        raise RuleViolation(
            _("Configuration inconnue : unitaire ou multiple."), field="configuration", rule="R-ORD-2"
        )
    if sim_type not in SimType.values:
        raise RuleViolation(
            _("Type de SIM inconnu : avec PIN, sans PIN ou eSIM."), field="sim_type", rule="R-ORD-2"
        )
    if activation_date < today:
        raise RuleViolation(
            _("La date d'activation ne peut pas être dans le passé (au plus tôt le %(today)s).")
            % {"today": today.strftime("%d/%m/%Y")},
            field="activation_date",
            rule="R-ORD-2",
        )
    horizon = rules.activation_horizon(today)
    if activation_date > horizon:
        raise RuleViolation(
            _("La date d'activation ne peut pas dépasser un an (au plus tard le %(last)s).")
            % {"last": horizon.strftime("%d/%m/%Y")},
            field="activation_date",
            rule="R-ORD-2",
        )


def _catalog_options(
    *, partner: Partner, offer: Offer, option_codes: Sequence[str], five_g: bool, allow_sva: bool
) -> tuple[list[Option], list[_OptionLine], Option | None]:
    """R-ORD-1: the service options (eligible per ``catalog.rules``), 5G where not included (R-CAT-9) and the SVA
    answer. Returns the ordered options, the option lines to write on every contract, and the eSIM option."""
    codes = list(dict.fromkeys(c.strip() for c in option_codes if c and c.strip()))
    for code in codes:
        if code == catalog_rules.ESIM:
            raise RuleViolation(
                _("L'eSIM se choisit comme type de SIM, pas comme option."), field="options", rule="R-ORD-2"
            )
        if code == catalog_rules.FIVE_G:
            raise RuleViolation(_("La 5G se choisit avec la case « 5G »."), field="options", rule="R-CAT-9")
    wanted = {*codes, catalog_rules.ESIM, SVA_BLOCK_OPTION[offer.network]}
    if five_g:
        wanted.add(catalog_rules.FIVE_G)
    by_code = {o.code: o for o in Option.objects.filter(network=offer.network, code__in=wanted, active=True)}
    ordered: list[Option] = []
    lines: list[_OptionLine] = []
    for code in codes:
        option = by_code.get(code)
        if option is None or not option.orderable:
            raise RuleViolation(
                _("Option « %(code)s » inconnue sur le réseau %(network)s.")
                % {"code": code, "network": Network(offer.network).label},
                field="options",
                rule="R-ORD-1",
            )
        decision = catalog_rules.option_eligibility(offer, code, partner.is_init_sys)
        if not decision.allowed:
            raise RuleViolation(
                _("Option « %(label)s » : %(reason)s") % {"label": option.label, "reason": decision.reason},
                field="options",
                rule=decision.rule,
            )
        ordered.append(option)
        lines.append(
            _OptionLine(
                code=code,
                label=option.label,
                option=option,
                monthly_fee_ht=option.monthly_price_ht,
                fas_ht=option.fas_ht or Decimal("0"),
            )
        )
    if five_g:
        decision = catalog_rules.option_eligibility(offer, catalog_rules.FIVE_G, partner.is_init_sys)
        if not decision.allowed:  # R-CAT-9: included already, or not available (M2M)
            raise RuleViolation(decision.reason, field="five_g", rule=decision.rule)
        option = by_code.get(catalog_rules.FIVE_G)
        lines.append(
            _OptionLine(
                code=catalog_rules.FIVE_G,
                label=option.label if option else "5G",
                option=option,
                monthly_fee_ht=option.monthly_price_ht if option else None,
            )
        )
    if not allow_sva:
        code = SVA_BLOCK_OPTION[offer.network]
        if offer.range not in catalog_rules.VOICE_RANGES:
            raise RuleViolation(
                _("Cette offre n'a pas d'appels : la question des SVA ne se pose pas."),
                field="allow_sva",
                rule="R-ORD-1",
            )
        option = by_code.get(code)
        lines.append(
            _OptionLine(
                code=code,
                label=SVA_BLOCK_LABEL[offer.network],
                option=option,
                monthly_fee_ht=Decimal("0"),
                data={"sva_allowed": False},
            )
        )
    return ordered, lines, by_code.get(catalog_rules.ESIM)


def _roaming(*, offer: Offer, roaming: dict[str, str]) -> tuple[dict[str, str], list[_OptionLine]]:
    """R-ORD-1: per roaming zone a cut-off or an option (R-OPT-5, R-ROA-3/4). A zone left empty gets the lowest
    cut-off (no data, no surprise bill); zones the offer has no roaming for refuse any choice (R-CAT-5/6/8)."""
    zones = catalog_rules.roaming_zones(offer)
    by_zone = {z.zone: z for z in zones}
    rows = list(
        RoamingChoice.objects.filter(network=offer.network, active=True).order_by("sort_order", "code")
    )
    allowed = catalog_rules.roaming_choices(offer, rows)
    rows_by_code = {r.code: r for r in rows}
    chosen: dict[str, str] = {}
    lines: list[_OptionLine] = []
    for zone, code in roaming.items():
        code = (code or "").strip()
        if not code:
            continue
        decision = by_zone.get(zone)
        if decision is None:
            raise RuleViolation(
                _("Zone d'itinérance « %(zone)s » inconnue sur ce réseau.") % {"zone": zone},
                field=f"roaming.{zone}",
                rule="R-ORD-1",
            )
        if not decision.allowed:
            raise RuleViolation(decision.reason, field=f"roaming.{zone}", rule=decision.rule)
        if offer.network == Network.ORANGE and zone == catalog_rules.EUROPE:
            raise RuleViolation(
                _("En Europe, la coupure Orange est l'enveloppe du forfait : rien à choisir."),
                field=f"roaming.{zone}",
                rule="R-ROA-3",
            )
        facts = next((c for c in allowed if c.code == code and c.zone == zone), None)
        if facts is None:
            row = rows_by_code.get(code)
            reason = (
                catalog_rules.roaming_choice_eligibility(offer, row).reason
                if row is not None and row.zone == zone
                else _("Choix « %(code)s » inconnu pour la zone %(zone)s.")
                % {"code": code, "zone": zone_label(zone)}
            )
            raise RuleViolation(
                reason,
                field=f"roaming.{zone}",
                rule="R-ROA-4" if offer.network == Network.BOUYGUES else "R-OPT-5",
            )
        chosen[zone] = code
    for decision in zones:
        if not decision.allowed:
            continue
        if decision.zone in chosen:
            facts = next(c for c in allowed if c.code == chosen[decision.zone])
        else:
            candidates = [c for c in allowed if c.zone == decision.zone and c.kind == "cutoff"]
            if not candidates:
                continue
            facts = min(candidates, key=lambda c: c.limit)
            if not facts.derived:
                chosen[decision.zone] = facts.code
        lines.append(
            _OptionLine(
                code=facts.code,
                label=roaming_choice_label(facts),
                roaming_choice=None if facts.derived else rows_by_code.get(facts.code),
                zone=facts.zone,
                monthly_fee_ht=facts.price_ht if facts.kind == "option" else Decimal("0"),
                data={"rule": "R-ROA-3" if facts.derived else decision.rule},
            )
        )
    return chosen, lines


def _check_lines(
    *, specs: list[LineSpec], offer: Offer, sim_type: str, sites: dict[int, Site]
) -> list[_Line]:
    """Per line, without queries: SIM type (R-OPT-2), eSIM contacts (R-ORD-3), portability with RIO (R-ORD-2),
    chosen numbers (Bouygues pool only, R-ORD-2 / R-CON-6)."""
    operator_numbered = offer.network == Network.ORANGE and offer.range in OPERATOR_NUMBERED_RANGES
    lines: list[_Line] = []
    seen_numbers: dict[str, int] = {}
    seen_iccids: dict[str, int] = {}
    for index, spec in enumerate(specs):
        line = _Line(index=index, spec=spec, sim_type=(spec.sim_type or sim_type))
        if line.sim_type not in SimType.values:
            raise RuleViolation(
                _("%(line)s : type de SIM inconnu.") % {"line": line.label},
                field=line.field("sim_type"),
                rule="R-ORD-2",
            )
        if line.sim_type == SimType.ESIM:
            decision = catalog_rules.esim_eligibility(offer.network)
            if not decision.allowed:
                raise RuleViolation(
                    f"{line.label} : {decision.reason}", field=line.field("sim_type"), rule="R-OPT-2"
                )
            if spec.iccid:
                raise RuleViolation(
                    _("%(line)s : une eSIM est allouée à la commande, pas de carte SIM à indiquer.")
                    % {"line": line.label},
                    field=line.field("iccid"),
                    rule="R-OPT-2",
                )
        if spec.iccid:
            iccid = normalize_iccid(spec.iccid)
            if iccid in seen_iccids:
                raise RuleViolation(
                    _("%(line)s : la SIM %(iccid)s figure déjà à la ligne %(other)d.")
                    % {"line": line.label, "iccid": iccid, "other": seen_iccids[iccid] + 1},
                    field=line.field("iccid"),
                    rule="R-ORD-2",
                )
            seen_iccids[iccid] = index
        if len(spec.user_name or "") > 120:
            raise RuleViolation(
                _("%(line)s : nom d'utilisateur trop long (120 caractères au plus).") % {"line": line.label},
                field=line.field("user_name"),
                rule="R-ORD-2",
            )
        if spec.contact_email:
            try:
                validate_email(spec.contact_email.strip())
            except ValidationError:
                raise RuleViolation(
                    _("%(line)s : l'e-mail du contact n'est pas valide.") % {"line": line.label},
                    field=line.field("contact_email"),
                    rule="R-ORD-3",
                ) from None
        if spec.contact_mobile:
            line.contact_mobile = rules.msisdn_from_any(spec.contact_mobile)
            if not rules.is_mobile_number(line.contact_mobile):
                raise RuleViolation(
                    _("%(line)s : le mobile du contact doit être un numéro mobile français (06/07).")
                    % {"line": line.label},
                    field=line.field("contact_mobile"),
                    rule="R-ORD-3",
                )
        if line.sim_type == SimType.ESIM:  # R-ORD-3: activation email + confirmation code by SMS
            if not spec.contact_email:
                raise RuleViolation(
                    _("%(line)s : eSIM — l'e-mail du contact est obligatoire (il reçoit le QR code).")
                    % {"line": line.label},
                    field=line.field("contact_email"),
                    rule="R-ORD-3",
                )
            if not spec.contact_mobile:
                raise RuleViolation(
                    _("%(line)s : eSIM — le mobile du contact est obligatoire (il reçoit le code par SMS).")
                    % {"line": line.label},
                    field=line.field("contact_mobile"),
                    rule="R-ORD-3",
                )
        number = rules.msisdn_from_any(spec.msisdn)
        if spec.portability:
            if operator_numbered:
                raise RuleViolation(
                    _(
                        "%(line)s : pas de portabilité sur cette offre, Orange attribue un numéro à 14 chiffres."
                    )
                    % {"line": line.label},
                    field=line.field("portability"),
                    rule="R-CAT-6" if offer.range == catalog_rules.M2M else "R-CAT-5",
                )
            if not number:
                raise RuleViolation(
                    _("%(line)s : portabilité — indiquez le numéro porté.") % {"line": line.label},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
            if not rules.is_mobile_number(number):
                raise RuleViolation(
                    _("%(line)s : le numéro porté %(number)s n'est pas un numéro mobile valide.")
                    % {"line": line.label, "number": spec.msisdn},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
            if not spec.rio:
                raise RuleViolation(
                    _("%(line)s : portabilité — indiquez le code RIO (obtenu en appelant le 3179).")
                    % {"line": line.label},
                    field=line.field("rio"),
                    rule="R-ORD-2",
                )
            error = rules.rio_check(spec.rio, number)
            if error is not None:
                raise RuleViolation(
                    f"{line.label} : {error.message}", field=line.field("rio"), rule="R-ORD-2"
                )
            line.ported_number = number
            line.rio = rules.rio_normalize(spec.rio)
            line.msisdn = number
        elif number:
            if operator_numbered:
                raise RuleViolation(
                    _("%(line)s : le numéro à 14 chiffres est attribué par Orange après la commande.")
                    % {"line": line.label},
                    field=line.field("msisdn"),
                    rule="R-CAT-6" if offer.range == catalog_rules.M2M else "R-CAT-5",
                )
            if not rules.number_chosen_at_order(offer.network):
                raise RuleViolation(
                    _("%(line)s : chez Orange le numéro d'une nouvelle ligne est tiré au hasard.")
                    % {"line": line.label},
                    field=line.field("msisdn"),
                    rule="R-CON-6",
                )
            if not rules.is_mobile_number(number):
                raise RuleViolation(
                    _("%(line)s : le numéro %(number)s n'est pas un numéro mobile valide.")
                    % {"line": line.label, "number": spec.msisdn},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
            line.msisdn = number
        elif spec.rio:
            raise RuleViolation(
                _("%(line)s : un RIO n'a de sens qu'avec la portabilité.") % {"line": line.label},
                field=line.field("rio"),
                rule="R-ORD-2",
            )
        if line.msisdn:
            if line.msisdn in seen_numbers:
                raise RuleViolation(
                    _("%(line)s : le numéro %(number)s figure déjà à la ligne %(other)d.")
                    % {"line": line.label, "number": line.msisdn, "other": seen_numbers[line.msisdn] + 1},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
            seen_numbers[line.msisdn] = index
        if (
            line.sim_type == SimType.ESIM
            and not spec.portability
            and line.msisdn
            and line.contact_mobile == line.msisdn
        ):
            raise RuleViolation(
                _("%(line)s : eSIM — le mobile du contact doit être un autre numéro que celui de la ligne.")
                % {"line": line.label},
                field=line.field("contact_mobile"),
                rule="R-ORD-3",
            )
        if spec.site_id is not None:
            site = sites.get(spec.site_id)
            if site is None:
                raise RuleViolation(
                    _("%(line)s : site inconnu pour ce client.") % {"line": line.label},
                    field=line.field("site"),
                    rule="R-ORD-2",
                )
            line.site = site
        lines.append(line)
    return lines


def _check_numbers_free(*, partner: Partner, offer: Offer, lines: list[_Line]) -> None:
    """Ported numbers must not be live lines already; chosen Bouygues numbers must be available in the pool
    (R-ORD-2). Two queries whatever the number of lines (the allocation re-checks them under lock)."""
    ported = {line.ported_number: line for line in lines if line.ported_number}
    if ported:
        live = set(
            Contract.objects.filter(msisdn__in=list(ported))
            .exclude(state=Contract.State.TERMINATED)
            .values_list("msisdn", flat=True)
        )
        # A port-in brings a number from another operator: a number of the platform's own pools (any
        # partner's, whatever its state) is not one — porting it would take it from under its partner.
        pooled = set(PhoneNumber.objects.filter(msisdn__in=list(ported)).values_list("msisdn", flat=True))
        for number, line in ported.items():
            if number in live:
                raise RuleViolation(
                    _("%(line)s : le numéro %(number)s est déjà une ligne active de la plateforme.")
                    % {"line": line.label, "number": number},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
            if number in pooled:
                raise RuleViolation(
                    _(
                        "%(line)s : le numéro %(number)s appartient aux numéros de la plateforme, ce n'est pas "
                        "un numéro à porter depuis un autre opérateur."
                    )
                    % {"line": line.label, "number": number},
                    field=line.field("msisdn"),
                    rule="R-ORD-2",
                )
    chosen = {line.msisdn: line for line in lines if line.msisdn and not line.ported_number}
    if chosen:
        available = set(
            PhoneNumber.objects.filter(
                partner=partner,
                network=offer.network,
                kind=PhoneNumber.Kind.MOBILE,
                state=PhoneNumber.State.AVAILABLE,
                msisdn__in=list(chosen),
            ).values_list("msisdn", flat=True)
        )
        for number, line in chosen.items():
            if number not in available:
                raise RuleViolation(
                    _("%(line)s : le numéro %(number)s n'est pas disponible dans votre réserve %(network)s.")
                    % {"line": line.label, "number": number, "network": Network(offer.network).label},
                    field=line.field("msisdn"),
                    rule="R-CON-6",
                )


def _insert_contracts(lines: list[_Line], contracts: list[Contract]) -> list[Contract]:
    """Insert the order's contracts. A number that became live elsewhere since the checks (a concurrent order
    porting the same number) breaks ``contract_msisdn_live_unique``: refused in French, naming the number,
    never a server error."""
    try:
        with transaction.atomic():
            return Contract.objects.bulk_create(contracts)
    except IntegrityError as exc:
        if constraint_name(exc) != "contract_msisdn_live_unique":
            raise
        numbers = [line.msisdn for line in lines if line.msisdn]
        live = set(
            Contract.objects.filter(msisdn__in=numbers)
            .exclude(state=Contract.State.TERMINATED)
            .values_list("msisdn", flat=True)
        )
        line = next((line for line in lines if line.msisdn in live), lines[0])
        raise RuleViolation(
            _("%(line)s : le numéro %(number)s vient de devenir une ligne active de la plateforme.")
            % {"line": line.label, "number": line.msisdn or "—"},
            field=line.field("msisdn"),
            rule="R-ORD-2",
        ) from exc


def _allocate(*, partner: Partner, client: ClientAccount, offer: Offer, lines: list[_Line]) -> None:
    """Stock for every line, a constant number of queries (``inventory.services``): given SIMs, then SIMs with
    and without PIN, eSIM profiles (R-OPT-2), then numbers — chosen first, the rest drawn at random (R-CON-6)."""
    given = [line for line in lines if line.spec.iccid and line.sim_type != SimType.ESIM]
    if given:
        sims = inventory.sim_mark_in_use(
            partner=partner, iccids=[line.spec.iccid for line in given], client=client
        )
        for line, sim in zip(given, sims, strict=True):
            if sim.network != offer.network or (sim.pin is not None) != (line.sim_type == SimType.WITH_PIN):
                raise RuleViolation(
                    _("%(line)s : la SIM %(iccid)s n'est pas une SIM %(network)s %(pin)s.")
                    % {
                        "line": line.label,
                        "iccid": sim.iccid,
                        "network": Network(offer.network).label,
                        "pin": SimType(line.sim_type).label.lower(),
                    },
                    field=line.field("iccid"),
                    rule="R-ORD-2",
                )
            line.sim = sim
    for sim_type in (SimType.WITH_PIN, SimType.WITHOUT_PIN):
        group = [line for line in lines if line.sim_type == sim_type and line.sim is None]
        if group:
            sims = inventory.sim_allocate(
                partner=partner,
                network=offer.network,
                client=client,
                count=len(group),
                with_pin=sim_type == SimType.WITH_PIN,
            )
            for line, sim in zip(group, sims, strict=True):
                line.sim = sim
    esim_lines = [line for line in lines if line.sim_type == SimType.ESIM]
    if esim_lines:
        for line, profile in zip(
            esim_lines,
            inventory.esim_allocate(partner=partner, count=len(esim_lines), client=client),
            strict=True,
        ):
            line.esim = profile
    if offer.network == Network.ORANGE and offer.range in OPERATOR_NUMBERED_RANGES:
        return  # R-CAT-5/6: Orange gives the 14-digit number after the order
    need = [line for line in lines if not line.ported_number]
    if not need:
        return
    chosen_lines = [line for line in need if line.msisdn]
    drawn_lines = [line for line in need if not line.msisdn]
    numbers = inventory.number_allocate(
        partner=partner,
        network=offer.network,
        count=len(need),
        chosen=[line.msisdn for line in chosen_lines],
        client=client,
    )
    for line, number in zip(chosen_lines + drawn_lines, numbers, strict=True):
        line.number = number
        line.msisdn = number.msisdn
        if line.sim_type == SimType.ESIM and line.contact_mobile == number.msisdn:
            raise RuleViolation(  # R-ORD-3, for a number drawn at random
                _("%(line)s : eSIM — le mobile du contact doit être un autre numéro que celui de la ligne.")
                % {"line": line.label},
                field=line.field("contact_mobile"),
                rule="R-ORD-3",
            )


def _request_kind(line: _Line) -> str:
    if line.ported_number:
        return RequestKind.PORT_IN
    if line.sim_type == SimType.ESIM:
        return RequestKind.CREATE_LINE_ESIM
    return RequestKind.CREATE_LINE


@transaction.atomic
def order_place(
    *,
    partner: Partner,
    client: ClientAccount,
    created_by: User | None,
    offer: Offer,
    quantity: int,
    lines: Iterable[LineSpec] = (),
    configuration: str = Order.Configuration.UNIT,
    sim_type: str = SimType.WITH_PIN,
    five_g: bool = False,
    allow_sva: bool = True,
    option_codes: Sequence[str] = (),
    roaming: dict[str, str] | None = None,
    activation_date: dt.date | None = None,
    source: str = Order.Source.BACKOFFICE,
) -> Order:
    """Place an order (R-ORD-1..3) and return it.

    Refusals raise ``RuleViolation`` naming the field (``lines[3].rio``…) and the rule, in French, and leave
    nothing behind (one transaction). Accepted: the order with its number, one contract per line in state
    "En cours" with its number, options, one-off fees (eSIM FAS, R-OPT-2), allocated stock, one pending
    operator request and its history — written with batch inserts (constant number of queries)."""
    now = timezone.now()
    today = timezone.localdate(now)
    activation_date = activation_date or today
    specs = list(lines)
    _check_header(
        partner=partner,
        client=client,
        offer=offer,
        quantity=quantity,
        configuration=configuration,
        sim_type=sim_type,
        activation_date=activation_date,
        today=today,
    )
    if specs and len(specs) != quantity:
        raise RuleViolation(
            _("%(n)d ligne(s) décrite(s) pour une quantité de %(quantity)d.")
            % {"n": len(specs), "quantity": quantity},
            field="lines",
            rule="R-ORD-2",
        )
    specs = specs or [LineSpec() for _i in range(quantity)]
    options, option_lines, esim_option = _catalog_options(
        partner=partner, offer=offer, option_codes=option_codes, five_g=five_g, allow_sva=allow_sva
    )
    chosen_roaming, roaming_lines = _roaming(offer=offer, roaming=roaming or {})
    site_ids = {s.site_id for s in specs if s.site_id is not None}
    sites = {s.pk: s for s in Site.objects.filter(client=client, pk__in=site_ids)} if site_ids else {}
    checked = _check_lines(specs=specs, offer=offer, sim_type=sim_type, sites=sites)
    _check_numbers_free(partner=partner, offer=offer, lines=checked)
    _allocate(partner=partner, client=client, offer=offer, lines=checked)

    # Everything is checked and allocated: numbers, then batch writes.
    year = now.astimezone(PARIS).year
    order_n = _reserve_sequence("CMD", year, 1)
    first_contract_n = _reserve_sequence("CTR", year, len(checked))
    sim_types = {line.sim_type for line in checked}
    order = Order.objects.create(
        partner=partner,
        client=client,
        number=_format_number("CMD", year, order_n),
        offer=offer,
        network=offer.network,
        quantity=quantity,
        configuration=configuration,
        sim_type=sim_types.pop() if len(sim_types) == 1 else sim_type,
        five_g=five_g,
        allow_sva=allow_sva,
        roaming=chosen_roaming,
        activation_date=activation_date,
        source=source,
        created_by=created_by,
    )
    if options:
        Order.options.through.objects.bulk_create(
            [Order.options.through(order_id=order.pk, option_id=o.pk) for o in options]
        )
    contracts = _insert_contracts(
        checked,
        [
            Contract(
                partner=partner,
                client=client,
                order=order,
                number=_format_number("CTR", year, first_contract_n + line.index),
                offer=offer,
                network=offer.network,
                state=Contract.State.PENDING,
                user_name=(line.spec.user_name or "").strip(),
                contact_email=(line.spec.contact_email or "").strip(),
                contact_mobile=line.contact_mobile,
                msisdn=line.msisdn or None,
                phone_number=line.number,
                sim_type=line.sim_type,
                sim=line.sim,
                esim=line.esim,
                five_g=five_g or offer.five_g_included,
                allow_sva=allow_sva,
                portability=bool(line.ported_number),
                ported_number=line.ported_number,
                rio=line.rio,
                activation_date=activation_date,
                site=line.site,
                state_changed_at=now,
                created_at=now,
            )
            for line in checked
        ],
    )
    contract_options: list[ContractOption] = []
    fees: list[OneOffFee] = []
    events: list[ContractEvent] = []
    requests: list[OperatorRequest] = []
    esim_fas = (esim_option.fas_ht if esim_option and esim_option.fas_ht is not None else None) or ESIM_FAS_HT
    not_before = (
        dt.datetime.combine(activation_date, dt.time.min, tzinfo=PARIS) if activation_date > today else None
    )
    base_codes = [o.code for o in options]
    actor_label = created_by.get_username() if created_by else ""
    for line, contract in zip(checked, contracts, strict=True):
        per_line = list(option_lines) + list(roaming_lines)
        if line.sim_type == SimType.ESIM:
            per_line.append(
                _OptionLine(
                    code=catalog_rules.ESIM,
                    label=esim_option.label if esim_option else "eSIM Orange",
                    option=esim_option,
                    monthly_fee_ht=esim_option.monthly_price_ht if esim_option else Decimal("0"),
                    fas_ht=esim_fas,
                )
            )
            fees.append(
                OneOffFee(
                    partner=partner,
                    contract=contract,
                    kind=OneOffFee.Kind.ESIM,
                    label=_("FAS eSIM"),
                    amount_ht=esim_fas,
                    rule="R-OPT-2",
                    created_at=now,
                )
            )
        for item in per_line:
            contract_options.append(
                ContractOption(
                    partner=partner,
                    contract=contract,
                    option=item.option,
                    roaming_choice=item.roaming_choice,
                    code=item.code,
                    label=item.label,
                    zone=item.zone,
                    monthly_fee_ht=item.monthly_fee_ht,
                    fas_ht=item.fas_ht,
                    created_at=now,
                )
            )
            if item.option is not None and item.option.fas_ht and item.code != catalog_rules.ESIM:
                fees.append(
                    OneOffFee(
                        partner=partner,
                        contract=contract,
                        kind=OneOffFee.Kind.OPTION,
                        label=_("FAS %(option)s") % {"option": item.label},
                        amount_ht=item.option.fas_ht,
                        created_at=now,
                    )
                )
        sim_iccid = (
            line.sim.iccid if line.sim is not None else (line.esim.iccid if line.esim is not None else "")
        )
        kind = _request_kind(line)
        payload = {
            "contract_number": contract.number,
            "order_number": order.number,
            "network": offer.network,
            "offer_code": offer.code,
            "range": offer.range,
            "blocked": offer.blocked,
            "data_bytes": offer.data_bytes,
            "esim": line.sim_type == SimType.ESIM,
            "sim_type": line.sim_type,
            "iccid": sim_iccid,
            "msisdn": line.msisdn or None,
            "options": [*base_codes, *(o.code for o in option_lines if o.code not in base_codes)],
            "roaming": chosen_roaming,
            "five_g": bool(five_g or offer.five_g_included),
            "allow_sva": allow_sva,
            "user_name": contract.user_name,
            "activation_date": activation_date.isoformat(),
            "ordered_at": now.isoformat(),
        }
        if line.esim is not None:
            payload["matching_id"] = line.esim.matching_id
            payload["contact_email"] = contract.contact_email
            payload["contact_mobile"] = contract.contact_mobile
        if line.ported_number:
            payload["rio"] = line.rio
        requests.append(
            OperatorRequest(
                partner=partner,
                contract=contract,
                network=offer.network,
                kind=kind,
                payload=payload,
                not_before=not_before,
                created_at=now,
            )
        )
        events.append(
            ContractEvent(
                partner=partner,
                contract=contract,
                kind=ContractEvent.Kind.CREATED,
                to_state=Contract.State.PENDING,
                actor=created_by,
                actor_label=actor_label,
                message=_("Ligne commandée (commande %(order)s, %(offer)s).")
                % {"order": order.number, "offer": offer.label},
                data={
                    "order": order.number,
                    "offer": offer.code,
                    "sim_type": line.sim_type,
                    "iccid": sim_iccid,
                    "msisdn": line.msisdn or None,
                    "portability": bool(line.ported_number),
                },
                created_at=now,
            )
        )
        events.append(
            ContractEvent(
                partner=partner,
                contract=contract,
                kind=ContractEvent.Kind.OPERATOR_REQUEST,
                actor=created_by,
                actor_label=actor_label,
                message=_("Demande opérateur enregistrée : %(kind)s%(when)s.")
                % {
                    "kind": RequestKind(kind).label,
                    "when": _(", pas avant le %(date)s") % {"date": activation_date.strftime("%d/%m/%Y")}
                    if not_before
                    else "",
                },
                data={"kind": kind},
                created_at=now,
            )
        )
    ContractOption.objects.bulk_create(contract_options)
    if fees:
        OneOffFee.objects.bulk_create(fees)
    OperatorRequest.objects.bulk_create(requests)
    ContractEvent.objects.bulk_create(events)
    transaction.on_commit(wake_dispatcher)
    return order


# --------------------------------------------------------------------------------------------------------
# Idempotency keys of the API (api/idempotency.py)
# --------------------------------------------------------------------------------------------------------


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Forget the API idempotency keys older than ``settings.IDEMPOTENCY_KEY_TTL_DAYS`` (their first response is
    no longer replayed after that; a client retrying that late gets a new order). Returns how many went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.IDEMPOTENCY_KEY_TTL_DAYS)
    deleted, _per_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
