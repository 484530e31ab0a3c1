"""Fixtures of the billing tests: the real catalog, partners with their billing identity, live lines with
their dates, and the month's usage counters as rating leaves them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import PartnerBillingProfile
from catalog.models import Offer, RoamingChoice
from contracts.models import Contract, ContractOption
from core.clock import PARIS
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory, OrderFactory
from tests.factories.partners import ClientAccountFactory, PartnerFactory, make_siret
from usage.models import UsageCounter


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _no_pdf_queue(settings):
    """Issuing queues the PDF on commit; these tests check the invoices, not the broker."""
    settings.BILLING_RENDER_PDF_ON_ISSUE = False


@pytest.fixture
def catalog(db):
    return load_test_catalog()


def billing_partner(name: str = "Telcom Facturation", n: int = 1):
    partner = PartnerFactory(name=name)
    PartnerBillingProfile.objects.create(
        partner=partner,
        legal_name=f"{name} SAS",
        siret=make_siret(500 + n + partner.pk),
        vat_number="FR11999999998",
        address="2 avenue des Tests",
        postcode="69002",
        city="Lyon",
        email="compta@example.fr",
    )
    return partner


@pytest.fixture
def partner(db):
    return billing_partner()


@pytest.fixture
def line(partner, catalog):
    """``line("OR-ILL-10G-NB", delivered=paris(2026, 11, 16, 10), terminated=None, state="active")``."""

    def make(
        code: str = "OR-ILL-10G-NB",
        *,
        delivered: dt.datetime | None = None,
        terminated: dt.datetime | None = None,
        state: str = Contract.State.ACTIVE,
        owner=None,
        client=None,
    ) -> Contract:
        owner = owner or partner
        client = client or ClientAccountFactory(partner=owner)
        order = OrderFactory(client=client, offer=Offer.objects.get(code=code))
        contract = ContractFactory(order=order, state=state)
        Contract.objects.filter(pk=contract.pk).update(
            delivered_at=delivered or paris(2026, 9, 10, 10), terminated_at=terminated
        )
        contract.refresh_from_db()
        return contract

    return make


def roaming_option(
    contract: Contract, code: str, *, activated: dt.datetime, ended: dt.datetime | None = None
):
    """A roaming option as contracts records it: the catalog choice, its price copied at order."""
    choice = RoamingChoice.objects.get(code=code)
    return ContractOption.objects.create(
        partner=contract.partner,
        contract=contract,
        roaming_choice=choice,
        code=choice.code,
        label=f"Option itinérance {choice.code}",
        zone=choice.zone,
        monthly_fee_ht=choice.price_ht,
        status=ContractOption.Status.TERMINATED if ended else ContractOption.Status.ACTIVE,
        created_at=activated,
        activated_at=activated,
        ended_at=ended,
    )


def counter(
    contract: Contract,
    month: dt.date,
    metric: str,
    *,
    zone: str = "",
    quantity: int = 0,
    oop: int = 0,
    amount: str = "0",
    unpriced: int = 0,
) -> UsageCounter:
    return UsageCounter.objects.create(
        partner=contract.partner,
        contract=contract,
        month=month,
        metric=metric,
        zone=zone,
        quantity=quantity,
        oop_quantity=oop,
        amount_ht=Decimal(amount),
        unpriced_quantity=unpriced,
        updated_at=paris(2026, 11, 30, 23),
    )
