"""``contracts.datablocks``: data blocks asked by ``usage`` (R-ALR-1..3, R-CAT-7/8), the Orange SMS bar (R-CAT-11),
their lifting (one ``unblock_data`` request, R-ALR-5) and the month rollover; the data threshold of compteur lines
(R-CAT-7/8). Lines made the real way (``order_place`` → dispatcher → zero-latency simulators), clock frozen."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from catalog.models import Offer
from contracts import datablocks, outcomes
from contracts.models import Contract, ContractEvent, DataBlock, OperatorRequest
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.money import GB
from core.operator_kinds import RequestKind
from provisioning.models import SimulatedOperatorLine
from tests.factories.contracts import ContractFactory
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import TUESDAY_10H, last_request, lifecycle_settings, live_line, paris, sweep

Scope = DataBlock.Scope
ReqState = OperatorRequest.State


@pytest.fixture(autouse=True)
def _lifecycle(settings):
    lifecycle_settings(settings)


@pytest.fixture
def stock(db, time_machine):
    time_machine.move_to(TUESDAY_10H, tick=False)
    return Stock()


def live(stock: Stock, code: str) -> Contract:
    """A line of the catalog offer ``code``, activated by the operator."""
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


def block(
    contract: Contract,
    scope: str = "data",
    zone: str = "",
    rule: str = "R-ALR-1",
    reason="enveloppe atteinte",
):
    return datablocks.contract_data_block(
        contract_id=contract.pk, scope=scope, zone=zone, rule=rule, reason=reason
    )


def operator_line(contract: Contract) -> SimulatedOperatorLine:
    return SimulatedOperatorLine.objects.get(network=contract.network, msisdn=contract.msisdn)


def requests(contract: Contract, kind: str) -> list[OperatorRequest]:
    return list(OperatorRequest.objects.filter(contract=contract, kind=kind).order_by("id"))


# --------------------------------------------------------------------------------------------------------
# Blocks (R-ALR-1..3)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_ALR_1_data_block_writes_the_block_request_and_the_operator_blocks(stock):
    contract = live_line(stock)

    data_block = block(contract)

    assert data_block.scope == Scope.DATA and data_block.is_open and data_block.rule == "R-ALR-1"
    request = data_block.block_request
    assert request.kind == RequestKind.BLOCK_DATA and request.payload["scope"] == "data"
    assert request.payload["zone"] == "" and request.payload["msisdn"] == contract.msisdn
    assert data_block.label == "Data bloquée (France et Europe, enveloppe atteinte)"
    assert ContractEvent.objects.filter(
        contract=contract,
        message="Blocage demandé à l'opérateur : Data bloquée (France et Europe, enveloppe atteinte).",
    ).exists()

    sweep()
    request.refresh_from_db()
    assert request.state == ReqState.COMPLETED
    line = operator_line(contract)
    assert line.data_blocked and line.data_blocks == ["data"]
    assert ContractEvent.objects.filter(
        contract=contract, message__startswith="Blocage effectué par l'opérateur"
    ).exists()


@pytest.mark.django_db
def test_R_ALR_1_block_is_exactly_once(stock):
    contract = live_line(stock)
    first = block(contract)
    second = block(contract, reason="encore")

    assert first is not None and second is None
    assert len(requests(contract, RequestKind.BLOCK_DATA)) == 1
    assert DataBlock.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_R_ALR_3_roaming_blocks_are_per_zone(stock):
    contract = live_line(stock)
    usa = block(contract, "roaming", "usa_canada", "R-ALR-3", "cut-off atteint")
    maghreb = block(contract, "roaming", "maghreb_turquie", "R-ALR-3", "cut-off atteint")
    assert block(contract, "roaming", "usa_canada", "R-ALR-3", "cut-off atteint") is None

    assert usa.label == "Data bloquée (USA/Canada, cut-off atteint)" and maghreb.zone == "maghreb_turquie"
    assert [r.payload["zone"] for r in requests(contract, RequestKind.BLOCK_DATA)] == [
        "usa_canada",
        "maghreb_turquie",
    ]
    sweep()
    assert sorted(operator_line(contract).data_blocks) == ["roaming:maghreb_turquie", "roaming:usa_canada"]
    with pytest.raises(ValueError):
        block(contract, "roaming", "", "R-ALR-3", "sans zone")
    with pytest.raises(ValueError):
        block(contract, "sms", "", "R-CAT-11", "pas par ici")


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["pending", "terminating", "terminated", "failed"])
def test_block_on_a_line_that_is_not_live_is_ignored(state):
    contract = ContractFactory(state=state)
    assert block(contract) is None
    assert not DataBlock.objects.exists() and not OperatorRequest.objects.exists()


@pytest.mark.django_db
def test_R_ALR_1_block_of_a_suspended_line_is_written():
    contract = ContractFactory(state=Contract.State.SUSPENDED)
    assert block(contract) is not None


@pytest.mark.django_db
def test_a_block_refused_by_the_operator_is_closed_so_it_may_be_asked_again(stock):
    contract = live_line(stock)
    first = block(contract)
    outcomes.operator_request_failed(request_id=first.block_request_id, error="Refus opérateur", final=True)

    first.refresh_from_db()
    contract.refresh_from_db()
    assert first.lifted_at is not None and "Refus opérateur" in first.lift_reason
    assert contract.last_error == "Refus opérateur"
    again = block(contract)
    assert again is not None and again.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_R_ALR_1_concurrent_blocks_make_one_block_and_one_request():
    contract = ContractFactory(state=Contract.State.ACTIVE)
    barrier = threading.Barrier(4)
    results: list = [None] * 4

    def worker(i):
        try:
            barrier.wait(timeout=30)
            results[i] = block(contract, reason=f"appel {i}")
        except Exception as exc:  # checked below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if isinstance(r, DataBlock)) == 1
    assert results.count(None) == 3
    assert DataBlock.objects.filter(contract=contract).count() == 1
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.BLOCK_DATA).count() == 1


# --------------------------------------------------------------------------------------------------------
# Lifting (R-ALR-5 roaming change: tests/contracts/test_lifecycle.py; top-ups: test_topups.py)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unblock_lifts_every_matching_block_with_one_request(stock):
    contract = live_line(stock)
    block(contract)
    block(contract, "roaming", "usa_canada", "R-ALR-3", "cut-off atteint")
    block(contract, "roaming", "reste_du_monde", "R-ALR-3", "cut-off atteint")
    sweep()

    only_usa = datablocks.contract_data_unblock(
        contract=contract, scope="roaming", zone="usa_canada", rule="R-ALR-5", reason="choix modifié"
    )
    assert only_usa.payload["blocks"] == [{"scope": "roaming", "zone": "usa_canada"}]
    rest = datablocks.contract_data_unblock(contract=contract, rule="R-CAT-10", reason="geste commercial")
    assert sorted((b["scope"], b["zone"]) for b in rest.payload["blocks"]) == [
        ("data", ""),
        ("roaming", "reste_du_monde"),
    ]
    assert datablocks.contract_data_unblock(contract=contract, rule="R-CAT-10", reason="rien") is None
    assert len(requests(contract, RequestKind.UNBLOCK_DATA)) == 2
    assert not DataBlock.objects.filter(contract=contract, lifted_at__isnull=True).exists()
    assert DataBlock.objects.get(contract=contract, scope="data").lift_reason == "geste commercial"

    sweep()
    line = operator_line(contract)
    assert not line.data_blocked and line.data_blocks == []


# --------------------------------------------------------------------------------------------------------
# SMS bar (R-CAT-11)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_CAT_11_orange_sms_bar_for_3_days_then_closed_without_request(stock, time_machine):
    contract = live_line(stock)
    bar = datablocks.contract_sms_bar(contract_id=contract.pk, reason="plus de 500 SMS en une heure")

    assert bar.scope == Scope.SMS and bar.lift_at == TUESDAY_10H + dt.timedelta(days=3)
    assert bar.block_request.kind == RequestKind.BAR_SMS and bar.block_request.payload["days"] == 3
    assert datablocks.contract_sms_bar(contract_id=contract.pk, reason="encore") is None  # exactly once
    sweep()
    assert operator_line(contract).sms_barred_until == TUESDAY_10H + dt.timedelta(days=3)
    assert ContractEvent.objects.filter(
        contract=contract, message__startswith="Envois de SMS bloqués"
    ).exists()

    time_machine.move_to(TUESDAY_10H + dt.timedelta(days=2, hours=23), tick=False)
    assert datablocks.data_blocks_lift_due() == 0
    time_machine.move_to(TUESDAY_10H + dt.timedelta(days=3, minutes=1), tick=False)
    assert datablocks.data_blocks_lift_due() == 1
    bar.refresh_from_db()
    assert bar.lifted_at == bar.lift_at
    assert not requests(contract, RequestKind.UNBLOCK_DATA)  # the operator lifts it by itself
    assert datablocks.contract_sms_bar(contract_id=contract.pk, reason="à nouveau") is not None


@pytest.mark.django_db
def test_R_CAT_11_no_sms_bar_on_bouygues(stock):
    contract = live_line(stock, "bouygues")
    assert datablocks.contract_sms_bar(contract_id=contract.pk, reason="plus de 500 SMS") is None
    assert not DataBlock.objects.exists()


# --------------------------------------------------------------------------------------------------------
# The month rollover
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_ALR_1_new_month_lifts_the_blocks_of_the_month_before(stock, time_machine):
    contract = live_line(stock)
    other = live_line(stock, "bouygues")
    time_machine.move_to(paris(2027, 3, 20, 10), tick=False)
    block(contract)
    block(contract, "roaming", "usa_canada", "R-ALR-3", "cut-off atteint")
    block(other, "data")
    time_machine.move_to(paris(2027, 3, 30, 10), tick=False)
    bar = datablocks.contract_sms_bar(contract_id=contract.pk, reason="plus de 500 SMS")  # until 2 April
    sweep()

    time_machine.move_to(paris(2027, 3, 31, 23, 59, 59), tick=False)
    assert datablocks.data_blocks_lift_due() == 0
    time_machine.move_to(paris(2027, 4, 1, 0, 0), tick=False)  # 00:00 Paris on the 1st

    assert datablocks.data_blocks_lift_due() == 3
    unblocks = requests(contract, RequestKind.UNBLOCK_DATA)
    assert len(unblocks) == 1 and len(unblocks[0].payload["blocks"]) == 2  # one request per line
    assert len(requests(other, RequestKind.UNBLOCK_DATA)) == 1
    assert set(
        DataBlock.objects.filter(scope__in=["data", "roaming"]).values_list("lift_reason", flat=True)
    ) == {"Nouveau mois"}
    bar.refresh_from_db()
    assert bar.lifted_at is None  # an SMS bar ends after its 3 days, not with the month

    fresh = block(contract)  # the new month's own block is not lifted by a second run
    assert datablocks.data_blocks_lift_due() == 0
    fresh.refresh_from_db()
    assert fresh.is_open
    sweep()
    assert operator_line(other).data_blocked is False


# --------------------------------------------------------------------------------------------------------
# Data threshold of compteur lines (R-CAT-7, R-CAT-8)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "rule"), [("OR-CPT", "R-CAT-7"), ("BY-CPTD", "R-CAT-8")])
def test_R_CAT_7_R_CAT_8_threshold_from_1_to_100_go_on_compteur_offers(stock, code, rule):
    contract = live(stock, code)

    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=5 * GB)
    contract.refresh_from_db()
    assert contract.data_threshold_bytes == 5 * GB
    assert ContractEvent.objects.filter(contract=contract, message="Seuil data : aucun → 5 Go.").exists()

    for wrong in (GB - 1, 100 * GB + 1):
        with pytest.raises(RuleViolation) as refused:
            datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=wrong)
        assert refused.value.rule == rule and refused.value.field == "threshold_bytes"
        assert "entre 1 Go et 100 Go" in refused.value.message
    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=100 * GB)
    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=None)
    contract.refresh_from_db()
    assert contract.data_threshold_bytes is None


@pytest.mark.django_db
def test_R_CAT_7_no_threshold_on_a_plan(stock):
    contract = live_line(stock)
    with pytest.raises(RuleViolation) as refused:
        datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=5 * GB)
    assert refused.value.rule == "R-CAT-7" and "Compteur" in refused.value.message


@pytest.mark.django_db
def test_R_CAT_7_raising_the_threshold_lifts_the_threshold_block_lowering_does_not(stock):
    contract = live(stock, "OR-CPT")
    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=10 * GB)
    reached = block(contract, "threshold", rule="R-CAT-7", reason="seuil de 10 Go atteint")
    assert reached.label == "Data bloquée (seuil data, seuil de 10 Go atteint)"

    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=5 * GB)  # lower: still blocked
    reached.refresh_from_db()
    assert reached.is_open and not requests(contract, RequestKind.UNBLOCK_DATA)

    datablocks.contract_data_threshold_set(contract=contract, threshold_bytes=20 * GB)
    reached.refresh_from_db()
    assert not reached.is_open and reached.lift_reason == "Seuil data relevé à 20 Go"
    unblock = last_request(contract, RequestKind.UNBLOCK_DATA)
    assert unblock.payload["blocks"] == [{"scope": "threshold", "zone": ""}]
