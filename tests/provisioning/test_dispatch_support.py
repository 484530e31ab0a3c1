"""Helpers shared by the dispatch, fault and bench scenarios: stock, orders, counts (no tests here)."""

from __future__ import annotations

import datetime as dt

from contracts import rules as contract_rules
from contracts.models import Contract, OperatorRequest
from contracts.services import LineSpec, order_place
from core.networks import Network
from inventory.models import PhoneNumber, SimCard
from provisioning.models import SimulatedOperatorLine, SimulatedOperatorRequest
from tests.factories.catalog import load_test_catalog
from tests.factories.inventory import make_iccid, make_msisdn
from tests.factories.partners import ClientAccountFactory, PartnerFactory

OFFERS = {
    Network.BOUYGUES: "BY-ILL-10G-B",
    Network.ORANGE: "OR-ILL-10G-B",
    "orange_data": "OR-DATA-20G-B",
}


def make_rio(number: str, contract_code: str = "123456") -> str:
    """A valid RIO for ``number`` (ID-RIO): operator 01, particulier, contract code, key."""
    prefix = f"01P{contract_code}"
    return prefix + contract_rules.rio_key(prefix, number)


class Stock:
    """A partner, a client and stock: SIMs with PIN and numbers per network, numbered from ``base``."""

    def __init__(
        self, *, base: int = 0, sims: int = 10, numbers: int = 10, networks=(Network.BOUYGUES, Network.ORANGE)
    ):
        from catalog.models import Offer

        if not Offer.objects.exists():
            load_test_catalog()
        self.partner = PartnerFactory()
        self.client = ClientAccountFactory(partner=self.partner)
        self.base = base
        for network in networks:
            series = 3 if network == Network.ORANGE else 4
            SimCard.objects.bulk_create(
                [
                    SimCard(
                        partner=self.partner,
                        network=network,
                        iccid=make_iccid(base + i, network=network, series=series),
                        pin="1234",
                        puk=f"{(base + i) * 7919 % 10**8:08d}",
                        state=SimCard.State.IN_STOCK,
                    )
                    for i in range(sims)
                ]
            )
            offset = 10_000_000 if network == Network.ORANGE else 20_000_000
            PhoneNumber.objects.bulk_create(
                [
                    PhoneNumber(
                        partner=self.partner,
                        network=network,
                        msisdn=make_msisdn(offset + base + i),
                        state=PhoneNumber.State.AVAILABLE,
                    )
                    for i in range(numbers)
                ]
            )

    def order(self, offer_key, lines: list[LineSpec] | None = None, *, quantity: int | None = None, **kwargs):
        from catalog.models import Offer

        lines = lines or []
        return order_place(
            partner=self.partner,
            client=self.client,
            created_by=None,
            offer=Offer.objects.get(code=OFFERS[offer_key]),
            quantity=quantity or len(lines),
            lines=lines,
            **kwargs,
        )


def ported(n: int) -> LineSpec:
    number = make_msisdn(30_000_000 + n, prefix="07")
    return LineSpec(user_name=f"Porté {n}", msisdn=number, portability=True, rio=make_rio(number))


def esim(n: int) -> LineSpec:
    return LineSpec(
        user_name=f"eSIM {n}",
        sim_type="esim",
        contact_email=f"esim{n}@example.fr",
        contact_mobile=make_msisdn(40_000_000 + n),
    )


def counts(contracts=None) -> dict[str, int]:
    """What the fault tests and the bench check: platform contracts and requests vs the simulator's lines."""
    contracts = contracts if contracts is not None else Contract.objects.all()
    requests = OperatorRequest.objects.filter(contract__in=contracts)
    keys = list(requests.values_list("idempotency_key", flat=True))
    sim_requests = SimulatedOperatorRequest.objects.filter(idempotency_key__in=keys)
    lines = SimulatedOperatorLine.objects.filter(creation_request__idempotency_key__in=keys)
    return {
        "contracts": contracts.count(),
        "contracts_active": contracts.filter(state=Contract.State.ACTIVE, delivered_at__isnull=False).count(),
        "requests_completed": requests.filter(state=OperatorRequest.State.COMPLETED).count(),
        "platform_attempts": sum(requests.values_list("attempts", flat=True)),
        "operator_requests": sim_requests.count(),
        "operator_attempts": sum(sim_requests.values_list("attempts", flat=True)),
        "operator_lines": lines.count(),
        "operator_lines_active": lines.filter(status=SimulatedOperatorLine.Status.ACTIVE).count(),
        "distinct_msisdns": lines.values("msisdn").distinct().count(),
        "lines_matching_contract_msisdn": lines.filter(
            msisdn__in=contracts.values_list("msisdn", flat=True)
        ).count(),
    }


def at_paris(y, m, d, h=0, mi=0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(y, m, d, h, mi, tzinfo=ZoneInfo("Europe/Paris"))
