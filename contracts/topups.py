"""Data top-ups ("recharges") of a line (issue 7): R-CAT-10 (Illimité and Data only volumes; Bouygues non-blocked
plans only their own volume), R-CAT-6 (M2M volumes), R-CAT-7 (compteur lines once their data threshold is reached),
R-CAT-4 (no top-up for the USA/Canada zone of a Travel plan), R-PRV-5 (up to 30 minutes to show; ordering again
in that time bills twice).

``contract_topup`` writes the ``ContractTopup`` (pending, price copied from the catalog: empty = « à définir »)
and the ``topup`` operator request in one transaction. When the operator confirms, the top-up is confirmed and
counts for the Europe/Paris month of the confirmation (``month``, read by ``usage`` through
``contracts.selectors.topup_volume_for_month``: it adds to the France + Europe envelope, never to a roaming
zone); the line's open ``data`` and ``threshold`` blocks are lifted (``contracts.datablocks``). A final failure
marks it failed with the operator's message; a termination cancels a top-up not sent yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog import rules as catalog_rules
from catalog.models import Topup
from core.clock import month_start
from core.errors import RuleViolation
from core.money import format_bytes
from core.operator_kinds import RequestKind
from partners.models import User

from . import datablocks
from .lifecycle import OPERATOR, _lock, _request, _require_live
from .models import Contract, ContractEvent, ContractTopup, DataBlock, OperatorRequest
from .services import contract_event_record

TState = ContractTopup.State
#: R-PRV-5: a top-up may take up to 30 minutes to show on the line; ordering again meanwhile bills it twice.
REPEAT_WINDOW = dt.timedelta(minutes=30)
REPEAT_MESSAGE = gettext_noop(
    "Une recharge a été commandée il y a moins de 30 minutes : elle peut mettre jusqu'à 30 minutes à "
    "apparaître. La commander à nouveau la facturera deux fois. Confirmez pour la commander quand même."
)


@dataclass(frozen=True)
class TopupChoice:
    """A volume the line may buy now, with the catalog's row and price (``None`` = « à définir »)."""

    volume_bytes: int
    topup: Topup
    price_ht: Decimal | None

    @property
    def label(self) -> str:
        return format_bytes(self.volume_bytes)


def format_price(price: Decimal | None) -> str:
    """« 7,00 € HT » or « prix à définir » (a price the seed does not give is never invented)."""
    if price is None:
        return _("prix à définir")
    return _("%(price)s € HT") % {"price": f"{price:.2f}".replace(".", ",")}


def threshold_reached(contract: Contract) -> bool:
    """R-CAT-7: the line's data threshold is reached — ``usage`` blocked it (an open ``threshold`` block)."""
    return DataBlock.objects.filter(
        contract=contract, scope=DataBlock.Scope.THRESHOLD, lifted_at__isnull=True
    ).exists()


def _reached(contract: Contract) -> bool:
    return contract.offer.range in catalog_rules.COMPTEUR_RANGES and threshold_reached(contract)


def topup_choices(contract: Contract) -> list[TopupChoice]:
    """The top-ups the line may buy now (eligibility of ``catalog.rules.topup_eligibility``), each with its active
    catalog row and price, ascending. Empty for a line whose offer has none (or a compteur line below its
    threshold). Two queries at most."""
    family = catalog_rules.topup_catalog_family(contract.offer.range)
    volumes = catalog_rules.allowed_topups(contract.offer, threshold_reached=_reached(contract))
    if family is None or not volumes:
        return []
    rows = {
        t.data_bytes: t
        for t in Topup.objects.filter(
            network=contract.network, family=family, active=True, data_bytes__in=volumes
        )
    }
    return [TopupChoice(v, rows[v], rows[v].price_ht) for v in volumes if v in rows]


def topup_refusal(contract: Contract) -> catalog_rules.Decision | None:
    """Why the line's offer takes no top-up now (``None``: it takes some), for the greyed action (R-CON-9)."""
    if topup_choices(contract):
        return None
    offer = contract.offer
    volumes = (
        catalog_rules.COMPTEUR_TOPUP_VOLUMES
        if offer.range in catalog_rules.COMPTEUR_RANGES
        else catalog_rules.TOPUP_VOLUMES.get(catalog_rules.topup_family(offer.range) or "", (0,))
    )
    decision = catalog_rules.topup_eligibility(offer, volumes[0], threshold_reached=_reached(contract))
    if decision.allowed:  # the volumes exist but not in the catalog (deactivated by an administrator)
        return catalog_rules.Decision(
            False, _("Aucune recharge active au catalogue pour cette offre."), "R-CAT-10"
        )
    return decision


@transaction.atomic
def contract_topup(
    *,
    contract: Contract,
    volume_bytes: int,
    actor: User | None = None,
    source: str,
    confirm_repeat: bool = False,
    request_key: str | None = None,
) -> ContractTopup:
    """Order a data top-up of ``volume_bytes`` on an active line (R-CAT-10, R-CAT-6, R-CAT-7, R-CAT-4).

    - the line must be Actif (a suspended line is refused: reactivate it first);
    - the volume must be allowed on the offer (``catalog.rules.topup_eligibility``; a compteur line only once
      its data threshold is reached, R-CAT-7) and exist in the catalog (its price is copied: empty = « à
      définir »);
    - R-PRV-5: a second top-up within 30 minutes of a previous one (pending or confirmed) is refused (field
      ``confirm_repeat``) unless ``confirm_repeat`` — it would be billed twice;
    - ``request_key`` (a page's hidden key, STYLE 33): the same key twice returns the first top-up, no second one.

    Writes the ``topup`` operator request (payload ``volume_bytes``) and a history line."""
    if source not in ContractTopup.Source.values:
        raise ValueError(f"unknown top-up source {source!r}")
    request_key = (request_key or "").strip()[:64] or None
    locked = _lock(contract)
    if request_key is not None:  # after the lock: a concurrent double submit waits, then finds the first
        existing = ContractTopup.objects.filter(partner_id=locked.partner_id, request_key=request_key).first()
        if existing is not None:
            return existing
    if locked.state == Contract.State.SUSPENDED:
        raise RuleViolation(
            _("La ligne est suspendue : réactivez-la avant de commander une recharge."),
            field="state",
            rule="R-CON-5",
        )
    _require_live(locked, rule="R-CAT-10")
    if isinstance(volume_bytes, bool) or not isinstance(volume_bytes, int) or volume_bytes <= 0:
        raise RuleViolation(_("Choisissez un volume de recharge."), field="volume_bytes", rule="R-CAT-10")
    offer = locked.offer
    decision = catalog_rules.topup_eligibility(offer, volume_bytes, threshold_reached=_reached(locked))
    if not decision.allowed:
        raise RuleViolation(
            _("Recharge de %(volume)s : %(reason)s")
            % {"volume": format_bytes(volume_bytes), "reason": decision.reason},
            field="volume_bytes",
            rule=decision.rule,
        )
    row = Topup.objects.filter(
        network=locked.network,
        family=catalog_rules.topup_catalog_family(offer.range),
        data_bytes=volume_bytes,
        active=True,
    ).first()
    if row is None:
        raise RuleViolation(
            _("La recharge de %(volume)s n'est pas au catalogue.") % {"volume": format_bytes(volume_bytes)},
            field="volume_bytes",
            rule=decision.rule,
        )
    now = timezone.now()
    recent = ContractTopup.objects.filter(
        contract=locked, state__in=(TState.PENDING, TState.CONFIRMED), requested_at__gt=now - REPEAT_WINDOW
    ).exists()
    if recent and not confirm_repeat:
        raise RuleViolation(_(REPEAT_MESSAGE), field="confirm_repeat", rule="R-PRV-5")
    try:
        with transaction.atomic():
            topup = ContractTopup.objects.create(
                partner_id=locked.partner_id,
                contract=locked,
                topup=row,
                volume_bytes=volume_bytes,
                price_ht=row.price_ht,
                state=TState.PENDING,
                source=source,
                requested_by=actor,
                requested_at=now,
                request_key=request_key,
            )
    except IntegrityError:  # the same key on another line of the partner, committed meanwhile
        existing = ContractTopup.objects.filter(partner_id=locked.partner_id, request_key=request_key).first()
        if existing is None:
            raise
        return existing
    message = _(
        "Recharge de %(volume)s commandée (%(price)s) : elle peut mettre jusqu'à 30 minutes à apparaître."
    ) % {
        "volume": format_bytes(volume_bytes),
        "price": format_price(row.price_ht),
    }
    if recent:
        message += " " + _(
            "Commandée à nouveau moins de 30 minutes après la précédente, confirmé par l'utilisateur."
        )
    topup.operator_request = _request(
        locked,
        RequestKind.TOPUP,
        payload={"volume_bytes": volume_bytes, "contract_topup_id": topup.pk},
        actor=actor,
        message=message,
    )
    topup.save(update_fields=["operator_request"])
    return topup


# --------------------------------------------------------------------------------------------------------
# Operator outcomes (registered in ``contracts.outcomes``)
# --------------------------------------------------------------------------------------------------------


def _topup_of(request: OperatorRequest, contract: Contract) -> ContractTopup | None:
    pk = (request.payload or {}).get("contract_topup_id")
    if pk is None:
        return None
    return ContractTopup.objects.select_for_update().filter(pk=pk, contract=contract).first()


def _apply_topup_confirmed(request: OperatorRequest, contract: Contract, result: dict[str, Any]) -> None:
    """The operator added the volume: the top-up is confirmed and counts for this Europe/Paris month; the
    line's open data and threshold blocks are lifted (R-CAT-10, R-CAT-7)."""
    topup = _topup_of(request, contract)
    if topup is None or TState.CONFIRMED not in ContractTopup.TRANSITIONS[topup.state]:
        return  # confirmed already (double delivery) or cancelled
    now = timezone.now()
    month = month_start(now)
    topup.state, topup.confirmed_at, topup.month, topup.last_error = TState.CONFIRMED, now, month, ""
    topup.save(update_fields=["state", "confirmed_at", "month", "last_error"])
    volume = format_bytes(topup.volume_bytes)
    contract_event_record(
        contract=contract,
        kind=ContractEvent.Kind.OPERATOR_RESPONSE,
        actor_label=_(OPERATOR),
        message=_("Recharge de %(volume)s confirmée par l'opérateur : elle compte pour le mois %(month)s.")
        % {"volume": volume, "month": month.strftime("%m/%Y")},
        data={"operator_request": request.pk, "contract_topup": topup.pk, "rule": "R-CAT-10"},
    )
    reason = _("Recharge de %(volume)s confirmée") % {"volume": volume}
    for scope in (DataBlock.Scope.DATA, DataBlock.Scope.THRESHOLD):
        datablocks.contract_data_unblock(contract=contract, scope=scope, rule="R-CAT-10", reason=reason)


def _fail_topup(request: OperatorRequest, contract: Contract, error: str) -> None:
    topup = _topup_of(request, contract)
    if topup is not None and topup.state == TState.PENDING:
        topup.state, topup.last_error = TState.FAILED, error
        topup.save(update_fields=["state", "last_error"])
    Contract.objects.filter(pk=contract.pk).update(last_error=error, updated_at=timezone.now())


def _cancel_topup(request: OperatorRequest, contract: Contract) -> None:
    """A top-up not sent yet is cancelled with its request (the line is being terminated)."""
    topup = _topup_of(request, contract)
    if topup is not None and topup.state == TState.PENDING:
        topup.state = TState.CANCELLED
        topup.save(update_fields=["state"])


APPLIERS: dict[str, Callable[[OperatorRequest, Contract, dict[str, Any]], None]] = {
    RequestKind.TOPUP: _apply_topup_confirmed
}
FAILURE_APPLIERS: dict[str, Callable[[OperatorRequest, Contract, str], None]] = {
    RequestKind.TOPUP: _fail_topup
}
UNDO: dict[str, Callable[[OperatorRequest, Contract], None]] = {RequestKind.TOPUP: _cancel_topup}
