"""A port-in brings a number from another operator (R-ORD-2, issue 10 item 1): a number of any partner's pool
is refused, and a number that became live meanwhile is refused in French — never a server error."""

from __future__ import annotations

import pytest

import contracts.services
from contracts.models import Contract
from contracts.rules import rio_key
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.networks import Network
from inventory.models import PhoneNumber
from tests.factories.contracts import add_stock, offer
from tests.factories.partners import ClientAccountFactory, PartnerFactory, UserFactory


def _rio(number: str) -> str:
    prefix = "01P123456"
    return prefix + rio_key(prefix, number)


def _port(partner, client, user, number):
    return order_place(
        partner=partner,
        client=client,
        created_by=user,
        offer=offer("OR-ILL-10G-B"),
        quantity=1,
        lines=[LineSpec(portability=True, msisdn=number, rio=_rio(number))],
    )


@pytest.fixture
def two_partners(catalog):
    a, b = PartnerFactory(), PartnerFactory()
    stock_a = add_stock(a, Network.ORANGE, sims=2, numbers=1)
    add_stock(b, Network.ORANGE, sims=2, numbers=1)
    return (
        (a, ClientAccountFactory(partner=a), UserFactory(), stock_a["numbers"][0].msisdn),
        (b, ClientAccountFactory(partner=b), UserFactory()),
    )


def test_R_ORD_2_port_in_of_a_number_free_in_another_partners_pool_is_refused(two_partners):
    (a, client_a, user_a, free_a), (b, client_b, user_b) = two_partners
    with pytest.raises(RuleViolation) as excinfo:
        _port(b, client_b, user_b, free_a)
    assert (excinfo.value.field, excinfo.value.rule) == ("lines[0].msisdn", "R-ORD-2")
    assert free_a in excinfo.value.message and "numéros de la plateforme" in excinfo.value.message
    assert not Contract.objects.filter(msisdn=free_a).exists()
    # A's pool still holds it, and A's next order draws it as usual.
    assert PhoneNumber.objects.get(msisdn=free_a).state == PhoneNumber.State.AVAILABLE
    order = order_place(
        partner=a, client=client_a, created_by=user_a, offer=offer("OR-ILL-10G-B"), quantity=1
    )
    assert order.contracts.get().msisdn == free_a


def test_R_ORD_2_port_in_of_a_retired_platform_number_is_refused(two_partners):
    (a, _client_a, _user_a, free_a), (b, client_b, user_b) = two_partners
    PhoneNumber.objects.filter(msisdn=free_a).update(state=PhoneNumber.State.RETIRED)
    with pytest.raises(RuleViolation):
        _port(b, client_b, user_b, free_a)


def test_R_ORD_2_a_number_live_since_the_checks_is_refused_in_french_not_a_500(two_partners, monkeypatch):
    """Two orders porting the same number at once: the second one's checks passed before the first committed;
    the live-number constraint then decides, and the refusal names the number."""
    _a, (b, client_b, user_b) = two_partners
    number = "0698765432"
    _port(b, client_b, user_b, number)
    monkeypatch.setattr(contracts.services, "_check_numbers_free", lambda **kwargs: None)
    before = Contract.objects.count()
    with pytest.raises(RuleViolation) as excinfo:
        _port(b, client_b, user_b, number)
    assert (excinfo.value.field, excinfo.value.rule) == ("lines[0].msisdn", "R-ORD-2")
    assert number in excinfo.value.message
    assert Contract.objects.count() == before
