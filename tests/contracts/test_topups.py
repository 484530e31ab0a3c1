"""``contracts.topups``: data top-ups of a line — R-CAT-10 (Orange every volume; Bouygues blocked every volume,
non-blocked only its own; Data only volumes), R-CAT-6 (M2M), R-CAT-4 (Travel), R-CAT-7 (compteur once the threshold
is reached), R-PRV-5 (a second top-up within 30 minutes is refused unless confirmed), the page's request key (one
top-up per double click), the operator's confirmation (month, blocks lifted) and failure. Lines made the real way
(``order_place`` → dispatcher → zero-latency simulators), clock frozen."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalog.models import Offer, Topup
from contracts import datablocks, lifecycle, outcomes, topups
from contracts.models import Contract, ContractEvent, ContractTopup, DataBlock, OperatorRequest
from contracts.selectors import contract_possible_actions, topup_volume_for_month
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.money import GB, MB, TB
from core.operator_kinds import RequestKind
from provisioning.models import SimulatedOperatorLine
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import TUESDAY_10H, lifecycle_settings, paris, sweep

pytestmark = pytest.mark.django_db

TState = ContractTopup.State
ILL = [v * GB for v in (1, 5, 10, 30, 50, 100, 250, 500)]
DATA_ONLY = [v * GB for v in (1, 10, 20, 50, 100, 150, 200, 500)] + [TB]


@pytest.fixture(autouse=True)
def _lifecycle(settings):
    lifecycle_settings(settings)


@pytest.fixture
def stock(time_machine):
    time_machine.move_to(TUESDAY_10H, tick=False)
    return Stock()


def live(stock: Stock, code: str) -> Contract:
    order = order_place(
        partner=stock.partner,
        client=stock.client,
        created_by=None,
        offer=Offer.objects.get(code=code),
        quantity=1,
        lines=[LineSpec(user_name="Ligne test")],
    )
    sweep()
    contract = order.contracts.get()
    assert contract.state == Contract.State.ACTIVE, contract.last_error
    return contract


def topup(contract: Contract, volume: int, **kwargs) -> ContractTopup:
    kwargs.setdefault("source", "backoffice")
    return topups.contract_topup(contract=contract, volume_bytes=volume, **kwargs)


def refused(contract: Contract, volume: int, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as exc:
        topup(contract, volume, **kwargs)
    return exc.value


def volumes(contract: Contract) -> list[int]:
    return [c.volume_bytes for c in topups.topup_choices(contract)]


# --------------------------------------------------------------------------------------------------------
# Eligibility (R-CAT-10, R-CAT-6, R-CAT-4)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["OR-ILL-10G-B", "OR-ILL-10G-NB"])
def test_R_CAT_10_orange_every_volume_blocked_or_not(stock, code):
    contract = live(stock, code)
    assert volumes(contract) == ILL
    for volume in ILL:
        assert topup(contract, volume, confirm_repeat=True).state == TState.PENDING
    assert (
        sorted(ContractTopup.objects.filter(contract=contract).values_list("volume_bytes", flat=True)) == ILL
    )


def test_R_CAT_10_bouygues_blocked_every_volume(stock):
    contract = live(stock, "BY-ILL-10G-B")
    assert volumes(contract) == ILL
    assert topup(contract, 500 * GB).volume_bytes == 500 * GB


def test_R_CAT_10_bouygues_non_blocked_only_its_own_volume(stock):
    contract = live(stock, "BY-ILL-30G-NB")
    assert volumes(contract) == [30 * GB]
    error = refused(contract, 5 * GB)
    assert error.rule == "R-CAT-10" and error.field == "volume_bytes" and "volume du forfait" in error.message
    assert topup(contract, 30 * GB).volume_bytes == 30 * GB


def test_R_CAT_10_data_only_volumes(stock):
    contract = live(stock, "OR-DATA-20G-B")
    assert volumes(contract) == DATA_ONLY
    assert topup(contract, TB).volume_bytes == TB
    assert refused(contract, 5 * GB, confirm_repeat=True).rule == "R-CAT-10"  # an Illimité volume


def test_R_CAT_6_m2m_volumes_with_the_order_form_price(stock):
    contract = live(stock, "OR-M2M-10M-B")
    assert volumes(contract) == [v * MB for v in (10, 25, 50, 100, 250, 500)]
    bought = topup(contract, 10 * MB)
    assert bought.price_ht == Decimal("0.60") and bought.topup.code == "OR-TOP-M2M-10M"
    assert refused(contract, GB, confirm_repeat=True).rule == "R-CAT-6"


def test_R_CAT_10_price_copied_from_the_catalog_or_left_to_define(stock):
    contract = live(stock, "OR-ILL-10G-B")
    unset = topup(contract, 5 * GB)
    assert unset.price_ht is None  # « à définir »: the seed gives no price, none is invented
    Topup.objects.filter(code="OR-TOP-ILL-1G").update(price_ht=Decimal("3.50"))
    priced = topup(contract, GB, confirm_repeat=True)
    Topup.objects.filter(code="OR-TOP-ILL-1G").update(price_ht=Decimal("9.99"))
    priced.refresh_from_db()
    assert priced.price_ht == Decimal("3.50")  # copied at order time
    assert ContractEvent.objects.filter(
        contract=contract, message__startswith="Recharge de 1 Go commandée (3,50 € HT)"
    ).exists()


def test_R_CAT_4_no_topup_on_travel(stock):
    contract = live(stock, "OR-TRV-20G")
    assert volumes(contract) == []
    error = refused(contract, GB)
    assert error.rule == "R-CAT-4" and "upgrade" in error.message
    actions = {a.code: a for a in contract_possible_actions(contract)}
    assert not actions["topup"].enabled and actions["topup"].rule == "R-CAT-4"


def test_R_CAT_10_no_topup_on_a_suspended_line(stock):
    contract = live(stock, "OR-ILL-10G-B")
    lifecycle.contract_suspend(contract=contract)
    sweep()
    error = refused(contract, GB)
    assert error.rule == "R-CON-5" and "suspendue" in error.message
    assert not ContractTopup.objects.exists()


# --------------------------------------------------------------------------------------------------------
# Compteur (R-CAT-7)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["OR-CPT", "BY-CPTD"])
def test_R_CAT_7_compteur_topup_only_when_threshold_reached(stock, code):
    contract = live(stock, code)
    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=10 * GB)
    below = refused(contract, 5 * GB)
    assert below.rule == "R-CAT-7" and "seuil data" in below.message
    action = {a.code: a for a in contract_possible_actions(contract)}["topup"]
    assert not action.enabled and action.rule == "R-CAT-7" and "seuil data" in action.reason

    datablocks.contract_data_block(
        contract_id=contract.pk, scope="threshold", rule="R-CAT-7", reason="seuil de 10 Go atteint"
    )
    assert volumes(contract) == [v * GB for v in (1, 5, 10, 30, 50, 100)]
    assert {a.code: a for a in contract_possible_actions(contract)}["topup"].enabled
    assert refused(contract, 250 * GB).rule == "R-CAT-7"
    bought = topup(contract, 5 * GB)
    assert bought.topup.family == "illimite" and bought.topup.network == contract.network

    sweep()  # the operator confirms: the threshold block is lifted
    bought.refresh_from_db()
    assert bought.state == TState.CONFIRMED
    assert not DataBlock.objects.filter(contract=contract, lifted_at__isnull=True).exists()


# --------------------------------------------------------------------------------------------------------
# R-PRV-5 and the request key
# --------------------------------------------------------------------------------------------------------


def test_R_PRV_5_second_topup_within_30_minutes_refused_unless_confirmed(stock, time_machine):
    contract = live(stock, "OR-ILL-10G-B")
    first = topup(contract, 5 * GB)

    time_machine.move_to(TUESDAY_10H + dt.timedelta(minutes=29), tick=False)
    error = refused(contract, 5 * GB)
    assert error.rule == "R-PRV-5" and error.field == "confirm_repeat"
    assert error.message == (
        "Une recharge a été commandée il y a moins de 30 minutes : elle peut mettre jusqu'à 30 minutes à "
        "apparaître. La commander à nouveau la facturera deux fois. Confirmez pour la commander quand même."
    )
    sweep()  # confirmed meanwhile: still within 30 minutes of the order
    first.refresh_from_db()
    assert first.state == TState.CONFIRMED and refused(contract, GB).rule == "R-PRV-5"

    second = topup(contract, 5 * GB, confirm_repeat=True)  # « Commander quand même »
    assert second.pk != first.pk
    assert ContractEvent.objects.filter(
        contract=contract, message__contains="confirmé par l'utilisateur"
    ).exists()

    time_machine.move_to(TUESDAY_10H + dt.timedelta(minutes=29 + 31), tick=False)
    third = topup(contract, GB)  # 31 minutes after the last one: no warning
    assert ContractTopup.objects.filter(contract=contract).count() == 3 and third.state == TState.PENDING


def test_a_failed_topup_does_not_count_for_R_PRV_5(stock):
    contract = live(stock, "OR-ILL-10G-B")
    first = topup(contract, 5 * GB)
    outcomes.operator_request_failed(request_id=first.operator_request_id, error="Refus", final=True)
    first.refresh_from_db()
    assert first.state == TState.FAILED
    assert topup(contract, 5 * GB).pk != first.pk


def test_request_key_double_submit_makes_one_topup(stock):
    contract = live(stock, "OR-ILL-10G-B")
    first = topup(contract, 5 * GB, request_key="cle-page-1")
    again = topup(contract, 5 * GB, request_key="cle-page-1")  # a double click: no R-PRV-5 refusal either
    assert again.pk == first.pk
    assert ContractTopup.objects.count() == 1
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.TOPUP).count() == 1


# --------------------------------------------------------------------------------------------------------
# The operator's answer
# --------------------------------------------------------------------------------------------------------


def test_R_CAT_10_topup_confirmed_counts_for_its_month_and_lifts_the_data_block(stock, time_machine):
    contract = live(stock, "OR-ILL-10G-B")
    time_machine.move_to(paris(2027, 3, 31, 23, 50), tick=False)
    envelope = datablocks.contract_data_block(
        contract_id=contract.pk, scope="data", rule="R-ALR-1", reason="enveloppe atteinte"
    )
    roaming = datablocks.contract_data_block(
        contract_id=contract.pk, scope="roaming", zone="usa_canada", rule="R-ALR-3", reason="cut-off atteint"
    )
    bought = topup(contract, 5 * GB)
    assert bought.month is None and bought.operator_request.payload["volume_bytes"] == 5 * GB

    time_machine.move_to(paris(2027, 4, 1, 0, 5), tick=False)  # confirmed after midnight: April's volume
    sweep()
    bought.refresh_from_db()
    assert bought.state == TState.CONFIRMED and bought.month == dt.date(2027, 4, 1)
    assert bought.confirmed_at == paris(2027, 4, 1, 0, 5)
    envelope.refresh_from_db()
    roaming.refresh_from_db()
    assert not envelope.is_open and envelope.lift_reason == "Recharge de 5 Go confirmée"
    assert roaming.is_open  # R-CAT-4/10: a top-up feeds France + Europe, never a roaming zone
    unblock = OperatorRequest.objects.get(contract=contract, kind=RequestKind.UNBLOCK_DATA)
    assert unblock.payload["rule"] == "R-CAT-10" and unblock.payload["blocks"] == [
        {"scope": "data", "zone": ""}
    ]
    line = SimulatedOperatorLine.objects.get(network=contract.network, msisdn=contract.msisdn)
    assert line.topup_bytes == 5 * GB
    assert topup_volume_for_month([contract.pk], dt.date(2027, 4, 15)) == {contract.pk: 5 * GB}
    assert topup_volume_for_month([contract.pk], dt.date(2027, 3, 1)) == {}


def test_topup_volume_for_month_counts_confirmed_topups_only(stock, django_assert_num_queries):
    one = live(stock, "OR-ILL-10G-B")
    two = live(stock, "OR-DATA-20G-B")
    topup(one, 5 * GB)
    topup(two, 10 * GB)
    sweep()
    topup(one, GB, confirm_repeat=True)  # pending: not counted
    failed = topup(two, 20 * GB, confirm_repeat=True)
    outcomes.operator_request_failed(request_id=failed.operator_request_id, error="Refus", final=True)
    with django_assert_num_queries(1):
        totals = topup_volume_for_month([one.pk, two.pk], dt.date(2027, 3, 9))
    assert totals == {one.pk: 5 * GB, two.pk: 10 * GB}


def test_a_topup_failing_for_good_is_failed_with_the_operator_message(stock):
    contract = live(stock, "OR-ILL-10G-B")
    bought = topup(contract, 5 * GB)
    outcomes.operator_request_failed(request_id=bought.operator_request_id, error="Volume refusé", final=True)
    bought.refresh_from_db()
    contract.refresh_from_db()
    assert bought.state == TState.FAILED and bought.last_error == "Volume refusé"
    assert contract.last_error == "Volume refusé"


def test_terminating_the_line_cancels_a_topup_not_sent_yet(stock):
    contract = live(stock, "OR-ILL-10G-B")
    bought = topup(contract, 5 * GB)
    lifecycle.contract_terminate(contract=contract)
    bought.refresh_from_db()
    assert bought.state == TState.CANCELLED
    assert bought.operator_request.state == OperatorRequest.State.CANCELLED
