"""Client-scoped contract selectors (self-care, STYLE 15/16/26)."""

import pytest
from django.http import Http404

from contracts.selectors import client_contracts, contract_get_for_client_or_404
from tests.factories.contracts import ContractFactory, OrderFactory
from tests.factories.partners import ClientAccountFactory, PartnerFactory


def test_client_sees_its_own_lines_only(db):
    partner, other_partner = PartnerFactory(), PartnerFactory()
    a1, a2 = ClientAccountFactory(partner=partner), ClientAccountFactory(partner=partner)
    b1 = ClientAccountFactory(partner=other_partner)
    mine = ContractFactory(order=OrderFactory(client=a1))
    sibling = ContractFactory(order=OrderFactory(client=a2))
    foreign = ContractFactory(order=OrderFactory(client=b1))
    assert list(client_contracts(a1)) == [mine]
    assert contract_get_for_client_or_404(a1, mine.pk) == mine
    for other in (sibling.pk, foreign.pk, "x", None):
        with pytest.raises(Http404):
            contract_get_for_client_or_404(a1, other)
