"""Contract factories and stock helpers.

- ``add_stock(partner, network, sims=…, sims_no_pin=…, numbers=…)``: valid SIMs and pool numbers in bulk.
- ``OrderFactory`` / ``ContractFactory``: rows written directly (pages, tenancy tests); children inherit the
  partner of their client. To test the rules, place real orders with ``contracts.services.order_place``.
"""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from factory.django import DjangoModelFactory

from catalog.models import Offer
from contracts.models import Contract, ContractEvent, Order, SimType
from core.networks import Network
from inventory.models import PhoneNumber, SimCard
from tests.factories.catalog import OfferFactory
from tests.factories.inventory import make_iccid, make_msisdn
from tests.factories.partners import ClientAccountFactory

_serial = itertools.count(1)


def add_stock(
    partner, network: str = Network.ORANGE, *, sims: int = 0, sims_no_pin: int = 0, numbers: int = 0
) -> dict:
    """Bulk-create ``sims`` SIMs with PIN, ``sims_no_pin`` without PIN and ``numbers`` mobile numbers."""
    base = next(_serial) * 100_000
    series = 3 if network == Network.ORANGE else 4
    sim_rows = [
        SimCard(
            partner=partner,
            network=network,
            iccid=make_iccid(base + i, network=network, series=series),
            pin="1234" if i < sims else None,
            puk=f"{(base + i) % 10**8:08d}",
        )
        for i in range(sims + sims_no_pin)
    ]
    prefix = "06" if network == Network.BOUYGUES else "07"
    number_rows = [
        PhoneNumber(partner=partner, network=network, msisdn=make_msisdn(base + i, prefix=prefix))
        for i in range(numbers)
    ]
    return {
        "sims": SimCard.objects.bulk_create(sim_rows),
        "numbers": PhoneNumber.objects.bulk_create(number_rows),
    }


def offer(code: str) -> Offer:
    return Offer.objects.get(code=code)


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    client = factory.SubFactory(ClientAccountFactory)
    partner = factory.SelfAttribute("client.partner")
    number = factory.Sequence(lambda n: f"CMD-2026-{900000 + n:06d}")
    offer = factory.SubFactory(OfferFactory)
    network = factory.SelfAttribute("offer.network")
    quantity = 1
    activation_date = factory.LazyFunction(dt.date.today)


class ContractFactory(DjangoModelFactory):
    class Meta:
        model = Contract
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    client = factory.SelfAttribute("order.client")
    partner = factory.SelfAttribute("order.partner")
    offer = factory.SelfAttribute("order.offer")
    network = factory.SelfAttribute("offer.network")
    number = factory.Sequence(lambda n: f"CTR-2026-{900000 + n:06d}")
    state = Contract.State.PENDING
    user_name = "Utilisateur test"
    msisdn = factory.Sequence(lambda n: make_msisdn(30_000_000 + n))
    sim_type = SimType.WITH_PIN
    activation_date = factory.LazyFunction(dt.date.today)

    @factory.post_generation
    def with_event(obj, create, extracted, **kwargs):
        if create:
            ContractEvent.objects.create(
                partner=obj.partner,
                contract=obj,
                kind=ContractEvent.Kind.CREATED,
                to_state=obj.state,
                message=f"Créé pour {obj.user_name}",
                created_at=obj.created_at,
            )
