"""Billing test data: a partner's billing identity and its issued wholesale invoice of a month, made by a real
run (``billing.services.billing_run``) over a live line of the real catalog."""

from __future__ import annotations

import datetime as dt

import time_machine

from billing.models import Invoice, PartnerBillingProfile
from billing.services import billing_run
from catalog.models import Offer
from contracts.models import Contract
from core.clock import PARIS
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory, OrderFactory
from tests.factories.partners import ClientAccountFactory, make_siret


def billing_profile(partner) -> PartnerBillingProfile:
    return PartnerBillingProfile.objects.create(
        partner=partner,
        legal_name=f"{partner.name} SAS",
        siret=make_siret(700 + partner.pk),
        vat_number="FR11999999998",
        address="2 avenue des Tests",
        postcode="69002",
        city="Lyon",
        email="compta@example.fr",
    )


def live_line(partner, *, code: str = "OR-ILL-10G-NB", client=None, delivered: dt.datetime | None = None):
    """An active line of ``partner`` delivered on ``delivered`` (default 10 September 2026)."""
    if not Offer.objects.filter(code=code).exists():
        load_test_catalog()
    client = client or ClientAccountFactory(partner=partner)
    order = OrderFactory(client=client, offer=Offer.objects.get(code=code))
    contract = ContractFactory(order=order, state=Contract.State.ACTIVE)
    Contract.objects.filter(pk=contract.pk).update(
        delivered_at=delivered or dt.datetime(2026, 9, 10, 10, tzinfo=PARIS)
    )
    contract.refresh_from_db()
    return contract


def run_month(month: dt.date) -> None:
    """The monthly run of ``month`` as beat starts it (the 1st at 06:00 Paris)."""
    with time_machine.travel(dt.datetime(month.year, month.month, 1, 6, tzinfo=PARIS), tick=False):
        billing_run(month=month)


def issued_invoice(partner, *, month: dt.date = dt.date(2026, 12, 1), lines: int = 1) -> Invoice:
    """The partner's wholesale invoice of ``month``, issued by a run (the PDF is not made: see ``with_pdf``)."""
    if not PartnerBillingProfile.objects.filter(partner=partner).exists():
        billing_profile(partner)
    for _ in range(lines):
        live_line(partner)
    run_month(month)
    return Invoice.objects.get(customer_partner=partner, period_month=month, kind=Invoice.Kind.INVOICE)


def with_pdf(invoice: Invoice, content: bytes = b"%PDF-1.7 test") -> Invoice:
    """Store a stand-in PDF (only ``pdf`` may change on an issued invoice)."""
    Invoice.objects.filter(pk=invoice.pk).update(pdf=content, pdf_rendered_at=dt.datetime.now(tz=PARIS))
    invoice.refresh_from_db()
    return invoice
