"""Reseller billing (R-BO-3 « Génération facturation revendeur », issue 9 item 3): resale prices, one draft per
client from the charges of the wholesale invoice, blocked drafts, issue in the partner's own gapless sequence,
immutability, credit notes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing import reseller, rules
from billing.models import Invoice, InvoiceSequence, ResalePolicy, ResalePrice
from billing.services import billing_run, credit_note_create
from catalog.models import Offer
from core.errors import RuleViolation, ValidationFailed
from tests.billing.conftest import billing_partner, paris
from tests.factories.partners import ClientAccountFactory

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)
RUN_DEC = paris(2026, 12, 1, 6)
LIVE = paris(2026, 12, 1, 0)  # live from 1 December: one charge, December (à échoir)


def offer_item(code: str) -> str:
    return f"offer:{Offer.objects.get(code=code).pk}"


def policy(partner, *, margin="10", prices=None, enabled=True):
    return reseller.resale_policy_set(
        partner=partner, enabled=enabled, margin_percent=margin, prices=prices or {}
    )


@pytest.mark.parametrize(
    ("wholesale", "explicit", "margin", "expected"),
    [
        (Decimal("7.00"), None, Decimal("10"), Decimal("7.7000")),
        (Decimal("8.00"), Decimal("12"), Decimal("10"), Decimal("12.0000")),
        (None, Decimal("5.5"), Decimal("10"), Decimal("5.5000")),
        (None, None, Decimal("10"), None),
        (Decimal("0.0333"), None, Decimal("15"), Decimal("0.0383")),
        (Decimal("9.99"), None, Decimal("-100"), Decimal("0.0000")),
    ],
)
def test_resale_unit_price_explicit_else_margin(wholesale, explicit, margin, expected):
    assert (
        rules.resale_unit_price(wholesale_unit=wholesale, explicit=explicit, margin_percent=margin)
        == expected
    )


def test_policy_set_reports_every_error_at_once_and_saves_nothing(catalog):
    partner = billing_partner()
    item = offer_item("OR-ILL-10G-NB")
    with pytest.raises(ValidationFailed) as exc:
        policy(partner, margin="1500", prices={item: "-1", offer_item("OR-ILL-5G-NB"): "abc", "offer:0": "3"})
    fields = sorted(e.field for e in exc.value.errors)
    assert fields == sorted(
        ["margin_percent", f"price_{item}", f"price_{offer_item('OR-ILL-5G-NB')}", "price_offer:0"]
    )
    assert "entre -100 % et 1000 %" in str(exc.value.errors[0].message)
    assert any("négatif" in str(e.message) for e in exc.value.errors)
    assert not ResalePolicy.objects.exists() and not ResalePrice.objects.exists()


def test_policy_set_saves_and_clears_explicit_prices(catalog):
    partner = billing_partner()
    item = offer_item("OR-ILL-10G-NB")
    saved = policy(partner, margin="12,5", prices={item: "12"})
    assert saved.enabled and saved.margin_percent == Decimal("12.50")
    assert ResalePrice.objects.get(partner=partner, item=item).unit_price_ht == Decimal("12")
    policy(partner, margin="0", prices={item: ""})
    assert not ResalePrice.objects.filter(partner=partner).exists()


def test_drafts_one_per_client_at_resale_prices_to_the_cent(line):
    partner = billing_partner()
    a1 = ClientAccountFactory(partner=partner, company_name="Client A1")
    a2 = ClientAccountFactory(partner=partner, company_name="Client A2")
    # live since September, never invoiced: November and December each (à échoir, M and M-1)
    line("OR-ILL-10G-NB", client=a1)  # explicit 12.00 (AlphaLink 8.00)
    line("OR-ILL-5G-NB", client=a1)  # 7.00 × 1.10 = 7.70
    line("OR-ILL-10G-NB", client=a2, delivered=paris(2026, 11, 16, 10))  # Nov 15/30 × 12 = 6.00 + Dec 12.00
    policy(partner, margin="10", prices={offer_item("OR-ILL-10G-NB"): "12"})
    billing_run(month=DEC, now=RUN_DEC)
    wholesale = Invoice.objects.get(issuer_partner__isnull=True, customer_partner=partner)
    assert wholesale.total_ht == 2 * Decimal("8.00") + 2 * Decimal("7.00") + Decimal("4.00") + Decimal("8.00")

    drafts = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)

    by_client = {d.customer_client_id: d for d in drafts}
    assert set(by_client) == {a1.pk, a2.pk}
    d1, d2 = by_client[a1.pk], by_client[a2.pk]
    assert (d1.total_ht, d1.total_vat, d1.total_ttc) == (Decimal("39.40"), Decimal("7.88"), Decimal("47.28"))
    assert (d2.total_ht, d2.total_vat, d2.total_ttc) == (Decimal("18.00"), Decimal("3.60"), Decimal("21.60"))
    for draft in drafts:
        assert draft.number is None and draft.state == "draft" and draft.blocked == ""
        assert draft.issuer["name"] == f"{partner.name} SAS"
        assert draft.customer["name"] == draft.customer_client.company_name
        assert draft.customer["siret"] == draft.customer_client.siret
        lines = list(draft.lines.order_by("position"))
        # the very charges of the wholesale invoice, each line quantity × unit to the cent
        assert {ln.charge.invoice_id for ln in lines} == {wholesale.pk}
        assert all(ln.amount_ht == rules.cents(ln.quantity * ln.unit_price_ht) for ln in lines)
        assert all(ln.group.startswith("Contrat ") for ln in lines)
    assert sorted(ln.amount_ht for ln in d2.lines.all()) == [Decimal("6.00"), Decimal("12.00")]


def test_drafts_are_remade_while_draft(line):
    partner = billing_partner()
    client = ClientAccountFactory(partner=partner)
    line("OR-ILL-5G-NB", client=client, delivered=LIVE)
    policy(partner, margin="10")
    billing_run(month=DEC, now=RUN_DEC)
    first = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    assert first[0].total_ht == Decimal("7.70")
    policy(partner, margin="20")
    again = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    assert Invoice.objects.filter(issuer_partner=partner).count() == 1
    assert again[0].total_ht == Decimal("8.40") and again[0].lines.count() == 1


def test_reseller_billing_off_makes_nothing(line):
    partner = billing_partner()
    line("OR-ILL-5G-NB", owner=partner, delivered=LIVE)
    policy(partner, enabled=False)
    billing_run(month=DEC, now=RUN_DEC)
    assert reseller.reseller_drafts_make(partner=partner, month=DEC) == []
    assert reseller.reseller_drafts_make_all(month=DEC) == {}


def test_draft_blocked_when_neither_resale_nor_wholesale_price(line):
    partner = billing_partner()
    client = ClientAccountFactory(partner=partner, company_name="Client Bloqué")
    line(
        "OR-ILL-1G-B", client=client, delivered=LIVE
    )  # the seed leaves this offer unpriced: the wholesale invoice waits too
    line("OR-ILL-5G-NB", client=client, delivered=LIVE)
    policy(partner, margin="10")
    billing_run(month=DEC, now=RUN_DEC)
    assert not Invoice.objects.filter(issuer_partner__isnull=True, customer_partner=partner).exists()

    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    assert draft.blocked.startswith("Facture de Client Bloqué pour décembre 2026 bloquée")
    assert draft.total_ht == Decimal("7.70")
    with pytest.raises(RuleViolation):
        reseller.reseller_invoice_issue(partner=partner, invoice=draft)

    # an explicit resale price unblocks it (the wholesale price is still to be set)
    policy(partner, margin="10", prices={offer_item("OR-ILL-1G-B"): "9"})
    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    assert draft.blocked == "" and draft.total_ht == Decimal("16.70")


def test_issue_numbers_in_the_partner_sequence_independent_of_alphalink(line):
    p1, p2 = billing_partner("Revendeur Un", 1), billing_partner("Revendeur Deux", 2)
    for p in (p1, p2):
        for _ in range(2):
            line("OR-ILL-5G-NB", owner=p, delivered=LIVE)
        policy(p, margin="0")
    billing_run(month=DEC, now=RUN_DEC)
    alphalink_before = InvoiceSequence.objects.get(issuer_key="alphalink", year=2026).last
    for p in (p1, p2):
        drafts = reseller.reseller_drafts_make(partner=p, month=DEC, now=RUN_DEC)
        assert reseller.reseller_invoices_issue_all(partner=p, month=DEC, now=RUN_DEC) == (2, 0)
        issued = list(Invoice.objects.filter(issuer_partner=p).order_by("sequence"))
        assert [i.number for i in issued] == [f"P{p.pk}-2026-000001", f"P{p.pk}-2026-000002"]
        assert {i.pk for i in issued} == {d.pk for d in drafts}
    assert InvoiceSequence.objects.get(issuer_key="alphalink", year=2026).last == alphalink_before == 2


def test_issued_client_invoice_is_immutable_and_survives_a_remake(line):
    partner = billing_partner()
    client = ClientAccountFactory(partner=partner)
    line("OR-ILL-5G-NB", client=client, delivered=LIVE)
    policy(partner, margin="10")
    billing_run(month=DEC, now=RUN_DEC)
    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    invoice = reseller.reseller_invoice_issue(partner=partner, invoice=draft, now=RUN_DEC)
    assert invoice.is_issued and invoice.number == f"P{partner.pk}-2026-000001"
    # a double click issues once
    assert reseller.reseller_invoice_issue(partner=partner, invoice=invoice).number == invoice.number
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total_ht=Decimal("1.00"), total_ttc=Decimal("2.54"))
    policy(partner, margin="50")
    assert reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC) == []
    invoice.refresh_from_db()
    assert invoice.total_ht == Decimal("7.70")


def test_credit_note_of_a_client_invoice_in_the_partner_sequence(line):
    partner = billing_partner()
    line("OR-ILL-5G-NB", owner=partner, delivered=LIVE)
    policy(partner, margin="10")
    billing_run(month=DEC, now=RUN_DEC)
    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    invoice = reseller.reseller_invoice_issue(partner=partner, invoice=draft, now=RUN_DEC)
    note = credit_note_create(invoice=invoice, reason="Geste commercial", now=RUN_DEC)
    assert note.number == f"P{partner.pk}-2026-000002" and note.issuer_partner_id == partner.pk
    assert note.customer_client_id == invoice.customer_client_id and note.total_ht == invoice.total_ht


def test_issue_refuses_another_partners_draft(line):
    partner, other = billing_partner("Un", 1), billing_partner("Autre", 2)
    line("OR-ILL-5G-NB", owner=partner, delivered=LIVE)
    policy(partner)
    billing_run(month=DEC, now=RUN_DEC)
    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    with pytest.raises(Invoice.DoesNotExist):
        reseller.reseller_invoice_issue(partner=other, invoice=draft)


def test_client_invoice_passes_the_facturx_checks_and_schema(line):
    import facturx

    from billing import documents
    from billing.pdf import invoice_document
    from billing.tasks import render_invoice_pdf_task

    partner = billing_partner()
    client = ClientAccountFactory(partner=partner, company_name="Client Factur-X", address="1 rue du Test")
    line("OR-ILL-10G-NB", client=client, delivered=paris(2026, 11, 16, 10))
    line("OR-ILL-5G-NB", client=client, delivered=LIVE)
    policy(partner, margin="12.5", prices={offer_item("OR-ILL-10G-NB"): "11.99"})
    billing_run(month=DEC, now=RUN_DEC)
    (draft,) = reseller.reseller_drafts_make(partner=partner, month=DEC, now=RUN_DEC)
    invoice = reseller.reseller_invoice_issue(partner=partner, invoice=draft, now=RUN_DEC)
    doc = invoice_document(invoice)
    documents.check_document(doc)
    assert doc.issuer.name == f"{partner.name} SAS" and doc.customer.name == "Client Factur-X"
    assert facturx.xml_check_xsd(documents.facturx_xml(doc), flavor="factur-x", level="en16931") is True
    assert render_invoice_pdf_task(invoice.pk) is True
    invoice.refresh_from_db()
    _filename, xml = facturx.get_facturx_xml_from_pdf(bytes(invoice.pdf), check_xsd=True)
    assert invoice.number.encode() in xml


def test_billing_run_command_makes_the_drafts_after_the_wholesale_run(line):
    import io

    import time_machine
    from django.core.management import call_command

    partner = billing_partner()
    line("OR-ILL-5G-NB", owner=partner, delivered=LIVE)
    policy(partner, margin="10")
    out = io.StringIO()
    with time_machine.travel(RUN_DEC, tick=False):
        call_command("billing_run", "--month", "2026-12", stdout=out)
    assert f"revendeur {partner.pk} : 1 brouillon(s)" in out.getvalue()
    draft = Invoice.objects.get(issuer_partner=partner)
    assert draft.state == "draft" and draft.total_ht == Decimal("7.70")
    policy(partner, margin="20")
    with time_machine.travel(RUN_DEC, tick=False):
        call_command("billing_run", "--month", "2026-12", "--revendeur-seulement", stdout=io.StringIO())
    assert Invoice.objects.get(issuer_partner=partner).total_ht == Decimal("8.40")
