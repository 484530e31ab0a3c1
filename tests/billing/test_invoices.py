"""Wholesale invoices AlphaLink → partner (issue 9 item 2): grouping, totals to the cent, mandatory mentions,
unpriced charges that block, immutability, credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, InternalError, transaction
from stdnum.fr import siret, tva

from billing import rules
from billing.models import BillingRun, Charge, Invoice, InvoiceLine, PartnerBillingProfile
from billing.services import billing_run, credit_note_create, invoice_issue
from catalog.models import Option, UsageRate
from contracts.models import ContractOption
from core.errors import RuleViolation
from tests.billing.conftest import billing_partner, counter, paris, roaming_option
from usage.models import UsageCounter

pytestmark = pytest.mark.django_db

NOV, DEC = dt.date(2026, 11, 1), dt.date(2026, 12, 1)
RUN_DEC = paris(2026, 12, 1, 6)


def run_december():
    with time_machine.travel(RUN_DEC, tick=False):
        return billing_run(month=DEC)


def conference(contract):
    option = Option.objects.get(network="orange", code="conference")  # monthly price « à définir »
    return ContractOption.objects.create(
        partner=contract.partner,
        contract=contract,
        option=option,
        code=option.code,
        label=option.label,
        monthly_fee_ht=option.monthly_price_ht,
        status="active",
        created_at=paris(2026, 9, 10),
        activated_at=paris(2026, 9, 10),
    )


def test_one_invoice_per_partner_lines_grouped_by_client_and_contract(partner, line):
    a1 = line("OR-ILL-10G-NB")
    a2 = line("OR-ILL-5G-NB", client=a1.client)
    b = line("OR-ILL-SD")
    other = billing_partner("Autre Partenaire", 2)
    foreign = line("OR-ILL-10G-NB", owner=other)
    run = run_december()
    assert set(run.invoiced) == {str(partner.pk), str(other.pk)} and run.blocked == {}
    invoice = Invoice.objects.get(customer_partner=partner)
    groups = list(invoice.lines.order_by("position").values_list("group", flat=True))
    assert groups == sorted(groups, key=lambda g: groups.index(g))  # each group contiguous
    assert {g.split(" — ")[0] for g in groups} == {a1.client.company_name, b.client.company_name}
    assert any(a2.number in g for g in groups) and not any(foreign.number in g for g in groups)
    assert invoice.lines.count() == 6  # 3 lines × (November caught up + December)


def test_invoice_mandatory_mentions(partner, line):
    line("OR-ILL-10G-NB")
    run_december()
    invoice = Invoice.objects.get()
    assert invoice.number == "FA-2026-000001" and invoice.state == "issued"
    assert invoice.issue_date == dt.date(2026, 12, 1) and invoice.due_date == dt.date(2026, 12, 31)
    assert (invoice.period_start, invoice.period_end) == (NOV, dt.date(2026, 12, 31))
    assert siret.is_valid(invoice.issuer["siret"]) and tva.is_valid(invoice.issuer["vat_number"])
    assert invoice.customer["siret"] == partner.billing_profile.siret
    assert invoice.customer["vat_number"] == "FR11999999998"
    assert "40 €" in invoice.payment_terms and "pénalités" in invoice.payment_terms
    assert invoice.iban


def test_totals_add_up_to_the_cent(partner, line):
    for day in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29):
        line("OR-ILL-30G-NB", delivered=paris(2026, 11, day, 9))  # 10.50 × d/30
        line("OR-ILL-1G-NB", delivered=paris(2026, 11, day, 9))  # 7.50 × d/30
    c = line("OR-CPT")
    counter(c, NOV, "voice", quantity=1234, oop=1234, amount="0.4567")
    run_december()
    invoice = Invoice.objects.get()
    amounts = list(invoice.lines.values_list("amount_ht", flat=True))
    assert all(a == rules.cents(a) for a in amounts)
    assert invoice.total_ht == sum(amounts)
    assert invoice.total_vat == (invoice.total_ht * Decimal("0.20")).quantize(Decimal("0.01"))
    assert invoice.total_ttc == invoice.total_ht + invoice.total_vat
    for ln in invoice.lines.all():
        assert rules.cents(ln.quantity * ln.unit_price_ht) == ln.amount_ht


def test_unpriced_charge_blocks_the_invoice_with_the_french_list(partner, line):
    contract = line("OR-ILL-10G-NB")
    conference(contract)
    counter(contract, NOV, "voice", zone="reste_du_monde", quantity=300, oop=300, unpriced=300)
    run = run_december()
    assert not Invoice.objects.exists()
    message = run.blocked[str(partner.pk)]
    assert "bloquée" in message and "prix sont à définir" in message
    assert "Option « Conférence » (Orange) : prix mensuel à définir — 2 élément(s)" in message  # Nov + Dec
    assert "Tarif à l'usage" in message and "(Orange)" in message
    assert Charge.objects.filter(amount_ht__isnull=True).count() == 3  # never a silent 0

    # the platform admin prices what was missing: the next run invoices it
    Option.objects.filter(code="conference", network="orange").update(monthly_price_ht=Decimal("1.00"))
    UsageRate.objects.filter(network="orange").update(price_ht=Decimal("0.30"))
    # rating re-prices the counter (here, by hand); the open charges are recomputed from it
    UsageCounter.objects.filter(contract=contract).update(unpriced_quantity=0, amount_ht=Decimal("1.50"))
    run = run_december()
    invoice = Invoice.objects.get()
    assert run.blocked == {} and run.invoiced == {str(partner.pk): invoice.number}
    assert invoice.lines.filter(label__contains="Conférence", amount_ht=Decimal("1.00")).count() == 2
    assert invoice.lines.filter(label__contains="Hors forfait", amount_ht=Decimal("1.50")).count() == 1


def test_missing_partner_identity_blocks(partner, line):
    line("OR-ILL-10G-NB")
    PartnerBillingProfile.objects.filter(partner=partner).delete()
    run = run_december()
    assert "identité de facturation" in run.blocked[str(partner.pk)]
    assert not Invoice.objects.exists() and not Charge.objects.filter(invoice__isnull=False).exists()


def test_issued_invoice_is_immutable(partner, line):
    line("OR-ILL-10G-NB")
    run_december()
    invoice = Invoice.objects.get()
    with pytest.raises(RuleViolation, match="Corrigez-la par un avoir"):
        invoice_issue(invoice=invoice)
    for attempt in (
        lambda: Invoice.objects.filter(pk=invoice.pk).update(total_ht=Decimal("1.00")),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(amount_ht=Decimal("0.01")),
        lambda: InvoiceLine.objects.filter(invoice=invoice).delete(),
        lambda: Charge.objects.filter(invoice=invoice).update(amount_ht=Decimal("0.01")),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            attempt()
    # the PDF is the one thing that may be added
    Invoice.objects.filter(pk=invoice.pk).update(pdf=b"%PDF-1.7", pdf_rendered_at=RUN_DEC)
    invoice.refresh_from_db()
    assert bytes(invoice.pdf) == b"%PDF-1.7" and invoice.total_ht == Decimal("16.00")


def test_credit_note_references_the_invoice_and_takes_the_next_number(partner, line):
    line("OR-ILL-10G-NB")
    line("OR-ILL-5G-NB")
    run_december()
    invoice = Invoice.objects.get()
    first = invoice.lines.order_by("position").first()
    with time_machine.travel(paris(2026, 12, 8, 10), tick=False):
        note = credit_note_create(
            invoice=invoice, reason="Ligne résiliée avant activation", line_ids=[first.pk]
        )
    assert (note.kind, note.credit_note_of, note.number) == ("credit_note", invoice, "FA-2026-000002")
    assert note.total_ht == first.amount_ht and note.total_ttc == note.total_ht + note.total_vat
    assert note.lines.get().credits_line == first
    with pytest.raises(RuleViolation, match="déjà fait l'objet d'un avoir"):
        credit_note_create(invoice=invoice, reason="encore", line_ids=[first.pk])
    rest = credit_note_create(invoice=invoice, reason="Avoir du solde")
    assert rest.number == "FA-2026-000003" and rest.lines.count() == invoice.lines.count() - 1
    assert note.total_ht + rest.total_ht == invoice.total_ht
    invoice.refresh_from_db()
    assert invoice.total_ht == Decimal("30.00")  # untouched
    with pytest.raises(RuleViolation):
        credit_note_create(invoice=note, reason="avoir d'avoir")


def test_idempotent_rerun_creates_nothing_new(partner, line):
    contract = line("OR-ILL-10G-NB", delivered=paris(2026, 11, 16, 10))
    counter(contract, NOV, "voice", quantity=600, oop=600, amount="2.0000")
    run_december()
    before = (Charge.objects.count(), Invoice.objects.count(), InvoiceLine.objects.count())
    snapshot = list(Invoice.objects.values_list("number", "total_ttc"))
    with time_machine.travel(paris(2026, 12, 1, 9), tick=False):
        run = billing_run(month=DEC)
    assert (Charge.objects.count(), Invoice.objects.count(), InvoiceLine.objects.count()) == before
    assert list(Invoice.objects.values_list("number", "total_ttc")) == snapshot
    assert run.attempts == 2 and BillingRun.objects.count() == 1


def test_contract_changed_after_the_run_shows_at_the_next_run(partner, line):
    contract = line("OR-ILL-10G-NB")
    run_december()
    dec_invoice = Invoice.objects.get()
    dec_total = dec_invoice.total_ht
    with time_machine.travel(paris(2026, 12, 10, 11), tick=False):
        roaming_option(contract, "OR-ROA-ILL-MT-OPT-1G", activated=paris(2026, 12, 10, 11))
    with time_machine.travel(paris(2027, 1, 1, 6), tick=False):
        billing_run(month=dt.date(2027, 1, 1))
    jan_invoice = Invoice.objects.get(period_month=dt.date(2027, 1, 1))
    assert jan_invoice.number == "FA-2027-000001"
    labels = list(jan_invoice.lines.filter(amount_ht=Decimal("10.00")).values_list("label", flat=True))
    assert [la.split(" : ")[0] for la in labels] == ["Décembre 2026", "Janvier 2027"]
    dec_invoice.refresh_from_db()
    assert dec_invoice.total_ht == dec_total
