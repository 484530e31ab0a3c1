"""Inventory factories and helpers that make valid identifiers (ID-ICCID, ID-MSISDN).

- ``make_iccid(n, network=..., length=19|20)``: a valid ICCID (8933 + issuer + n + Luhn digit), unique per
  (network, n, length). Orange issuer ``01``, Bouygues ``20``.
- ``make_msisdn(n, prefix="06")``: a valid French mobile number ``06…``/``07…`` (07 uses 075–079).
- ``make_m2m_number(n)``: a 14-digit ``0700…`` number.
Children inherit their parent's partner (``client`` → ``partner``).
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory
from stdnum import luhn

from core.networks import Network
from inventory.models import EsimProfile, PhoneNumber, SimCard
from inventory.rules import new_matching_id
from tests.factories.partners import PartnerFactory


def _partner_of_client():
    """The client's partner when a client is given, else a new partner."""
    return factory.Maybe(
        "client",
        yes_declaration=factory.SelfAttribute("client.partner"),
        no_declaration=factory.SubFactory(PartnerFactory),
    )


ISSUER = {Network.ORANGE: "01", Network.BOUYGUES: "20"}


def make_iccid(n: int, *, network: str = Network.ORANGE, length: int = 19, series: int = 0) -> str:
    """A valid ICCID: ``8933`` + issuer + series digit + ``n`` zero-padded + Luhn check digit."""
    head = "8933" + ISSUER[Network(network)] + str(series % 10)
    body = head + f"{n:0{length - 1 - len(head)}d}"
    assert len(body) == length - 1, "n too large for this ICCID length"
    return body + luhn.calc_check_digit(body)


def make_msisdn(n: int, *, prefix: str = "06") -> str:
    """A valid mobile number (ID-MSISDN): ``06[1245678]`` + 7 digits or ``07[5-9]`` + 7 digits.

    Avoids the ranges ``phonenumbers`` knows as unallocated (0639, 069x, 070–072)."""
    heads = "1245678" if prefix == "06" else "56789"
    return f"{prefix}{heads[(n // 10**7) % len(heads)]}{n % 10**7:07d}"


def make_m2m_number(n: int) -> str:
    return f"0700{n % 10**10:010d}"


class SimCardFactory(DjangoModelFactory):
    class Meta:
        model = SimCard

    partner = _partner_of_client()
    network = Network.ORANGE
    iccid = factory.LazyAttributeSequence(lambda o, n: make_iccid(n, network=o.network, series=7))
    pin = "1234"
    puk = factory.Sequence(lambda n: f"{(n * 7919) % 10**8:08d}")
    state = SimCard.State.IN_STOCK
    client = None


class PhoneNumberFactory(DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    partner = _partner_of_client()
    network = Network.BOUYGUES
    kind = PhoneNumber.Kind.MOBILE
    msisdn = factory.Sequence(lambda n: make_msisdn(60_000_000 + n))
    state = PhoneNumber.State.AVAILABLE
    client = None


class EsimProfileFactory(DjangoModelFactory):
    class Meta:
        model = EsimProfile

    partner = _partner_of_client()
    network = Network.ORANGE
    iccid = factory.Sequence(lambda n: make_iccid(n, network=Network.ORANGE, length=20, series=9))
    matching_id = factory.LazyFunction(new_matching_id)
    smdp_address = "smdp.test.example"
    state = EsimProfile.State.ALLOCATED
    client = None
