"""Lifecycle services (``contracts.lifecycle``, issue 4 item 4): every action from a line ordered and activated the
real way (``order_place`` → dispatcher → operator simulator) to the operator's confirmation, and the refusals.

R-CON-4..9, R-OPT-2/3/4/8, R-ORD-5, R-PRV-1/2/3, R-ALR-5. Real PostgreSQL; the clock is frozen with time-machine;
the sweep runs in-process with a zero-latency simulator (``test_lifecycle_support``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from catalog.models import Option
from contracts import datablocks, lifecycle, outcomes
from contracts.models import (
    Contract,
    ContractEvent,
    ContractOption,
    EsimActivation,
    OneOffFee,
    OperatorRequest,
    ScheduledChange,
)
from contracts.selectors import contract_possible_actions
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.networks import Network
from core.operator_kinds import RequestKind
from inventory import services as inventory_services
from inventory.models import EsimProfile, PhoneNumber, RetiredIdentifier, SimCard
from notifications.models import OutboxMessage
from provisioning.models import SimulatedOperatorLine
from tests.factories.inventory import make_iccid
from tests.factories.partners import ClientAccountFactory
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import (
    TUESDAY_10H,
    last_request,
    lifecycle_settings,
    live_line,
    order_line,
    paris,
    spare_sim,
    sweep,
)

pytestmark = pytest.mark.django_db

State = Contract.State
ReqState = OperatorRequest.State
OptStatus = ContractOption.Status


@pytest.fixture(autouse=True)
def _lifecycle(settings):
    lifecycle_settings(settings)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(TUESDAY_10H, tick=False)
    return time_machine


@pytest.fixture
def stock(clock):
    return Stock()


def operator_line(contract: Contract) -> SimulatedOperatorLine:
    contract.refresh_from_db()
    return SimulatedOperatorLine.objects.get(network=contract.network, msisdn=contract.msisdn)


def refused(call, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as info:
        call(**kwargs)
    return info.value


# --------------------------------------------------------------------------------------------------------
# Suspend / reactivate (R-CON-5)
# --------------------------------------------------------------------------------------------------------


def test_R_CON_5_suspend_then_resume_billing_goes_on(stock):
    contract = live_line(stock)
    options_before = list(ContractOption.objects.filter(contract=contract).values_list("code", "status"))
    fees_before = OneOffFee.objects.filter(contract=contract).count()

    request = lifecycle.contract_suspend(contract=contract)

    assert request.kind == RequestKind.SUSPEND and request.state == ReqState.PENDING
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE  # until the operator confirms
    asked = ContractEvent.objects.filter(contract=contract, data__operator_request=request.pk).first()
    assert "la facturation de l'abonnement continue (R-CON-5)" in asked.message

    sweep()

    contract.refresh_from_db()
    assert contract.state == State.SUSPENDED
    assert operator_line(contract).status == SimulatedOperatorLine.Status.SUSPENDED
    last = ContractEvent.objects.filter(contract=contract, to_state=State.SUSPENDED).get()
    assert "restent facturés (R-CON-5)" in last.message
    # R-CON-5: billing goes on — options and fees untouched
    assert (
        list(ContractOption.objects.filter(contract=contract).values_list("code", "status")) == options_before
    )
    assert OneOffFee.objects.filter(contract=contract).count() == fees_before

    lifecycle.contract_resume(contract=contract)
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE
    assert operator_line(contract).status == SimulatedOperatorLine.Status.ACTIVE


def test_R_CON_5_suspend_refusals(stock):
    contract = live_line(stock)
    assert refused(lifecycle.contract_resume, contract=contract).rule == "R-CON-5"  # not suspended
    lifecycle.contract_suspend(contract=contract)
    again = refused(lifecycle.contract_suspend, contract=contract)
    assert again.rule == "R-CON-5" and "déjà demandée" in again.message
    sweep()
    error = refused(lifecycle.contract_suspend, contract=contract)  # a suspended line
    assert error.rule == "R-CON-5" and error.message == "La ligne est déjà suspendue."
    assert error.field == "state"
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SUSPEND).count() == 1


def test_R_CON_8_no_action_on_a_line_being_activated(stock):
    contract = order_line(stock)  # not swept: En cours
    for call in (lifecycle.contract_suspend, lifecycle.contract_terminate):
        assert refused(call, contract=contract).message == "La ligne est en cours d'activation."
    assert refused(lifecycle.contract_option_add, contract=contract, option_code="fixed_ip").rule == "R-OPT-8"


def test_R_CON_9_possible_actions_follow_requests_in_flight(stock):
    contract = live_line(stock)
    lifecycle.contract_suspend(contract=contract)
    actions = {a.code: a for a in contract_possible_actions(Contract.objects.get(pk=contract.pk))}
    assert not actions["suspend"].enabled
    assert actions["suspend"].reason == "Une suspension est déjà demandée à l'opérateur."
    assert actions["terminate"].enabled


# --------------------------------------------------------------------------------------------------------
# Terminate (R-CON-6)
# --------------------------------------------------------------------------------------------------------


def test_R_CON_6_terminate_retires_number_and_sim_forever(stock):
    contract = live_line(stock, "bouygues")
    msisdn, iccid = contract.msisdn, contract.sim.iccid
    lifecycle.contract_option_add(contract=contract, option_code="fixed_ip")
    sweep()

    request = lifecycle.contract_terminate(contract=contract)

    contract.refresh_from_db()
    assert (
        contract.state == State.TERMINATING and contract.user_state == State.PENDING
    )  # "En cours" (R-CON-8)
    assert request.kind == RequestKind.TERMINATE
    sweep()

    contract.refresh_from_db()
    assert contract.state == State.TERMINATED and contract.terminated_at == TUESDAY_10H
    assert PhoneNumber.objects.get(msisdn=msisdn).state == PhoneNumber.State.RETIRED
    assert SimCard.objects.get(iccid=iccid).state == SimCard.State.RETIRED
    assert set(RetiredIdentifier.objects.values_list("kind", "value")) == {
        ("msisdn", msisdn),
        ("iccid", iccid),
    }
    assert not ContractOption.objects.filter(contract=contract).exclude(status=OptStatus.TERMINATED).exists()
    assert operator_line(contract).status == SimulatedOperatorLine.Status.TERMINATED
    event = ContractEvent.objects.get(contract=contract, to_state=State.TERMINATED)
    assert msisdn in event.message and iccid in event.message and "R-CON-6" in event.message

    # Never reallocated: neither chosen again, nor given to an order, nor drawn at random.
    from catalog.models import Offer

    offer = Offer.objects.get(code="BY-ILL-10G-B")
    with pytest.raises(RuleViolation) as number:
        order_place(
            partner=stock.partner,
            client=stock.client,
            created_by=None,
            offer=offer,
            quantity=1,
            lines=[LineSpec(msisdn=msisdn)],
        )
    assert number.value.rule == "R-CON-6"
    with pytest.raises(RuleViolation) as sim:
        order_place(
            partner=stock.partner,
            client=stock.client,
            created_by=None,
            offer=offer,
            quantity=1,
            lines=[LineSpec(iccid=iccid)],
        )
    assert sim.value.field == "lines[0].iccid" or sim.value.field == "iccid"
    others = order_place(
        partner=stock.partner, client=stock.client, created_by=None, offer=offer, quantity=5
    ).contracts.all()
    assert msisdn not in {c.msisdn for c in others} and iccid not in {c.sim.iccid for c in others}


def test_R_CON_6_terminate_twice_refused(stock):
    contract = live_line(stock)
    lifecycle.contract_terminate(contract=contract)
    in_progress = refused(lifecycle.contract_terminate, contract=contract)
    assert in_progress.rule == "R-CON-8" and "déjà en cours" in in_progress.message
    sweep()
    done = refused(lifecycle.contract_terminate, contract=contract)
    assert done.rule == "R-CON-6" and done.message == "La ligne est déjà résiliée."
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.TERMINATE).count() == 1


def test_R_CON_6_terminate_cancels_what_was_not_sent_and_gives_the_swap_sim_back(stock, time_machine):
    contract = live_line(stock)
    new_sim = spare_sim(stock)
    time_machine.move_to(paris(2027, 3, 14, 12), tick=False)  # Sunday: the Orange swap waits (R-PRV-1)
    swap = lifecycle.contract_sim_swap(contract=contract, iccid=new_sim.iccid)
    suspend = lifecycle.contract_suspend(contract=contract)
    sweep()  # the suspension goes (24/7), the swap is planned for Monday 07:00
    swap.refresh_from_db()
    assert swap.state == ReqState.PLANNED
    contract.refresh_from_db()
    assert contract.state == State.SUSPENDED

    lifecycle.contract_terminate(contract=contract)

    swap.refresh_from_db()
    suspend.refresh_from_db()
    assert swap.state == ReqState.CANCELLED and suspend.state == ReqState.COMPLETED
    new_sim.refresh_from_db()
    assert new_sim.state != SimCard.State.IN_USE  # back in the stock (assigned to the client)
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.TERMINATED  # from Suspendu


def test_R_CON_1_terminate_drops_the_scheduled_offer_change(stock):
    from catalog.models import Offer

    contract = live_line(stock)
    change = lifecycle.contract_offer_change(contract=contract, offer_code="OR-ILL-30G-B")
    assert change.state == ScheduledChange.State.SCHEDULED
    lifecycle.contract_terminate(contract=contract)
    change.refresh_from_db()
    assert change.state == ScheduledChange.State.CANCELLED
    assert Offer.objects.get(code="OR-ILL-30G-B") == change.to_offer


def test_R_CON_8_termination_refused_by_the_operator_puts_the_line_back(stock):
    contract = live_line(stock)
    lifecycle.contract_suspend(contract=contract)
    sweep()
    request = lifecycle.contract_terminate(contract=contract)
    outcomes.operator_request_failed(request_id=request.pk, error="Ligne verrouillée", final=True)
    contract.refresh_from_db()
    assert contract.state == State.SUSPENDED  # back where it was
    assert contract.last_error == "Ligne verrouillée"
    assert contract.sim.state == SimCard.State.IN_USE
    lifecycle.contract_terminate(contract=contract)  # may be asked again


# --------------------------------------------------------------------------------------------------------
# SIM swap (R-ORD-5, R-PRV-1/2/3, R-OPT-2)
# --------------------------------------------------------------------------------------------------------


def test_R_ORD_5_R_PRV_1_sim_swap_to_a_stock_sim_in_the_orange_window(stock, time_machine):
    contract = live_line(stock)
    old = contract.sim
    new_sim = spare_sim(stock)
    time_machine.move_to(paris(2027, 3, 13, 22, 30), tick=False)  # Saturday 22:30: Orange is closed

    request = lifecycle.contract_sim_swap(contract=contract, iccid=new_sim.iccid)

    new_sim.refresh_from_db()
    assert new_sim.state == SimCard.State.IN_USE and new_sim.client == stock.client  # set aside at once
    assert request.kind == RequestKind.SWAP_SIM and request.payload["iccid"] == new_sim.iccid
    sweep()
    request.refresh_from_db()
    assert request.state == ReqState.PLANNED and request.planned_at == paris(2027, 3, 15, 7)  # Monday 07:00
    contract.refresh_from_db()
    assert contract.sim_id == old.pk

    time_machine.move_to(paris(2027, 3, 15, 7), tick=False)
    sweep()

    contract.refresh_from_db()
    assert contract.sim_id == new_sim.pk and contract.sim_type == "pin"
    old.refresh_from_db()
    assert old.state == SimCard.State.RETIRED  # R-CON-6: the swapped-out SIM is never reused
    assert operator_line(contract).iccid == new_sim.iccid
    event = ContractEvent.objects.filter(contract=contract, kind=ContractEvent.Kind.RESOURCE).latest("id")
    assert new_sim.iccid in event.message and old.iccid in event.message


def test_R_ORD_5_R_PRV_3_bouygues_swap_to_the_client_assigned_sim_at_once(stock, time_machine):
    contract = live_line(stock, "bouygues")
    assigned = spare_sim(stock, Network.BOUYGUES)
    SimCard.objects.filter(pk=assigned.pk).update(state=SimCard.State.ASSIGNED, client=stock.client)
    time_machine.move_to(paris(2027, 3, 14, 3), tick=False)  # Sunday 03:00: Bouygues is open 24/7

    lifecycle.contract_sim_swap(contract=contract, iccid=assigned.iccid)
    sweep()

    contract.refresh_from_db()
    assert contract.sim_id == assigned.pk


@pytest.mark.parametrize(
    "case", ["other_client", "other_partner", "other_network", "in_use", "unknown", "invalid", "empty"]
)
def test_R_ORD_5_sim_swap_refused_for_a_sim_not_in_the_partner_or_client_stock(stock, case):
    contract = live_line(stock)
    other = live_line(stock)
    if case == "other_client":
        sim = spare_sim(stock)
        SimCard.objects.filter(pk=sim.pk).update(
            state=SimCard.State.ASSIGNED, client=ClientAccountFactory(partner=stock.partner)
        )
        iccid = sim.iccid
    elif case == "other_partner":
        iccid = spare_sim(Stock(base=500)).iccid
    elif case == "other_network":
        iccid = spare_sim(stock, Network.BOUYGUES).iccid
    elif case == "in_use":
        iccid = other.sim.iccid
    elif case == "unknown":
        iccid = make_iccid(999_999, series=8)
    elif case == "invalid":
        iccid = "8933019999999999999"  # wrong Luhn digit
    else:
        iccid = ""
    error = refused(lifecycle.contract_sim_swap, contract=contract, iccid=iccid)
    assert error.rule == "R-ORD-5" and error.field == "iccid"
    assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SWAP_SIM).exists()
    contract.refresh_from_db()
    assert contract.sim.state == SimCard.State.IN_USE


def test_R_OPT_2_swap_to_esim_refused_on_bouygues(stock):
    contract = live_line(stock, "bouygues")
    error = refused(
        lifecycle.contract_sim_swap,
        contract=contract,
        esim=True,
        contact_email="a@example.fr",
        contact_mobile="0611223344",
    )
    assert error.rule == "R-OPT-2"
    assert not EsimProfile.objects.exists()


@pytest.mark.parametrize(
    ("email", "mobile", "field"),
    [
        ("", "0611223344", "contact_email"),
        ("a@example.fr", "", "contact_mobile"),
        ("pas-un-mail", "0611", "contact_email"),
    ],
)
def test_R_ORD_5_swap_to_esim_needs_email_and_mobile(stock, email, mobile, field):
    contract = live_line(stock)
    error = refused(
        lifecycle.contract_sim_swap, contract=contract, esim=True, contact_email=email, contact_mobile=mobile
    )
    assert error.rule == "R-ORD-5" and error.field == field


def test_R_ORD_5_R_PRV_2_swap_to_esim_waits_for_the_esim_window_then_delivers(stock, time_machine):
    contract = live_line(stock)
    old_sim = contract.sim
    time_machine.move_to(paris(2027, 3, 12, 17, 45), tick=False)  # Friday 17:45: after 17:30

    request = lifecycle.contract_sim_swap(
        contract=contract, esim=True, contact_email="marie@example.fr", contact_mobile="06 11 22 33 44"
    )
    profile = EsimProfile.objects.get(pk=request.payload["new_esim_id"])
    assert request.kind == RequestKind.SWAP_SIM_ESIM and request.payload["iccid"] == profile.iccid
    sweep()
    request.refresh_from_db()
    assert request.planned_at == paris(2027, 3, 15, 9)  # Monday 09:00 (R-PRV-2)

    time_machine.move_to(paris(2027, 3, 15, 9), tick=False)
    sweep()

    contract.refresh_from_db()
    assert contract.esim_id == profile.pk and contract.sim_id is None and contract.sim_type == "esim"
    assert contract.contact_email == "marie@example.fr" and contract.contact_mobile == "0611223344"
    old_sim.refresh_from_db()
    profile.refresh_from_db()
    assert old_sim.state == SimCard.State.RETIRED and profile.state == EsimProfile.State.IN_USE
    assert OneOffFee.objects.filter(
        contract=contract, kind=OneOffFee.Kind.ESIM, amount_ht=Decimal("1.50")
    ).exists()
    assert ContractOption.objects.get(contract=contract, code="esim").status == OptStatus.ACTIVE
    # R-ORD-4: the eSIM is delivered (email + SMS queued in the outbox) with the code the operator holds
    assert EsimActivation.objects.get(esim=profile).confirmed_at is not None
    assert (
        OutboxMessage.objects.filter(
            partner=stock.partner, dedup_key__startswith=f"esim:{contract.pk}:"
        ).count()
        == 2
    )


def test_R_ORD_5_failed_swap_gives_a_partner_stock_sim_back_to_the_partner(stock):
    contract = live_line(stock)
    new_sim = spare_sim(stock)
    request = lifecycle.contract_sim_swap(contract=contract, iccid=new_sim.iccid)
    outcomes.operator_request_failed(request_id=request.pk, error="SIM inconnue", final=True)
    new_sim.refresh_from_db()
    contract.refresh_from_db()
    assert new_sim.state == SimCard.State.IN_STOCK and new_sim.client is None
    assert contract.sim.state == SimCard.State.IN_USE and contract.last_error == "SIM inconnue"
    lifecycle.contract_sim_swap(contract=contract, iccid=new_sim.iccid)  # the SIM may be used again


def test_R_SC_7_failed_swap_gives_a_client_sim_back_to_the_client(stock):
    contract = live_line(stock)
    new_sim = spare_sim(stock)
    inventory_services.sim_assign(partner=stock.partner, client=stock.client, iccids=[new_sim.iccid])
    request = lifecycle.contract_sim_swap(contract=contract, iccid=new_sim.iccid)
    outcomes.operator_request_failed(request_id=request.pk, error="SIM inconnue", final=True)
    new_sim.refresh_from_db()
    assert new_sim.state == SimCard.State.ASSIGNED and new_sim.client == stock.client


def test_R_ORD_5_one_swap_at_a_time(stock):
    contract = live_line(stock)
    lifecycle.contract_sim_swap(contract=contract, iccid=spare_sim(stock).iccid)
    assert (
        refused(lifecycle.contract_sim_swap, contract=contract, iccid=spare_sim(stock).iccid).rule
        == "R-ORD-5"
    )


# --------------------------------------------------------------------------------------------------------
# Options (R-OPT-3, R-OPT-8)
# --------------------------------------------------------------------------------------------------------


def test_R_OPT_8_add_an_option_to_a_live_line(stock):
    contract = live_line(stock)
    assert "fixed_ip" in {o.code for o in lifecycle.addable_options(contract)}

    lifecycle.contract_option_add(contract=contract, option_code="fixed_ip")

    option = ContractOption.objects.get(contract=contract, code="fixed_ip")
    assert option.status == OptStatus.PENDING and option.monthly_fee_ht == Decimal(
        "5.00"
    )  # R-OPT-3: 5 €/month
    sweep()
    option.refresh_from_db()
    assert option.status == OptStatus.ACTIVE and option.activated_at == TUESDAY_10H
    assert "fixed_ip" in operator_line(contract).options
    assert "fixed_ip" not in {o.code for o in lifecycle.addable_options(contract)}
    again = refused(lifecycle.contract_option_add, contract=contract, option_code="fixed_ip")
    assert again.rule == "R-OPT-8"


@pytest.mark.parametrize(
    ("offer_key", "code", "init_sys", "allowed", "rule"),
    [
        ("orange", "fixed_ip", False, True, "R-OPT-3"),  # Orange blocked plan
        ("orange_nb", "fixed_ip", False, False, "R-OPT-3"),  # Orange non-blocked plan: refused
        ("bouygues", "fixed_ip", False, True, "R-OPT-3"),  # Bouygues: blocked or not
        ("orange", "partner_platform", False, False, "R-OPT-3"),  # Init Sys partners only
        ("orange", "partner_platform", True, True, "R-OPT-3"),
        ("orange_data", "conference", False, False, "R-OPT-6"),  # no calls on Data only
        ("orange", "volte_vowifi", False, False, "R-OPT-1"),  # free, nothing to order
        ("orange", "esim", False, False, "R-OPT-2"),  # an eSIM is a SIM swap
        ("orange", "sva_block", False, False, "R-CAT-1"),  # a Bouygues option
    ],
)
def test_R_OPT_3_option_eligibility_on_a_live_line(stock, offer_key, code, init_sys, allowed, rule):
    stock.partner.is_init_sys = init_sys
    stock.partner.save(update_fields=["is_init_sys"])
    contract = live_line(stock, offer_key)
    if allowed:
        lifecycle.contract_option_add(contract=contract, option_code=code)
        assert ContractOption.objects.filter(contract=contract, code=code, status=OptStatus.PENDING).exists()
    else:
        error = refused(lifecycle.contract_option_add, contract=contract, option_code=code)
        assert error.rule == rule and error.field == "option"
        assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.ADD_OPTION).exists()


def test_R_OPT_3_orange_option_ends_on_the_first_of_next_month(stock, time_machine):
    contract = live_line(stock)
    lifecycle.contract_option_add(contract=contract, option_code="fixed_ip")
    sweep()
    option = ContractOption.objects.get(contract=contract, code="fixed_ip")

    lifecycle.contract_option_terminate(contract=contract, contract_option=option)
    sweep()

    option.refresh_from_db()
    first_of_april = paris(2027, 4, 1)
    assert option.status == OptStatus.TERMINATING and option.ended_at == first_of_april
    assert "fixed_ip" not in operator_line(contract).options
    assert lifecycle.contract_options_end_due(now=first_of_april - timedelta(seconds=1)) == 0
    time_machine.move_to(first_of_april, tick=False)
    assert lifecycle.contract_options_end_due() == 1
    option.refresh_from_db()
    assert option.status == OptStatus.TERMINATED


def test_R_OPT_3_bouygues_option_ends_at_once(stock):
    contract = live_line(stock, "bouygues", option_codes=["fixed_ip"])
    option = ContractOption.objects.get(contract=contract, code="fixed_ip")
    assert option.status == OptStatus.ACTIVE

    lifecycle.contract_option_terminate(contract=contract, contract_option=option)
    option.refresh_from_db()
    assert option.status == OptStatus.TERMINATING and option.ended_at is None
    sweep()

    option.refresh_from_db()
    assert option.status == OptStatus.TERMINATED and option.ended_at == TUESDAY_10H
    again = refused(lifecycle.contract_option_terminate, contract=contract, contract_option=option)
    assert again.rule == "R-OPT-8"


def test_R_OPT_8_an_option_cannot_be_suspended(stock):
    contract = live_line(stock, "bouygues", option_codes=["fixed_ip"])
    option = ContractOption.objects.get(contract=contract, code="fixed_ip")
    error = refused(lifecycle.contract_option_suspend, contract=contract, contract_option=option)
    assert error.rule == "R-OPT-8" and "ne peut pas être suspendue" in error.message
    assert "suspended" not in ContractOption.Status.values  # no such state either
    option.refresh_from_db()
    assert option.status == OptStatus.ACTIVE
    assert (
        not OperatorRequest.objects.filter(contract=contract).exclude(kind=RequestKind.CREATE_LINE).exists()
    )


def test_R_OPT_4_roaming_and_esim_rows_are_not_terminated_as_options(stock):
    contract = live_line(stock)
    roaming = ContractOption.objects.filter(contract=contract, zone="usa_canada").get()
    assert (
        refused(lifecycle.contract_option_terminate, contract=contract, contract_option=roaming).rule
        == "R-OPT-4"
    )


def test_R_OPT_8_failed_option_add_is_dropped(stock):
    contract = live_line(stock)
    request = lifecycle.contract_option_add(contract=contract, option_code="conference")
    outcomes.operator_request_failed(request_id=request.pk, error="Refus", final=True)
    option = ContractOption.objects.get(contract=contract, code="conference")
    assert option.status == OptStatus.TERMINATED and option.activated_at is None
    lifecycle.contract_option_add(contract=contract, option_code="conference")  # may be asked again


def test_R_OPT_3_option_fas_recorded_when_the_operator_confirms(stock):
    Option.objects.filter(network=Network.ORANGE, code="conference").update(fas_ht=Decimal("3.00"))
    contract = live_line(stock)
    lifecycle.contract_option_add(contract=contract, option_code="conference")
    assert not OneOffFee.objects.filter(contract=contract, kind=OneOffFee.Kind.OPTION).exists()
    sweep()
    assert OneOffFee.objects.get(contract=contract, kind=OneOffFee.Kind.OPTION).amount_ht == Decimal("3.00")


# --------------------------------------------------------------------------------------------------------
# Roaming changed within the month (R-OPT-4, R-ALR-5)
# --------------------------------------------------------------------------------------------------------


def test_R_OPT_4_R_CON_4_roaming_option_changed_within_the_month_both_billed_envelope_replaced(
    stock, time_machine
):
    contract = live_line(stock)
    cutoff = lifecycle.roaming_envelope(contract, "usa_canada")
    assert cutoff.code == "OR-ROA-ILL-USCA-CUT-0"  # the order's default: the lowest cut-off
    # usage blocked the zone at its cut-off (R-ALR-3); the partner changes the choice: unblocked at once (R-ALR-5)
    block = datablocks.contract_data_block(
        contract_id=contract.pk, scope="roaming", zone="usa_canada", rule="R-ALR-3", reason="cut-off atteint"
    )
    sweep()

    request = lifecycle.contract_roaming_change(
        contract=contract, zone="usa_canada", choice_code="OR-ROA-ILL-USCA-OPT-5G"
    )
    unblock = last_request(contract, RequestKind.UNBLOCK_DATA)
    assert request.kind == RequestKind.ADD_OPTION and unblock.payload["rule"] == "R-ALR-5"
    assert unblock.payload["blocks"] == [{"scope": "roaming", "zone": "usa_canada"}]
    block.refresh_from_db()
    assert block.lifted_at is not None and block.lift_request_id == unblock.pk
    sweep()
    five = lifecycle.roaming_envelope(contract, "usa_canada")
    assert five.code == "OR-ROA-ILL-USCA-OPT-5G" and five.monthly_fee_ht == Decimal("45.00")

    time_machine.move_to(paris(2027, 3, 20, 10), tick=False)  # later the same month
    lifecycle.contract_roaming_change(
        contract=contract, zone="usa_canada", choice_code="OR-ROA-ILL-USCA-OPT-10G"
    )
    sweep()

    ten = lifecycle.roaming_envelope(contract, "usa_canada")
    assert ten.code == "OR-ROA-ILL-USCA-OPT-10G" and ten.roaming_choice.limit == 10 * 10**9  # not 15 Go
    five.refresh_from_db()
    assert five.status == OptStatus.TERMINATED and five.ended_at == paris(2027, 3, 20, 10)
    billed = lifecycle.options_billed_for_month(contract, 2027, 3)
    roaming_fees = sorted(o.monthly_fee_ht for o in billed if o.zone == "usa_canada" and o.monthly_fee_ht)
    assert roaming_fees == [Decimal("45.00"), Decimal("85.00")]  # both billed
    assert [
        o.code for o in lifecycle.options_billed_for_month(contract, 2027, 4) if o.zone == "usa_canada"
    ] == ["OR-ROA-ILL-USCA-OPT-10G"]
    messages = list(ContractEvent.objects.filter(contract=contract).values_list("message", flat=True))
    assert any("R-OPT-4" in m and "ne s'additionnent pas" in m for m in messages)
    assert any("débloquée par l'opérateur (USA/Canada)" in m for m in messages)
    # the second change found nothing blocked: no second unblock request (R-ALR-5 has nothing to lift)
    assert (
        OperatorRequest.objects.filter(
            contract=contract, kind=RequestKind.UNBLOCK_DATA, state=ReqState.COMPLETED
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("offer_key", "zone", "choice", "rule"),
    [
        ("orange", "europe", "OR-ROA-ILL-USCA-OPT-5G", "R-ROA-3"),  # Europe = the plan's envelope
        ("orange", "usa_canada", "OR-ROA-ILL-USCA-CUT-0", "R-OPT-4"),  # already the zone's choice
        ("orange", "usa_canada", "OR-ROA-ILL-MT-OPT-5G", "R-OPT-5"),  # another zone's choice
        ("orange", "usa_canada", "OR-ROA-TRV-MT-DATA-1G", "R-OPT-5"),  # a Travel choice
        ("orange_data", "usa_canada", "OR-ROA-ILL-USCA-OPT-5G", "R-CAT-5"),  # no roaming on Data only
    ],
)
def test_R_OPT_4_roaming_change_refusals(stock, offer_key, zone, choice, rule):
    contract = live_line(stock, offer_key)
    error = refused(lifecycle.contract_roaming_change, contract=contract, zone=zone, choice_code=choice)
    assert error.rule == rule
    assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.ADD_OPTION).exists()


# --------------------------------------------------------------------------------------------------------
# Offer changes (R-CON-1..3) and retry (R-CON-7)
# --------------------------------------------------------------------------------------------------------


def test_R_CON_1_offer_change_scheduled_then_cancelled_through_lifecycle(stock):
    contract = live_line(stock)
    migrations = [o for o, _d in lifecycle.offer_change_targets(contract, "migrate")]
    assert "OR-ILL-10G-NB" in {o.code for o in migrations} and not any(o.blocked for o in migrations)
    speeds = lifecycle.offer_change_targets(contract, "change_speed")
    assert {d.kind for _o, d in speeds} == {"upgrade", "downgrade"} and not any(
        o.blocked is False for o, _d in speeds
    )
    change = lifecycle.contract_offer_change(contract=contract, offer_code="OR-ILL-30G-B")
    assert change.kind == "upgrade" and change.effective_at == paris(2027, 4, 1)
    assert lifecycle.pending_offer_change(contract) == change
    cancelled = lifecycle.contract_offer_change_cancel(contract=contract)
    assert cancelled.state == ScheduledChange.State.CANCELLED
    assert refused(lifecycle.contract_offer_change_cancel, contract=contract).rule == "R-CON-1"


def test_R_CON_3_offer_change_across_ranges_refused(stock):
    contract = live_line(stock)
    assert (
        refused(lifecycle.contract_offer_change, contract=contract, offer_code="OR-DATA-20G-B").rule
        == "R-CON-3"
    )


def test_R_CON_7_retry_a_failed_activation(stock, settings):
    contract = order_line(stock)
    creation = last_request(contract)
    outcomes.operator_request_failed(request_id=creation.pk, error="Opérateur indisponible", final=True)
    contract.refresh_from_db()
    assert contract.state == State.FAILED
    actions = {a.code: a for a in contract_possible_actions(contract)}
    assert actions["retry"].enabled

    lifecycle.contract_retry(contract=contract)
    contract.refresh_from_db()
    assert contract.state == State.PENDING
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE
    assert refused(lifecycle.contract_retry, contract=contract).rule == "R-CON-8"  # nothing to retry


# --------------------------------------------------------------------------------------------------------
# Concurrency: the contract row lock (STYLE 5, 27)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_R_CON_5_two_concurrent_suspensions_make_one_operator_request(stock):
    import threading

    from django.db import connection

    contract = live_line(stock)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def suspend() -> None:
        try:
            barrier.wait()
            lifecycle.contract_suspend(contract=contract)
            results.append("ok")
        except RuleViolation as exc:
            results.append(exc.rule)
        finally:
            connection.close()

    threads = [threading.Thread(target=suspend) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["R-CON-5", "ok"]
    assert OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SUSPEND).count() == 1
