"""Reads of the contract domain, always scoped to the partner who looks (STYLE 2, 16): another partner's order or
contract is the same 404 as a missing one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from catalog import rules as catalog_rules
from catalog.selectors import offer_list
from core.clock import month_start
from inventory.models import SimCard
from inventory.rules import normalize_iccid
from partners.models import ClientAccount, Partner

from . import rules
from .models import (
    Contract,
    ContractEvent,
    ContractOption,
    ContractTopup,
    DataBlock,
    OneOffFee,
    OperatorRequest,
    Order,
)

# --- orders ------------------------------------------------------------------------------------------------


def order_list(
    partner: Partner, *, client: ClientAccount | int | None = None, search: str = ""
) -> QuerySet[Order]:
    qs = (
        Order.objects.filter(partner=partner)
        .select_related("client", "offer", "created_by")
        .annotate(line_count=Count("contracts"))
    )
    if client:
        qs = qs.filter(client=client)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(number__icontains=search) | Q(client__company_name__icontains=search))
    return qs.order_by("-created_at", "-id")


def order_get_for_partner_or_404(partner: Partner, order_id) -> Order:
    try:
        return Order.objects.select_related("client", "offer", "created_by").get(partner=partner, pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404("commande") from None


def order_contracts(partner: Partner, order: Order) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(partner=partner, order=order)
        .select_related("sim", "esim", "offer")
        .order_by("number")
    )


# --- contracts ---------------------------------------------------------------------------------------------


def contract_list(
    partner: Partner,
    *,
    state: str = "",
    client: ClientAccount | int | None = None,
    offer: str = "",
    number: str = "",
    sim: str = "",
    order: Order | int | None = None,
    network: str = "",
) -> QuerySet[Contract]:
    """The partner's contracts, filtered. ``state`` is an internal state or ``user:<state>`` for the four
    groups of R-CON-8 ("En cours" also covers failed and terminating lines); ``offer`` is an offer code;
    ``number`` matches the line number (or the contract number); ``sim`` the start of the ICCID."""
    qs = Contract.objects.filter(partner=partner).select_related("client", "offer", "sim", "esim", "order")
    if state:
        if state.startswith("user:"):
            group = state.removeprefix("user:")
            qs = qs.filter(state__in=[s for s, g in Contract.USER_STATE.items() if g == group])
        else:
            qs = qs.filter(state=state)
    if client:
        qs = qs.filter(client=client)
    if offer:
        qs = qs.filter(offer__code=offer)
    if network:
        qs = qs.filter(network=network)
    if order:
        qs = qs.filter(order=order)
    number = (number or "").strip()
    if number:
        national = rules.msisdn_from_any(number)
        qs = qs.filter(
            Q(msisdn__startswith=national)
            | Q(number__icontains=number)
            | Q(ported_number__startswith=national)
            | Q(user_name__icontains=number)
        )
    sim = normalize_iccid(sim)
    if sim:
        qs = qs.filter(Q(sim__iccid__startswith=sim) | Q(esim__iccid__startswith=sim))
    return qs.order_by("-created_at", "-id")


def contract_get_for_partner_or_404(partner: Partner, contract_id) -> Contract:
    try:
        return Contract.objects.select_related(
            "client", "offer", "order", "sim", "esim", "phone_number", "site", "partner"
        ).get(partner=partner, pk=contract_id)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404("contrat") from None


def client_contracts(client: ClientAccount) -> QuerySet[Contract]:
    """The lines of one client account (self-care: the client looking sees its own fleet only, STYLE 15/16).
    Scoped by both the client's partner and the client."""
    return Contract.objects.filter(partner_id=client.partner_id, client=client).select_related(
        "offer", "sim", "esim", "site", "order"
    )


def contract_get_for_client_or_404(client: ClientAccount, contract_id) -> Contract:
    """One line of a client account (self-care); the same 404 for a missing line, another client's line (of
    the same partner or not) and a malformed id."""
    try:
        return Contract.objects.select_related(
            "client", "offer", "order", "sim", "esim", "phone_number", "site", "partner"
        ).get(partner_id=client.partner_id, client=client, pk=contract_id)
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404("contrat") from None


def contract_option_get_or_404(partner: Partner, contract: Contract, option_id) -> ContractOption:
    """One option of a contract the partner owns; the same 404 for a missing and a foreign one."""
    try:
        return ContractOption.objects.get(partner=partner, contract=contract, pk=option_id)
    except (ContractOption.DoesNotExist, ValueError, TypeError):
        raise Http404("option") from None


def contract_state_counts(partner: Partner, *, client: ClientAccount | None = None) -> dict[str, int]:
    """R-CON-8 / R-SC-4 counters: lines per displayed state (En cours, Actif, Suspendu, Résilié)."""
    qs = Contract.objects.filter(partner=partner)
    if client is not None:
        qs = qs.filter(client=client)
    counts = dict.fromkeys(
        (Contract.State.PENDING, Contract.State.ACTIVE, Contract.State.SUSPENDED, Contract.State.TERMINATED),
        0,
    )
    for row in qs.values("state").annotate(n=Count("id")):
        counts[Contract.USER_STATE[row["state"]]] += row["n"]
    return counts


def contract_options(partner: Partner, contract: Contract) -> QuerySet[ContractOption]:
    return ContractOption.objects.filter(partner=partner, contract=contract).order_by("created_at", "id")


def contract_fees(partner: Partner, contract: Contract) -> QuerySet[OneOffFee]:
    return OneOffFee.objects.filter(partner=partner, contract=contract).order_by("created_at", "id")


def contract_events(partner: Partner, contract: Contract) -> QuerySet[ContractEvent]:
    return (
        ContractEvent.objects.filter(partner=partner, contract=contract)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def contract_operator_requests(partner: Partner, contract: Contract) -> QuerySet[OperatorRequest]:
    return OperatorRequest.objects.filter(partner=partner, contract=contract).order_by("-created_at", "-id")


def contract_option_codes(contract: Contract, *, live_only: bool = True) -> set[str]:
    qs = ContractOption.objects.filter(contract=contract)
    if live_only:
        qs = qs.exclude(status=ContractOption.Status.TERMINATED)
    return set(qs.values_list("code", flat=True))


def contract_technical_settings(contract: Contract) -> list[rules.SettingsSection]:
    """R-SET-1..4 for this line, from its network, options and dates."""
    codes = contract_option_codes(contract)
    delivered = timezone.localdate(contract.delivered_at) if contract.delivered_at else None
    return rules.technical_settings(
        network=contract.network,
        msisdn=contract.msisdn,
        has_fixed_ip=catalog_rules.FIXED_IP in codes,
        has_partner_platform=catalog_rules.PARTNER_PLATFORM in codes,
        partner_is_init_sys=contract.partner.is_init_sys,
        is_esim=contract.is_esim,
        sim_received_on=timezone.localdate(contract.sim.created_at) if contract.sim_id else None,
        esim_activated_on=delivered if contract.is_esim else None,
        line_activated_on=delivered,
        today=timezone.localdate(),
    )


def contract_possible_actions(contract: Contract) -> list[rules.PossibleAction]:
    """R-CON-9 for this line: the facts the pure rule needs, read from the catalog and the stock."""
    targets = [
        catalog_rules.offer_change(contract.offer, o)
        for o in offer_list(network=contract.network).exclude(pk=contract.offer_id)
    ]
    has_sim_stock = (
        SimCard.objects.filter(partner_id=contract.partner_id, network=contract.network)
        .filter(
            Q(state=SimCard.State.IN_STOCK) | Q(state=SimCard.State.ASSIGNED, client_id=contract.client_id)
        )
        .exists()
    )
    open_kinds = set(
        OperatorRequest.objects.filter(contract=contract, state__in=OperatorRequest.OPEN_STATES).values_list(
            "kind", flat=True
        )
    )
    pending_change = OperatorRequest.Kind.CHANGE_OFFER in open_kinds
    if not pending_change:  # a scheduled offer change waiting for the 1st of next month (R-CON-1/2)
        from .lifecycle import pending_offer_change

        pending_change = pending_offer_change(contract) is not None
    from .topups import topup_refusal  # R-CAT-10/6/7: which top-ups the offer takes now

    refusal = (
        topup_refusal(contract)
        if contract.state in (Contract.State.ACTIVE, Contract.State.SUSPENDED)
        else None
    )
    return rules.possible_actions(
        state=contract.state,
        topup_reason=refusal.reason if refusal is not None else "",
        topup_rule=refusal.rule if refusal is not None else "R-CAT-10",
        network=contract.network,
        has_other_envelopes=any(t.allowed and t.kind in ("upgrade", "downgrade") for t in targets),
        has_migration_target=any(t.allowed and t.kind == "migration" for t in targets),
        is_counter_offer=contract.offer.range in catalog_rules.COMPTEUR_RANGES,
        has_scheduled_change=pending_change,
        has_sim_stock=has_sim_stock,
        open_kinds=frozenset(open_kinds),
    )


def contracts_with_options(qs: QuerySet[Contract]) -> QuerySet[Contract]:
    return qs.prefetch_related(
        Prefetch("options", queryset=ContractOption.objects.order_by("created_at", "id"))
    )


# --- top-ups and data blocks (issue 7: R-CAT-10, R-PRV-5, R-ALR-1..5, R-CAT-7/8/11) ---------------------------


def contract_topups(partner: Partner, contract: Contract) -> QuerySet[ContractTopup]:
    """The line's top-ups, newest first (Options tab, ``GET /api/v1/contracts/{id}/topups``)."""
    return (
        ContractTopup.objects.filter(partner=partner, contract=contract)
        .select_related("requested_by", "operator_request")
        .order_by("-requested_at", "-id")
    )


def contract_data_blocks(
    partner: Partner, contract: Contract, *, open_only: bool = True
) -> QuerySet[DataBlock]:
    """The line's data blocks and SMS bars (open ones by default), oldest first (Informations tab)."""
    qs = DataBlock.objects.filter(partner=partner, contract=contract)
    if open_only:
        qs = qs.filter(lifted_at__isnull=True)
    return qs.order_by("blocked_at", "id")


def topup_volume_for_month(contract_ids: Iterable[int], month: dt.date) -> dict[int, int]:
    """For ``usage`` (the month's envelope): the confirmed top-up volume (bytes) per contract for the Europe/Paris
    month of ``month`` — a top-up counts for the month it was confirmed in (R-PRV-5: up to 30 minutes after the
    order). Contracts with none are absent. One query. Not scoped to a partner: the caller passes contract ids it
    already holds (a system read, like the rating)."""
    rows = (
        ContractTopup.objects.filter(
            contract_id__in=list(contract_ids), month=month_start(month), state=ContractTopup.State.CONFIRMED
        )
        .order_by()
        .values("contract_id")
        .annotate(total=Sum("volume_bytes"))
    )
    return {row["contract_id"]: int(row["total"]) for row in rows}
