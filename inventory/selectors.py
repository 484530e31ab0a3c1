"""Reads of the inventory, always scoped to the partner who looks (STYLE 2, 16)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from partners.models import ClientAccount, Partner

from . import rules
from .models import EsimProfile, PhoneNumber, SimCard


def sim_list(
    partner: Partner,
    *,
    state: str = "",
    network: str = "",
    client: ClientAccount | int | None = None,
    search: str = "",
    with_pin: bool | None = None,
) -> QuerySet[SimCard]:
    """The partner's SIM cards, filtered; ``search`` matches the start of the ICCID (spaces/``F`` ignored)."""
    qs = SimCard.objects.filter(partner=partner).select_related("client")
    if state:
        qs = qs.filter(state=state)
    if network:
        qs = qs.filter(network=network)
    if client:
        qs = qs.filter(client=client)
    if with_pin is not None:
        qs = qs.filter(pin__isnull=not with_pin)
    search = rules.normalize_iccid(search)
    if search:
        qs = qs.filter(iccid__startswith=search)
    return qs.order_by("iccid")


def sim_get_for_partner_or_404(partner: Partner, iccid: str) -> SimCard:
    try:
        return SimCard.objects.select_related("client").get(
            partner=partner, iccid=rules.normalize_iccid(iccid)
        )
    except SimCard.DoesNotExist:
        raise Http404("sim") from None


def sims_assigned_to_client(
    partner: Partner, client: ClientAccount, *, network: str = ""
) -> QuerySet[SimCard]:
    """SIMs a client may use for a SIM swap: those the partner assigned to it (R-SC-6, R-SC-7)."""
    return sim_list(partner, state=SimCard.State.ASSIGNED, client=client, network=network)


def sims_swappable(
    partner: Partner, *, client: ClientAccount, network: str, limit: int = 50
) -> list[SimCard]:
    """SIMs a SIM swap of this client's line may use (R-ORD-5): the client's assigned ones first, then the
    partner's stock, on the line's network."""
    return list(
        SimCard.objects.filter(partner=partner, network=network)
        .filter(Q(state=SimCard.State.IN_STOCK) | Q(state=SimCard.State.ASSIGNED, client=client))
        .order_by("-client_id", "iccid")[:limit]
    )


def esim_list(
    partner: Partner, *, state: str = "", client: ClientAccount | int | None = None, search: str = ""
) -> QuerySet[EsimProfile]:
    qs = EsimProfile.objects.filter(partner=partner).select_related("client")
    if state:
        qs = qs.filter(state=state)
    if client:
        qs = qs.filter(client=client)
    search = rules.normalize_iccid(search)
    if search:
        qs = qs.filter(iccid__startswith=search)
    return qs.order_by("-created_at", "-id")


def number_list(
    partner: Partner,
    *,
    state: str = "",
    network: str = "",
    kind: str = "",
    client: ClientAccount | int | None = None,
    search: str = "",
) -> QuerySet[PhoneNumber]:
    """The partner's numbers, filtered; ``search`` matches the start of the national number."""
    qs = PhoneNumber.objects.filter(partner=partner).select_related("client")
    if state:
        qs = qs.filter(state=state)
    if network:
        qs = qs.filter(network=network)
    if kind:
        qs = qs.filter(kind=kind)
    if client:
        qs = qs.filter(client=client)
    search = rules.normalize_msisdn(search)
    if search:
        qs = qs.filter(msisdn__startswith=search)
    return qs.order_by("msisdn")


def numbers_available(
    partner: Partner, *, network: str, kind: str = PhoneNumber.Kind.MOBILE
) -> QuerySet[PhoneNumber]:
    """Numbers the partner may choose at order (R-ORD-2: Bouygues numbers chosen from the pool)."""
    return number_list(partner, state=PhoneNumber.State.AVAILABLE, network=network, kind=kind)


def numbers_unavailable(partner: Partner, *, network: str, msisdns: Sequence[str]) -> list[str]:
    """Which of ``msisdns`` (any input form) cannot be chosen now from the partner's pool of ``network``.

    A hint for forms (per-line errors before placing the order); ``number_allocate`` re-checks under lock."""
    wanted = [rules.normalize_msisdn(m) for m in msisdns]
    free = set(
        PhoneNumber.objects.filter(
            partner=partner, network=network, msisdn__in=wanted, state=PhoneNumber.State.AVAILABLE
        ).values_list("msisdn", flat=True)
    )
    return [m for m in wanted if m not in free]


def stock_summary(partner: Partner) -> dict[str, dict[tuple[str, str], int]]:
    """Counts per (network, state) for SIMs and numbers, and per state for eSIMs (dashboard tiles)."""
    sims = SimCard.objects.filter(partner=partner).values_list("network", "state").annotate(n=Count("id"))
    numbers = (
        PhoneNumber.objects.filter(partner=partner).values_list("network", "state").annotate(n=Count("id"))
    )
    esims = (
        EsimProfile.objects.filter(partner=partner).values_list("network", "state").annotate(n=Count("id"))
    )
    return {
        "sims": {(net, st): n for net, st, n in sims.order_by()},
        "numbers": {(net, st): n for net, st, n in numbers.order_by()},
        "esims": {(net, st): n for net, st, n in esims.order_by()},
    }
