"""Helpers of the lifecycle tests (service, API, pages): live lines made the real way — ``order_place``, then the
dispatcher sweep and the operator simulators (zero latency) — and the sweep that brings the operator's answer."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from contracts.models import Contract, OperatorRequest
from contracts.services import LineSpec
from core.networks import Network
from inventory.models import SimCard
from provisioning import services as provisioning
from provisioning.simulators import simulator_tick
from tests.provisioning.test_dispatch_support import Stock

PARIS = ZoneInfo("Europe/Paris")
OFFERS = {
    "orange": "OR-ILL-10G-B",  # blocked: fixed IP allowed (R-OPT-3)
    "orange_nb": "OR-ILL-10G-NB",  # non-blocked: fixed IP refused on Orange (R-OPT-3)
    "orange_data": "OR-DATA-20G-B",
    "bouygues": "BY-ILL-10G-B",
}


def paris(y, m, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=PARIS).astimezone(UTC)


TUESDAY_10H = paris(2027, 3, 9, 10)  # every operator window is open


def lifecycle_settings(settings) -> None:
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.PROVISIONING_WAKE_ON_ORDER = False  # the tests run the sweep themselves
    settings.PROVISIONING_MAX_ATTEMPTS = 3


def sweep() -> provisioning.DispatchReport:
    """The operator finishes what is due, then the platform plans, sends and polls (in-process)."""
    simulator_tick()
    return provisioning.dispatch_due_requests()


def order_line(stock: Stock, offer_key: str = "orange", spec: LineSpec | None = None, **kwargs) -> Contract:
    from catalog.models import Offer
    from contracts.services import order_place

    order = order_place(
        partner=stock.partner,
        client=stock.client,
        created_by=None,
        offer=Offer.objects.get(code=OFFERS[offer_key]),
        quantity=1,
        lines=[spec or LineSpec(user_name="Ligne test")],
        **kwargs,
    )
    return order.contracts.get()


def live_line(stock: Stock, offer_key: str = "orange", spec: LineSpec | None = None, **kwargs) -> Contract:
    """A line ordered and activated by the operator (Actif, R-CON-8)."""
    contract = order_line(stock, offer_key, spec, **kwargs)
    sweep()
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE, contract.last_error
    return contract


def spare_sim(stock: Stock, network: str = Network.ORANGE, **filters) -> SimCard:
    return (
        SimCard.objects.filter(
            partner=stock.partner, network=network, state=SimCard.State.IN_STOCK, **filters
        )
        .order_by("iccid")
        .first()
    )


def last_request(contract: Contract, kind: str | None = None) -> OperatorRequest:
    qs = OperatorRequest.objects.filter(contract=contract)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.latest("created_at", "id")
