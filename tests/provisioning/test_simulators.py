"""Operator simulators behind the OperatorPort: windows (R-PRV-1..4), idempotency, latency, failures,
numbering (R-CAT-5/6), retirement of numbers and SIMs (R-CON-6), top-ups (R-PRV-5), option ends (R-OPT-3)."""

import random
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning import rules
from provisioning.adapters import get_operator
from provisioning.errors import OperatorRefusal, OperatorTransientError, OperatorWindowClosed
from provisioning.kinds import RequestKind as K
from provisioning.models import SimulatedIdentifier, SimulatedOperatorLine, SimulatedOperatorRequest
from provisioning.ports import OperatorPort, RequestState
from provisioning.simulators import simulator_tick
from provisioning.simulators.bouygues import BouyguesSimulator
from provisioning.simulators.orange import OrangeSimulator

from .conftest import new_iccid, paris

pytestmark = pytest.mark.django_db

FOURTEEN_DIGITS = re.compile(r"^0700\d{10}$")
TEN_DIGITS = re.compile(r"^0[67]\d{8}$")


def create_payload(**extra):
    return {"offer_code": "ILL-10G", "range": "illimite", "iccid": new_iccid(), **extra}


def settle(sim, ticket, time_machine, seconds=60):
    time_machine.shift(timedelta(seconds=seconds))
    return sim.request_status(ticket.reference)


def active_line(sim, time_machine, key="line-1", **extra):
    ticket = sim.create_line(key=key, payload=create_payload(**extra))
    status = settle(sim, ticket, time_machine)
    assert status.state == RequestState.COMPLETED, status.error
    return status.result


# --- windows: the simulator is the operator, it refuses outside its hours --------------------------------------


def test_R_PRV_1_orange_refuses_creation_on_sunday_bouygues_accepts(time_machine, orange, bouygues):
    time_machine.move_to(paris(2027, 3, 7, 12), tick=False)  # Sunday
    with pytest.raises(OperatorWindowClosed) as closed:
        orange.create_line(key="k-sunday", payload=create_payload())
    assert closed.value.next_opening == paris(2027, 3, 8, 7)
    assert closed.value.rule == "R-PRV-1"
    assert "08/03/2027 07:00" in closed.value.message
    assert not SimulatedOperatorRequest.objects.filter(network="orange").exists()

    ticket = bouygues.create_line(key="k-sunday", payload=create_payload(iccid=new_iccid("20")))
    assert ticket.status == "accepted" and not ticket.duplicate
    assert (
        SimulatedOperatorRequest.objects.filter(network="bouygues", idempotency_key="k-sunday").count() == 1
    )


@pytest.mark.parametrize(
    ("at", "accepted"),
    [(paris(2027, 3, 6, 21, 59), True), (paris(2027, 3, 6, 22, 0), False)],
    ids=["saturday-21:59", "saturday-22:00"],
)
def test_R_PRV_1_orange_saturday_evening_edge(time_machine, orange, at, accepted):
    time_machine.move_to(at, tick=False)
    if accepted:
        assert orange.create_line(key="k", payload=create_payload()).reference.startswith("ORA-")
    else:
        with pytest.raises(OperatorWindowClosed) as closed:
            orange.create_line(key="k", payload=create_payload())
        assert closed.value.next_opening == paris(2027, 3, 8, 7)


def test_R_PRV_2_orange_esim_refused_friday_17_31(time_machine, orange):
    time_machine.move_to(paris(2027, 3, 5, 17, 31), tick=False)
    with pytest.raises(OperatorWindowClosed) as closed:
        orange.create_line(key="esim-1", payload={"offer_code": "ILL-10G", "range": "illimite", "esim": True})
    assert (closed.value.next_opening, closed.value.rule) == (paris(2027, 3, 8, 9), "R-PRV-2")
    # The physical-SIM creation is still open at that time (R-PRV-1).
    assert orange.create_line(key="sim-1", payload=create_payload()).kind == K.CREATE_LINE


def test_R_PRV_2_orange_esim_line_gets_profile(weekday, orange):
    ticket = orange.create_line(
        key="esim-1", payload={"offer_code": "ILL-10G", "range": "illimite", "esim": True}
    )
    assert ticket.kind == K.CREATE_LINE_ESIM
    result = settle(orange, ticket, weekday).result
    assert result["esim"] is True
    assert re.fullmatch(r"LPA:1\$[^$]+\$[A-Z0-9]{5}(-[A-Z0-9]{5}){3}\$\$1", result["activation_code"])
    assert re.fullmatch(r"\d{6}", result["confirmation_code"])
    assert re.fullmatch(r"893301\d{13}", result["iccid"])


@pytest.mark.parametrize("kind", [K.CREATE_LINE_ESIM, K.SWAP_SIM_ESIM])
def test_R_OPT_2_bouygues_refuses_esim(weekday, bouygues, kind):
    with pytest.raises(OperatorRefusal) as refused:
        bouygues.submit(kind, key="e", payload={"operator_line_id": "x", "offer_code": "o", "esim": True})
    assert refused.value.code == "unsupported"
    assert not SimulatedOperatorRequest.objects.exists()


def test_R_PRV_4_port_in_refused_before_j_plus_3_then_number_kept(time_machine, orange):
    ordered_at = paris(2027, 3, 6, 21)  # Saturday evening
    payload = create_payload(msisdn="0612345678", rio="01P12345636Q", ordered_at=ordered_at.isoformat())
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)  # Tuesday: only J+1
    with pytest.raises(OperatorWindowClosed) as closed:
        orange.port_in(key="port-1", payload=payload)
    assert (closed.value.next_opening, closed.value.rule) == (paris(2027, 3, 10, 7), "R-PRV-4")

    time_machine.move_to(closed.value.next_opening, tick=False)
    ticket = orange.port_in(key="port-1", payload=payload)
    result = settle(orange, ticket, time_machine).result
    assert result["msisdn"] == "0612345678"
    assert SimulatedOperatorLine.objects.get(operator_line_id=result["operator_line_id"]).ported is True


def test_R_PRV_4_port_in_needs_its_order_date(weekday, bouygues):
    with pytest.raises(OperatorRefusal) as refused:
        bouygues.port_in(key="p", payload=create_payload(iccid=new_iccid("20"), msisdn="0612345678"))
    assert refused.value.code == "ordered_at_missing"


def test_other_kinds_accepted_on_sunday_night(time_machine, orange):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    line = active_line(orange, time_machine)
    time_machine.move_to(paris(2027, 3, 14, 3), tick=False)  # Sunday 03:00
    ticket = orange.suspend(key="s", payload={"operator_line_id": line["operator_line_id"]})
    assert settle(orange, ticket, time_machine).result["line_status"] == "suspended"


# --- idempotency ----------------------------------------------------------------------------------------------


def test_same_key_twice_makes_one_line(weekday, orange):
    payload = create_payload(range="data_only")
    first = orange.create_line(key="order-7-line-1", payload=payload)
    second = orange.create_line(key="order-7-line-1", payload=payload)
    assert second.reference == first.reference and second.duplicate and not first.duplicate

    weekday.shift(timedelta(seconds=60))
    simulator_tick()
    weekday.move_to(paris(2027, 3, 14, 12), tick=False)  # Sunday: a late redelivery is not refused
    third = orange.create_line(key="order-7-line-1", payload=payload)
    assert third.reference == first.reference and third.duplicate
    assert orange.request_status(first.reference).state == RequestState.COMPLETED
    assert SimulatedOperatorRequest.objects.filter(idempotency_key="order-7-line-1").count() == 1
    assert SimulatedOperatorLine.objects.filter(network="orange").count() == 1


def test_key_reused_for_another_kind_is_refused(weekday, orange):
    line = active_line(orange, weekday, key="k1")
    with pytest.raises(OperatorRefusal) as refused:
        orange.suspend(key="k1", payload={"operator_line_id": line["operator_line_id"]})
    assert refused.value.code == "key_reused"


def test_keys_are_per_network(weekday, orange, bouygues):
    orange.create_line(key="same", payload=create_payload())
    bouygues.create_line(key="same", payload=create_payload(iccid=new_iccid("20")))
    assert SimulatedOperatorRequest.objects.filter(idempotency_key="same").count() == 2


# --- latency and completion -------------------------------------------------------------------------------------


def test_request_completes_after_latency(weekday, orange):
    ticket = orange.create_line(key="lat", payload=create_payload())
    assert orange.request_status(ticket.reference).state == RequestState.PENDING
    weekday.shift(timedelta(seconds=59))
    assert orange.request_status(ticket.reference).state == RequestState.PENDING
    assert not SimulatedOperatorLine.objects.exists()
    weekday.shift(timedelta(seconds=1))
    status = orange.request_status(ticket.reference)
    assert status.state == RequestState.COMPLETED and status.is_final
    assert status.completed_at == timezone.now()
    line = SimulatedOperatorLine.objects.get()
    assert status.result["operator_line_id"] == line.operator_line_id and line.status == "active"


def test_tick_completes_every_due_request(weekday, orange, bouygues):
    orange.create_line(key="a", payload=create_payload())
    bouygues.create_line(key="b", payload=create_payload(iccid=new_iccid("20")))
    assert simulator_tick() == 0
    weekday.shift(timedelta(seconds=60))
    assert simulator_tick() == 2
    assert simulator_tick() == 0
    assert SimulatedOperatorLine.objects.count() == 2


def test_zero_latency_completes_within_submit(weekday, settings, bouygues):
    settings.SIMULATOR_LATENCY_SECONDS = 0
    ticket = bouygues.create_line(key="z", payload=create_payload(iccid=new_iccid("20"), msisdn="0698765432"))
    status = bouygues.request_status(ticket.reference)
    assert status.state == RequestState.COMPLETED and status.result["msisdn"] == "0698765432"


def test_line_actions_complete_in_order(weekday, orange):
    line = active_line(orange, weekday)
    ref = {"operator_line_id": line["operator_line_id"]}
    suspend = orange.suspend(key="s1", payload=ref)
    with pytest.raises(OperatorRefusal):  # not suspended yet at the operator: nothing to resume
        orange.resume(key="r0", payload=ref)
    weekday.shift(timedelta(seconds=60))
    assert orange.request_status(suspend.reference).result["line_status"] == "suspended"
    resume = orange.resume(key="r1", payload=ref)
    block = orange.block_data(key="b1", payload=ref)
    weekday.shift(timedelta(seconds=60))
    # Asking for the later request first settles the earlier one on the same line before it.
    assert orange.request_status(block.reference).result["data_blocked"] is True
    assert orange.request_status(resume.reference).result["line_status"] == "active"


def test_unknown_reference_refused(orange):
    with pytest.raises(OperatorRefusal):
        orange.request_status("ORA-NOPE")


# --- failures -------------------------------------------------------------------------------------------------------


def _run_with_failures(seed, keys):
    """Submits every key until it completes, as a retrying platform would; returns what happened."""
    sim = BouyguesSimulator(failure_rate=0.3, latency_seconds=0, seed=seed)
    transient = failed = 0
    for key in keys:
        payload = create_payload(iccid=new_iccid("20"))
        for _attempt in range(50):
            try:
                ticket = sim.create_line(key=key, payload=payload)
            except OperatorTransientError:
                transient += 1
                continue
            status = sim.request_status(ticket.reference)
            if status.state == RequestState.COMPLETED:
                break
            assert status.state == RequestState.FAILED and status.retryable
            failed += 1
        else:  # pragma: no cover
            pytest.fail(f"{key} never completed")
    return transient, failed


def test_failure_rate_is_seeded_and_retries_make_exactly_one_line(weekday):
    keys = [f"f-{i}" for i in range(60)]
    transient, failed = _run_with_failures(seed=42, keys=keys)
    # Both failure modes occur, at about the configured rate (30 % of attempts).
    attempts = len(keys) + transient + failed
    assert transient > 0 and failed > 0
    assert 0.15 < (transient + failed) / attempts < 0.45
    # Every key ends with exactly one line, none lost, none duplicated.
    assert SimulatedOperatorLine.objects.filter(network="bouygues").count() == len(keys)
    reqs = SimulatedOperatorRequest.objects.filter(network="bouygues")
    assert reqs.count() == len(keys) and set(reqs.values_list("status", flat=True)) == {"completed"}
    assert sum(reqs.values_list("attempts", flat=True)) == len(keys) + failed


def test_failures_are_deterministic_for_a_seed():
    rng_a, rng_b = BouyguesSimulator(seed=9, failure_rate=0.5), BouyguesSimulator(seed=9, failure_rate=0.5)

    def outcomes(sim):
        out = []
        for _ in range(40):
            try:
                out.append(sim._draw_failure())
            except OperatorTransientError:
                out.append("transient")
        return out

    assert outcomes(rng_a) == outcomes(rng_b)
    assert {"transient", True, False} == set(
        outcomes(BouyguesSimulator(rng=random.Random(9), failure_rate=0.5))
    )


def test_failure_rate_zero_and_one(weekday):
    never = BouyguesSimulator(seed=1, failure_rate=0.0)
    assert not any(never._draw_failure() for _ in range(100))
    always = OrangeSimulator(seed=1, failure_rate=1.0, latency_seconds=0)
    outcomes = set()
    for i in range(20):
        try:
            ticket = always.create_line(key=f"x{i}", payload=create_payload())
        except OperatorTransientError:
            outcomes.add("transient")
        else:
            outcomes.add(always.request_status(ticket.reference).state)
    assert outcomes == {"transient", RequestState.FAILED}
    assert not SimulatedOperatorLine.objects.exists()


# --- numbering (R-CAT-5/6) and retirement (R-CON-6) -----------------------------------------------------------------


@pytest.mark.parametrize("offer_range", ["data_only", "m2m"])
def test_R_CAT_5_R_CAT_6_orange_assigns_14_digit_numbers(weekday, orange, offer_range):
    numbers = set()
    for i in range(15):
        numbers.add(active_line(orange, weekday, key=f"{offer_range}-{i}", range=offer_range)["msisdn"])
    assert len(numbers) == 15 and all(FOURTEEN_DIGITS.match(n) for n in numbers)


def test_R_CAT_5_orange_chooses_data_numbers_itself(weekday, orange):
    with pytest.raises(OperatorRefusal) as refused:
        orange.create_line(key="d", payload=create_payload(range="data_only", msisdn="07000000000001"))
    assert refused.value.code == "msisdn_not_allowed"


def test_orange_voice_lines_get_10_digit_numbers(weekday, orange):
    assert TEN_DIGITS.match(active_line(orange, weekday, range="illimite")["msisdn"])


def test_R_CAT_6_no_m2m_at_bouygues(weekday, bouygues):
    with pytest.raises(OperatorRefusal) as refused:
        bouygues.create_line(key="m", payload=create_payload(range="m2m", iccid=new_iccid("20")))
    assert refused.value.code == "unsupported_range"


def test_R_CON_6_terminate_retires_number_and_sim_for_ever(weekday, bouygues):
    iccid = new_iccid("20")
    line = active_line(bouygues, weekday, key="t1", iccid=iccid, msisdn="0611223344")
    ref = {"operator_line_id": line["operator_line_id"]}
    ticket = bouygues.terminate(key="t1-end", payload=ref)
    assert settle(bouygues, ticket, weekday).result["line_status"] == "terminated"
    row = SimulatedOperatorLine.objects.get(operator_line_id=line["operator_line_id"])
    assert row.status == "terminated" and row.terminated_at == timezone.now()
    ids = SimulatedIdentifier.objects.filter(line=row)
    assert ids.count() == 2 and not ids.filter(retired_at__isnull=True).exists()

    with pytest.raises(OperatorRefusal) as refused:  # the number is never given again
        bouygues.create_line(key="t2", payload=create_payload(iccid=new_iccid("20"), msisdn="0611223344"))
    assert refused.value.code == "msisdn_used"
    with pytest.raises(OperatorRefusal) as refused:  # nor the SIM
        bouygues.create_line(key="t3", payload=create_payload(iccid=iccid))
    assert refused.value.code == "iccid_used"
    with pytest.raises(OperatorRefusal) as refused:  # a terminated line cannot be suspended
        bouygues.suspend(key="t1-suspend", payload=ref)
    assert refused.value.code == "invalid_state"


@pytest.mark.parametrize(
    ("first", "second"),
    [(K.RESUME, None), (K.SUSPEND, K.SUSPEND), (K.TERMINATE, K.RESUME), (K.TERMINATE, K.TOPUP)],
)
def test_state_checks_refuse_illegal_moves(weekday, orange, first, second):
    line = active_line(orange, weekday)
    payload = {"operator_line_id": line["operator_line_id"], "volume_bytes": 10**9}
    if second is None:
        with pytest.raises(OperatorRefusal):
            orange.submit(first, key="a", payload=payload)
        return
    settle(orange, orange.submit(first, key="a", payload=payload), weekday)
    with pytest.raises(OperatorRefusal) as refused:
        orange.submit(second, key="b", payload=payload)
    assert refused.value.code == "invalid_state"


def test_state_changed_meanwhile_ends_request_failed_not_retryable(weekday, orange):
    line = active_line(orange, weekday)
    ref = {"operator_line_id": line["operator_line_id"]}
    orange.terminate(key="end", payload=ref)
    suspend = orange.suspend(key="sus", payload=ref)  # accepted: the line is still active now
    weekday.shift(timedelta(seconds=60))
    status = orange.request_status(suspend.reference)
    assert status.state == RequestState.FAILED and not status.retryable
    assert "résiliée" in status.error
    assert orange.suspend(key="sus", payload=ref).duplicate  # resubmitting does not retry a business failure


# --- SIM swap, options, top-up --------------------------------------------------------------------------------------


def test_R_ORD_5_swap_sim_retires_old_sim(weekday, orange):
    line = active_line(orange, weekday)
    old, new = line["iccid"], new_iccid()
    ticket = orange.swap_sim(key="swap", payload={"operator_line_id": line["operator_line_id"], "iccid": new})
    assert settle(orange, ticket, weekday).result["iccid"] == new
    assert SimulatedIdentifier.objects.get(value=old).retired_at is not None
    assert SimulatedIdentifier.objects.get(value=new).retired_at is None
    esim = orange.swap_sim(key="swap-e", payload={"operator_line_id": line["operator_line_id"], "esim": True})
    assert esim.kind == K.SWAP_SIM_ESIM
    result = settle(orange, esim, weekday).result
    assert result["esim"] is True and result["activation_code"].startswith("LPA:1$")


@pytest.mark.parametrize(
    ("sim_class", "ends"),
    [
        (OrangeSimulator, lambda now: rules.effective_first_of_next_month(now)),
        (BouyguesSimulator, lambda now: now),
    ],
)
def test_R_OPT_3_option_end(weekday, sim_class, ends):
    sim = sim_class(seed=3)
    line = active_line(
        sim, weekday, options=["fixed_ip"], iccid=new_iccid("01" if sim.network == "orange" else "20")
    )
    ref = {"operator_line_id": line["operator_line_id"]}
    add = sim.add_option(key="add", payload={**ref, "option_code": "roaming_5g"})
    assert settle(sim, add, weekday).result["options"] == ["fixed_ip", "roaming_5g"]
    with pytest.raises(OperatorRefusal):
        sim.add_option(key="add-again", payload={**ref, "option_code": "roaming_5g"})
    remove = sim.remove_option(key="rm", payload={**ref, "option_code": "fixed_ip"})
    status = settle(sim, remove, weekday)
    assert status.result["options"] == ["roaming_5g"]
    assert status.result["ends_at"] == ends(status.completed_at).isoformat()


def test_R_PRV_5_topup_shows_only_after_latency(weekday, orange):
    line = active_line(orange, weekday)
    ref = {"operator_line_id": line["operator_line_id"], "volume_bytes": 5 * 10**9}
    first = orange.topup(key="top-1", payload=ref)
    row = SimulatedOperatorLine.objects.get()
    assert row.topup_bytes == 0
    weekday.shift(timedelta(seconds=30))
    second = orange.topup(key="top-2", payload=ref)  # ordered again meanwhile: applied (and billed) twice
    assert settle(orange, first, weekday, seconds=30).result["topup_total_bytes"] == 5 * 10**9
    assert settle(orange, second, weekday, seconds=30).result["topup_total_bytes"] == 10 * 10**9
    row.refresh_from_db()
    assert row.topup_bytes == 10 * 10**9


def test_change_offer(weekday, bouygues):
    line = active_line(bouygues, weekday, iccid=new_iccid("20"))
    ticket = bouygues.change_offer(
        key="co", payload={"operator_line_id": line["operator_line_id"], "offer_code": "ILL-50G"}
    )
    assert settle(bouygues, ticket, weekday).result["offer_code"] == "ILL-50G"
    assert SimulatedOperatorLine.objects.get().offer_code == "ILL-50G"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"offer_code": "o", "range": "illimite", "iccid": "8933011234"}, "iccid_invalid"),
        ({"offer_code": "o", "range": "illimite"}, "iccid_invalid"),
        ({"offer_code": "o", "range": "illimite", "iccid": "NEW", "msisdn": "0512345678"}, "msisdn_invalid"),
    ],
)
def test_invalid_creation_payloads_refused(weekday, orange, payload, code):
    if payload.get("iccid") == "NEW":
        payload["iccid"] = new_iccid()
    with pytest.raises(OperatorRefusal) as refused:
        orange.create_line(key="bad", payload=payload)
    assert refused.value.code == code


# --- adapters ---------------------------------------------------------------------------------------------------


def test_get_operator_follows_settings(settings):
    orange, bouygues = get_operator("orange"), get_operator("bouygues")
    assert isinstance(orange, OrangeSimulator) and isinstance(bouygues, BouyguesSimulator)
    assert isinstance(orange, OperatorPort)
    assert get_operator("orange") is orange  # one instance per process: one random sequence
    settings.OPERATOR_ADAPTERS = {
        **settings.OPERATOR_ADAPTERS,
        "orange": "tests.provisioning.test_simulators.FakePort",
    }
    assert isinstance(get_operator("orange"), FakePort)
    with pytest.raises(ValueError):
        get_operator("sfr")


class FakePort(OrangeSimulator):
    """Stands for a real client configured in settings."""
