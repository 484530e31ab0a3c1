"""The charges of a month (issue 9 item 1), through ``billing_run`` / ``charges_compute`` on real PostgreSQL,
held to the pure rules of ``billing.rules``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from billing import rules
from billing.charges import charges_compute
from billing.models import Charge, Invoice
from billing.services import billing_run
from catalog.models import Offer, Option, Topup
from contracts.models import Contract, ContractOption, ContractTopup, OneOffFee
from tests.billing.conftest import counter, paris, roaming_option

pytestmark = pytest.mark.django_db

NOV, DEC, JAN = dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)
RUN_DEC = paris(2026, 12, 1, 6)


def charges(contract, **filters):
    return list(Charge.objects.filter(contract=contract, **filters).order_by("month", "kind", "source"))


def test_R_CON_4_first_month_pro_rata_15_of_30_times_8_is_4(line):
    contract = line("OR-ILL-10G-NB", delivered=paris(2026, 11, 16, 10, 30))  # 8.00 € HT
    with time_machine.travel(paris(2026, 11, 1, 6), tick=False):
        billing_run(month=NOV)
    assert charges(contract) == []  # not live yet at the November run
    with time_machine.travel(RUN_DEC, tick=False):
        billing_run(month=DEC)
    nov, dec = charges(contract, kind="plan")
    assert (nov.month, nov.amount_ht, nov.rule, nov.mode) == (NOV, Decimal("4.00"), "R-CON-4", "advance")
    assert nov.quantity * nov.unit_price_ht == Decimal("4.00")
    assert "16/11/2026 (15/30 jours)" in nov.label
    assert (dec.month, dec.amount_ht) == (DEC, Decimal("8.00"))
    invoice = Invoice.objects.get(customer_partner=contract.partner)
    assert invoice.total_ht == Decimal("12.00")


@pytest.mark.parametrize("day", [1, 2, 15, 16, 28, 30])
def test_R_CON_4_sql_pro_rata_matches_the_rule(line, day):
    offer = Offer.objects.get(code="OR-ILL-30G-NB")  # 10.50 €
    contract = line(offer.code, delivered=paris(2026, 11, day, 12))
    charges_compute(month=DEC, now=RUN_DEC)
    (nov,) = charges(contract, kind="plan", month=NOV)
    _, expected = rules.plan_fee(offer.monthly_price_ht, live_from=dt.date(2026, 11, day), month=NOV)
    assert nov.amount_ht == expected
    assert rules.cents(nov.quantity * nov.unit_price_ht) == nov.amount_ht


def test_R_CON_4_terminated_on_the_3rd_pays_its_whole_month(line):
    contract = line("OR-ILL-10G-NB", delivered=paris(2026, 9, 10, 10), terminated=paris(2026, 12, 3, 11))
    Contract.objects.filter(pk=contract.pk).update(state=Contract.State.TERMINATED)
    with time_machine.travel(paris(2026, 12, 5, 9), tick=False):  # a run made after the termination
        billing_run(month=DEC)
    assert [(c.month, c.amount_ht) for c in charges(contract, kind="plan")] == [
        (NOV, Decimal("8.00")),  # no November run happened: caught up
        (DEC, Decimal("8.00")),
    ]
    with time_machine.travel(paris(2027, 1, 1, 6), tick=False):
        billing_run(month=JAN)
    assert not Charge.objects.filter(contract=contract, month=JAN).exists()


def test_R_CON_5_suspended_line_still_billed(line):
    contract = line("OR-ILL-5G-NB", state=Contract.State.SUSPENDED)
    with time_machine.travel(RUN_DEC, tick=False):
        billing_run(month=DEC)
    (dec,) = charges(contract, kind="plan", month=DEC)
    assert dec.amount_ht == Decimal("7.00")


def test_R_OPT_4_both_roaming_options_billed_in_the_month_of_the_change(line):
    contract = line("OR-ILL-10G-NB")
    roaming_option(
        contract, "OR-ROA-ILL-USCA-OPT-5G", activated=paris(2026, 10, 2, 9), ended=paris(2026, 11, 12, 15)
    )
    roaming_option(contract, "OR-ROA-ILL-USCA-OPT-10G", activated=paris(2026, 11, 12, 15))
    with time_machine.travel(paris(2026, 11, 1, 6), tick=False):
        billing_run(month=NOV)
    with time_machine.travel(RUN_DEC, tick=False):
        billing_run(month=DEC)
    november = charges(contract, kind="option", month=NOV)
    assert sorted(c.amount_ht for c in november) == [Decimal("45.00"), Decimal("85.00")]
    assert {c.rule for c in november} == {"R-OPT-4"}
    assert [c.amount_ht for c in charges(contract, kind="option", month=DEC)] == [Decimal("85.00")]
    # the 5 Go option was on November's invoice (à échoir), the 10 Go one on December's (caught up)
    nov_invoice, dec_invoice = Invoice.objects.order_by("period_month")
    assert nov_invoice.lines.filter(label__startswith="Novembre", amount_ht=Decimal("45.00")).count() == 1
    assert dec_invoice.lines.filter(label__startswith="Novembre", amount_ht=Decimal("85.00")).count() == 1
    assert dec_invoice.lines.filter(label__startswith="Décembre", amount_ht=Decimal("85.00")).count() == 1


def test_free_options_and_cutoffs_make_no_charge(line, catalog):
    contract = line("OR-ILL-10G-NB")
    ContractOption.objects.create(
        partner=contract.partner,
        contract=contract,
        option=Option.objects.get(network="orange", code="volte_vowifi"),
        code="volte_vowifi",
        label="VoLTE",
        monthly_fee_ht=Decimal("0"),
        status="active",
        created_at=paris(2026, 9, 10),
        activated_at=paris(2026, 9, 10),
    )
    charges_compute(month=DEC, now=RUN_DEC)
    assert charges(contract, kind="option") == []


def test_R_CAT_7_compteur_minimum_2_50(line):
    low = line("OR-CPT")
    high = line("OR-CPT")
    counter(low, NOV, "voice", quantity=600, oop=600, amount="1.2345")
    counter(high, NOV, "data", quantity=10**9, oop=10**9, amount="3.0000")
    with time_machine.travel(RUN_DEC, tick=False):
        billing_run(month=DEC)
    assert [(c.kind, c.amount_ht) for c in charges(low)] == [
        ("compteur_min", Decimal("1.27")),
        ("usage", Decimal("1.23")),
    ]
    assert sum(c.amount_ht for c in charges(low)) == Decimal("2.50")
    assert [(c.kind, c.amount_ht) for c in charges(high)] == [("usage", Decimal("3.00"))]
    assert not Charge.objects.filter(contract=low, month=DEC).exists()  # billed in arrears only
    assert rules.compteur_minimum(Decimal("2.50"), [Decimal("1.2345")]) == Decimal("1.27")


TIERS = [
    {"up_to_bytes": 1_000_000_000, "price_per_mo_ht": "0.02"},
    {"up_to_bytes": 5_000_000_000, "price_per_mo_ht": "0.015"},
    {"up_to_bytes": None, "price_per_mo_ht": "0.01"},
]


@pytest.mark.parametrize(
    ("total", "amount"),
    [(400_000_000, None), (900_000_000, "8.00"), (1_200_000_000, "10.50"), (6_000_000_000, "55.00")],
)
def test_R_CAT_8_price_of_the_tier_reached_on_every_mo_beyond_500(line, total, amount):
    offer = Offer.objects.get(code="OR-CPTD")
    offer.details = {**offer.details, "tiers_ht": TIERS}
    offer.save()
    contract = line("OR-CPTD")
    counter(contract, NOV, "data", quantity=total)
    charges_compute(month=DEC, now=RUN_DEC)
    fee = charges(contract, kind="plan")
    assert [(c.month, c.amount_ht, c.mode, c.rule) for c in fee] == [
        (NOV, Decimal("2.50"), "arrears", "R-CAT-8")
    ]
    tiers = charges(contract, kind="compteur_data")
    _, _, expected = rules.compteur_data_tiers(total, TIERS)
    if amount is None:
        assert tiers == [] and expected == Decimal("0.00")
    else:
        assert [c.amount_ht for c in tiers] == [Decimal(amount)] == [expected]
        assert tiers[0].quantity * tiers[0].unit_price_ht == tiers[0].amount_ht


def test_R_CAT_8_tiers_the_seed_does_not_give_are_unpriced(line):
    contract = line("OR-CPTD")
    counter(contract, NOV, "data", quantity=700_000_000)
    charges_compute(month=DEC, now=RUN_DEC)
    (tiers,) = charges(contract, kind="compteur_data")
    assert tiers.amount_ht is None
    assert "paliers data à définir" in tiers.missing_price


def test_R_OPT_2_esim_fas_1_50_billed_after_the_month(line):
    contract = line("OR-ILL-10G-NB", delivered=paris(2026, 11, 16, 10))
    OneOffFee.objects.create(
        partner=contract.partner,
        contract=contract,
        kind=OneOffFee.Kind.ESIM,
        label="FAS eSIM",
        amount_ht=Decimal("1.50"),
        rule="R-OPT-2",
        created_at=paris(2026, 11, 14, 9),
    )
    with time_machine.travel(RUN_DEC, tick=False):
        billing_run(month=DEC)
    (fee,) = charges(contract, kind="fee")
    assert (fee.month, fee.amount_ht, fee.rule, fee.mode) == (NOV, Decimal("1.50"), "R-OPT-2", "arrears")
    invoice = Invoice.objects.get()
    assert invoice.lines.filter(label__contains="FAS eSIM", amount_ht=Decimal("1.50")).count() == 1


def test_confirmed_topups_of_the_month_past_at_catalog_price(line):
    contract = line("OR-ILL-10G-NB")
    topup = Topup.objects.get(code="OR-TOP-M2M-10M")  # 0.60 € HT in the catalog
    common = {
        "partner": contract.partner,
        "contract": contract,
        "topup": topup,
        "source": "backoffice",
        "volume_bytes": topup.data_bytes,
    }
    ContractTopup.objects.create(
        **common,
        state="confirmed",
        requested_at=paris(2026, 11, 5, 9),
        confirmed_at=paris(2026, 11, 5, 9, 20),
        month=NOV,
    )
    ContractTopup.objects.create(
        **common,
        state="confirmed",
        requested_at=paris(2026, 11, 6, 9),
        confirmed_at=paris(2026, 11, 6, 9, 20),
        month=NOV,
        price_ht=Decimal("0.55"),
    )
    ContractTopup.objects.create(**common, state="failed", requested_at=paris(2026, 11, 7, 9))
    charges_compute(month=DEC, now=RUN_DEC)
    assert [c.amount_ht for c in charges(contract, kind="topup")] == [Decimal("0.60"), Decimal("0.55")]
    assert "Recharge 10 Mo — 05/11/2026" in charges(contract, kind="topup")[0].label


def test_out_of_plan_usage_amounts_rounded_half_up(line):
    contract = line("OR-ILL-10G-NB")
    counter(contract, NOV, "voice", zone="", quantity=4000, oop=610, amount="12.3450")
    counter(contract, NOV, "roaming_data", zone="reste_du_monde", quantity=10**6, oop=10**6, amount="0.0049")
    charges_compute(month=DEC, now=RUN_DEC)
    (voice,) = charges(contract, kind="usage")
    assert voice.amount_ht == Decimal("12.35")
    assert "(11 min)" in voice.label and voice.mode == "arrears"
