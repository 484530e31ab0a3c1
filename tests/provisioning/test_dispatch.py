"""Dispatch of operator requests (issue 4 "Tasks"): planning in the operator's windows (R-PRV-1..4), sending
exactly once, retries, final failure and the "retry" action, activation delay (R-CON-7), states (R-CON-8).

Real PostgreSQL; the clock travels with time-machine; the sweep runs in-process (``send``/``poll`` inline)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts import outcomes
from contracts.models import Contract, ContractEvent, ContractOption, OperatorRequest
from contracts.services import LineSpec
from core.errors import RuleViolation
from core.networks import Network
from inventory.models import EsimProfile, PhoneNumber, SimCard
from provisioning import services, tasks
from provisioning.errors import OperatorRefusal, OperatorTransientError
from provisioning.models import SimulatedOperatorLine, SimulatedOperatorRequest
from provisioning.simulators import simulator_tick
from provisioning.simulators.bouygues import BouyguesSimulator

from .conftest import paris
from .test_dispatch_support import Stock, esim, ported

State = OperatorRequest.State
LATENCY = 30
SATURDAY_21H = paris(2027, 3, 13, 21)  # Saturday 13 March 2027, 21:00 Paris
MONDAY_9H = paris(2027, 3, 15, 9)
WEDNESDAY = paris(2027, 3, 17, 0)  # J+3 business days after Saturday 13 (Mon 15, Tue 16, Wed 17)
WEDNESDAY_7H = paris(2027, 3, 17, 7)


@pytest.fixture(autouse=True)
def _dispatch_settings(settings):
    settings.SIMULATOR_LATENCY_SECONDS = LATENCY
    settings.PROVISIONING_WAKE_ON_ORDER = False  # the tests run the sweep themselves
    settings.PROVISIONING_POLL_SECONDS = 5
    settings.PROVISIONING_RETRY_BASE_SECONDS = 30
    settings.PROVISIONING_RESEND_AFTER_SECONDS = 120
    settings.PROVISIONING_MAX_ATTEMPTS = 10


def sweep_after(time_machine, seconds: float = 0) -> services.DispatchReport:
    """Let ``seconds`` pass, let the operator finish what is due, then run the platform's sweep."""
    if seconds:
        time_machine.shift(timedelta(seconds=seconds))
    simulator_tick()
    return services.dispatch_due_requests()


def request_of(contract: Contract) -> OperatorRequest:
    return contract.operator_requests.get()


def states(contracts) -> list[str]:
    return [Contract.objects.get(pk=c.pk).state for c in contracts]


# --------------------------------------------------------------------------------------------------------
# The "Done when" scenario: a mixed order on Saturday at 21:00
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_PRV_1_to_4_mixed_order_saturday_21h_goes_live_in_each_window(time_machine):
    time_machine.move_to(SATURDAY_21H, tick=False)
    stock = Stock()
    bouygues = stock.order(Network.BOUYGUES, [LineSpec(user_name="B1"), LineSpec(user_name="B2"), ported(1)])
    orange = stock.order(
        Network.ORANGE, [LineSpec(user_name="O1"), LineSpec(user_name="O2"), esim(1), ported(2)]
    )
    data = stock.order("orange_data", [LineSpec(user_name="Data")])
    b_simple = list(bouygues.contracts.filter(portability=False))
    b_ported = bouygues.contracts.get(portability=True)
    o_simple = list(orange.contracts.filter(portability=False).exclude(sim_type="esim"))
    o_esim = orange.contracts.get(sim_type="esim")
    o_ported = orange.contracts.get(portability=True)
    data_line = data.contracts.get()
    assert OperatorRequest.objects.filter(state=State.PENDING).count() == 8

    report = sweep_after(time_machine)

    # Planned in the operator's windows: nothing the simulator would refuse.
    assert report.planned == 8 and report.sent == 5
    assert request_of(o_esim).planned_at == MONDAY_9H  # R-PRV-2: Mon–Fri 09:00–17:30
    assert request_of(b_ported).planned_at == WEDNESDAY  # R-PRV-4 + R-PRV-3: J+3 business day, all day
    assert request_of(o_ported).planned_at == WEDNESDAY_7H  # R-PRV-4 + R-PRV-1: J+3, from 07:00
    for contract in [*b_simple, *o_simple, data_line]:  # R-PRV-3 (24/7), R-PRV-1 (Sat until 22:00)
        assert request_of(contract).state == State.SENT
        assert request_of(contract).operator_reference
    assert states([*b_simple, *o_simple, data_line]) == ["pending"] * 5  # operator latency
    planned_events = ContractEvent.objects.filter(contract=o_esim, message__contains="15/03/2027 09:00")
    assert planned_events.count() == 1 and "R-PRV-2" in planned_events.get().message

    sweep_after(time_machine, LATENCY)

    # Bouygues and Orange simple lines: active within a minute (R-CON-7, R-CON-8 En cours → Actif).
    for contract in [*b_simple, *o_simple, data_line]:
        contract.refresh_from_db()
        assert contract.state == Contract.State.ACTIVE
        assert contract.delivered_at - SATURDAY_21H <= timedelta(minutes=1)
    # R-CAT-5: Orange chose a 14-digit number for the Data only line; it is on the contract and in stock as in use.
    data_line.refresh_from_db()
    assert len(data_line.msisdn) == 14 and data_line.msisdn.startswith("0700")
    assert data_line.phone_number.state == PhoneNumber.State.IN_USE
    assert data_line.phone_number.kind == PhoneNumber.Kind.M2M_DATA
    assert all(c.phone_number.state == PhoneNumber.State.IN_USE for c in [*b_simple, *o_simple])
    assert all(SimCard.objects.get(pk=c.sim_id).state == SimCard.State.IN_USE for c in [*b_simple, *o_simple])
    assert states([o_esim, b_ported, o_ported]) == ["pending"] * 3

    # Sunday: still nothing for the eSIM and the port-ins.
    time_machine.move_to(paris(2027, 3, 14, 12), tick=False)
    assert sweep_after(time_machine).sent == 0
    time_machine.move_to(paris(2027, 3, 15, 8, 59, 59), tick=False)
    assert sweep_after(time_machine).sent == 0

    # Monday 09:00: the eSIM line is sent, and live after the operator latency.
    time_machine.move_to(MONDAY_9H, tick=False)
    assert sweep_after(time_machine).sent == 1
    sweep_after(time_machine, LATENCY)
    o_esim.refresh_from_db()
    assert o_esim.state == Contract.State.ACTIVE
    assert EsimProfile.objects.get(pk=o_esim.esim_id).state == EsimProfile.State.IN_USE
    assert request_of(o_esim).result["activation_code"].startswith("LPA:1$")
    assert states([b_ported, o_ported]) == ["pending"] * 2

    # Tuesday evening: port-ins still wait for J+3.
    time_machine.move_to(paris(2027, 3, 16, 23, 59), tick=False)
    assert sweep_after(time_machine).sent == 0

    # Wednesday 00:00: the Bouygues port-in; 07:00: the Orange one.
    time_machine.move_to(WEDNESDAY, tick=False)
    assert sweep_after(time_machine).sent == 1
    sweep_after(time_machine, LATENCY)
    assert states([b_ported, o_ported]) == ["active", "pending"]
    time_machine.move_to(WEDNESDAY_7H, tick=False)
    assert sweep_after(time_machine).sent == 1
    sweep_after(time_machine, LATENCY)
    assert states([b_ported, o_ported]) == ["active", "active"]
    o_ported.refresh_from_db()
    assert o_ported.msisdn == o_ported.ported_number

    # Every line exactly once at the operator, every request completed, nothing refused on the way.
    assert SimulatedOperatorLine.objects.count() == 8
    assert SimulatedOperatorRequest.objects.filter(status="completed", attempts=1).count() == 8
    assert OperatorRequest.objects.filter(state=State.COMPLETED).count() == 8
    assert not OperatorRequest.objects.exclude(last_error="").exists()

    # R-CON-7: activation delay, measured from the order to the delivery.
    for contract in [*b_simple, *o_simple, data_line, o_esim]:
        delay = services.activation_delay(Contract.objects.get(pk=contract.pk))
        assert delay.open_seconds <= 3600, contract  # within 1 business hour (operator hours)
        assert delay.within_rule
    esim_delay = services.activation_delay(Contract.objects.get(pk=o_esim.pk))
    assert esim_delay.elapsed > timedelta(hours=35)  # ordered out of hours…
    assert esim_delay.open_seconds == LATENCY  # …but live 30 s into the first eSIM window
    for contract in (b_ported, o_ported):
        delay = services.activation_delay(Contract.objects.get(pk=contract.pk))
        assert (
            delay.portability and delay.business_days == 3 and delay.within_rule
        )  # ≤ 3 days with portability


@pytest.mark.django_db
def test_R_CON_8_activation_history_and_options(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    stock = Stock()
    order = stock.order(Network.BOUYGUES, [LineSpec(user_name="B1")])
    contract = order.contracts.get()

    sweep_after(time_machine)
    sweep_after(time_machine, LATENCY)

    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE and contract.user_state_label == "Actif"
    change = contract.events.get(kind=ContractEvent.Kind.STATE_CHANGED)
    assert (change.from_state, change.to_state) == ("pending", "active")
    assert contract.msisdn in change.message
    assert change.data["operator_line_id"].startswith("BYTL-")
    assert change.data["operator_reference"] == request_of(contract).operator_reference
    assert not ContractOption.objects.filter(contract=contract, status="pending").exists()


# --------------------------------------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_PRV_3_activation_date_in_the_future_plans_at_not_before(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    stock = Stock()
    order = stock.order(Network.BOUYGUES, [LineSpec()], activation_date=date(2027, 3, 12))
    request = request_of(order.contracts.get())

    request = services.request_plan(request=request)
    assert request.state == State.PLANNED
    assert request.planned_at == paris(2027, 3, 12, 0)
    # Idempotent: planning again changes nothing.
    assert services.request_plan(request=request).planned_at == paris(2027, 3, 12, 0)
    assert services.dispatch_due_requests().sent == 0


@pytest.mark.django_db
def test_R_PRV_2_window_closed_at_the_operator_replans_at_its_next_opening(time_machine):
    """Should the platform send out of hours (clock skew, manual change), the operator's refusal is not a
    failure: the request is planned again at the opening the operator gave."""
    time_machine.move_to(SATURDAY_21H, tick=False)
    stock = Stock()
    order = stock.order(Network.ORANGE, [esim(1)])
    request = request_of(order.contracts.get())
    services.request_plan(request=request)
    OperatorRequest.objects.filter(pk=request.pk).update(planned_at=SATURDAY_21H)  # wrongly due now

    assert services.dispatch_due_requests().sent == 1

    request.refresh_from_db()
    assert request.state == State.PLANNED
    assert request.planned_at == MONDAY_9H
    assert "R-PRV-2" in request.last_error
    assert SimulatedOperatorRequest.objects.count() == 0
    assert order.contracts.get().state == Contract.State.PENDING


@pytest.mark.django_db
def test_R_OPT_2_request_the_operator_never_accepts_fails_at_planning(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    stock = Stock()
    order = stock.order(Network.BOUYGUES, [LineSpec()])
    contract = order.contracts.get()
    OperatorRequest.objects.filter(contract=contract).update(kind="create_line_esim")  # an eSIM at Bouygues

    services.dispatch_due_requests()

    contract.refresh_from_db()
    assert request_of(contract).state == State.FAILED
    assert contract.state == Contract.State.FAILED
    assert "R-OPT-2" in contract.last_error


# --------------------------------------------------------------------------------------------------------
# Exactly once
# --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_R_PRV_3_request_delivered_twice_makes_one_operator_line(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    stock = Stock()
    contract = stock.order(Network.BOUYGUES, [LineSpec()]).contracts.get()
    services.plan_pending_requests()
    [request_id] = services.claim_due_requests()

    first = services.request_send(request_id=request_id)
    second = services.request_send(request_id=request_id)  # the same message delivered again
    # A worker killed after the operator accepted and before our commit: the reference was never stored.
    OperatorRequest.objects.filter(pk=request_id).update(operator_reference="")
    third = services.request_send(request_id=request_id)

    assert first.operator_reference == second.operator_reference
    third.refresh_from_db()
    assert third.operator_reference == first.operator_reference  # the operator replayed its first ticket
    assert SimulatedOperatorRequest.objects.count() == 1

    sweep_after(time_machine, LATENCY)
    services.request_poll(request_id=request_id)  # a late poll after completion: nothing more
    outcomes.operator_request_completed(request_id=request_id, result={"msisdn": "0600000000"})
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    assert contract.events.filter(kind=ContractEvent.Kind.STATE_CHANGED, to_state="active").count() == 1
    assert SimulatedOperatorLine.objects.count() == 1


@pytest.mark.django_db
def test_two_sweeps_never_claim_the_same_request(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    stock = Stock()
    stock.order(Network.BOUYGUES, [LineSpec(), LineSpec(), LineSpec()])
    services.plan_pending_requests()

    first = services.claim_due_requests(limit=2)
    second = services.claim_due_requests()

    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
    assert services.claim_due_requests() == []


# --------------------------------------------------------------------------------------------------------
# Retries, final failure, "retry" action
# --------------------------------------------------------------------------------------------------------


class FlakyBouygues(BouyguesSimulator):
    """Refuses the first ``FAILS`` submits with a transient error (nothing recorded at the operator)."""

    FAILS = 2
    calls = 0

    def submit(self, kind, *, key, payload):
        type(self).calls += 1
        if type(self).calls <= self.FAILS:
            raise OperatorTransientError("Service opérateur indisponible (test).", network=self.network)
        return super().submit(kind, key=key, payload=payload)


class RefusingBouygues(BouyguesSimulator):
    def submit(self, kind, *, key, payload):
        raise OperatorRefusal("Numéro refusé par l'opérateur (test).", network=self.network, code="refused")


class DownBouygues(BouyguesSimulator):
    def submit(self, kind, *, key, payload):
        raise OperatorTransientError("Plateforme opérateur en maintenance (test).", network=self.network)


class FailingOnceBouygues(BouyguesSimulator):
    """Accepts, then fails the first attempt at completion (retryable), like the failure rate does."""

    def _draw_failure(self):
        return SimulatedOperatorRequest.objects.filter(attempts__gte=1, status="failed").count() == 0


def use_adapter(settings, cls) -> None:
    settings.OPERATOR_ADAPTERS = {**settings.OPERATOR_ADAPTERS, "bouygues": f"{__name__}.{cls.__name__}"}


def test_request_tasks_follow_the_celery_guards():
    for task in (tasks.request_send_task, tasks.request_poll_task):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.autoretry_for == (OperatorTransientError,)
        assert task.retry_backoff and task.retry_jitter and 0 < task.max_retries <= 10
    assert tasks.dispatch_due_requests_task.name == "provisioning.dispatch_due_requests"
    assert tasks.request_send_task.name == "provisioning.request_send"
    assert tasks.request_poll_task.name == "provisioning.request_poll"


@pytest.mark.django_db
def test_missing_request_ends_the_tasks_cleanly():
    assert tasks.request_send_task.apply(args=[987654321]).get() == "missing"
    assert tasks.request_poll_task.apply(args=[987654321]).get() == "missing"


@pytest.mark.django_db
def test_transient_errors_are_retried_by_the_task_with_backoff(time_machine, settings):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    settings.SIMULATOR_LATENCY_SECONDS = 0
    FlakyBouygues.calls = 0
    use_adapter(settings, FlakyBouygues)
    contract = Stock().order(Network.BOUYGUES, [LineSpec()]).contracts.get()
    services.plan_pending_requests()
    [request_id] = services.claim_due_requests()

    result = tasks.request_send_task.apply(args=[request_id])  # eager: Celery's retries run at once

    assert result.get() == State.COMPLETED
    request = OperatorRequest.objects.get(pk=request_id)
    assert request.attempts == 3  # two transient errors, then accepted
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    failures = contract.events.filter(kind=ContractEvent.Kind.OPERATOR_RESPONSE, data__final=False)
    assert failures.count() == 2 and "indisponible" in failures.first().message
    assert SimulatedOperatorLine.objects.count() == 1


@pytest.mark.django_db
def test_retryable_operator_failure_is_planned_again_with_backoff(time_machine, settings):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    use_adapter(settings, FailingOnceBouygues)
    contract = Stock().order(Network.BOUYGUES, [LineSpec()]).contracts.get()
    sweep_after(time_machine)

    sweep_after(time_machine, LATENCY)  # the operator reports a retryable failure

    request = request_of(contract)
    assert request.state == State.PLANNED and request.operator_reference == ""
    assert request.planned_at == paris(2027, 3, 9, 10, 0, LATENCY) + timedelta(seconds=30)  # base × 2^0
    assert "Erreur technique" in request.last_error
    assert sweep_after(time_machine, 10).sent == 0  # not before the backoff
    assert sweep_after(time_machine, 20).sent == 1  # same key: the operator retries the same request
    sweep_after(time_machine, LATENCY)
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    sim_request = SimulatedOperatorRequest.objects.get()
    assert sim_request.attempts == 2 and sim_request.status == "completed"
    assert SimulatedOperatorLine.objects.count() == 1


@pytest.mark.django_db
def test_retry_delay_grows_exponentially_and_is_capped(settings):
    settings.PROVISIONING_RETRY_BASE_SECONDS = 30
    settings.PROVISIONING_RETRY_MAX_SECONDS = 900
    assert [services.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 9)] == [
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]


@pytest.mark.django_db
def test_R_CON_8_refusal_leaves_the_contract_failed_with_the_message_and_retry_brings_it_back(
    time_machine, settings
):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    use_adapter(settings, RefusingBouygues)
    stock = Stock()
    contract = stock.order(Network.BOUYGUES, [LineSpec()]).contracts.get()

    sweep_after(time_machine)

    contract.refresh_from_db()
    request = request_of(contract)
    assert request.state == State.FAILED and request.attempts == 1  # a refusal is not retried
    assert contract.state == Contract.State.FAILED
    assert contract.last_error == "Numéro refusé par l'opérateur (test)."
    assert contract.user_state_label == "En cours"  # R-CON-8: shown as En cours, with its error
    assert contract.events.filter(to_state="failed", message__contains="Numéro refusé").exists()

    # "retry": the operator accepts now.
    use_adapter(settings, BouyguesSimulator)
    request = outcomes.operator_request_retry(request_id=request.pk, actor=None)
    assert request.state == State.PENDING and request.attempts == 0
    contract.refresh_from_db()
    assert contract.state == Contract.State.PENDING and contract.last_error == ""
    assert outcomes.operator_request_retry(request_id=request.pk).state == State.PENDING  # idempotent

    sweep_after(time_machine)
    sweep_after(time_machine, LATENCY)
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    assert SimulatedOperatorLine.objects.count() == 1
    with pytest.raises(RuleViolation) as exc:
        outcomes.operator_request_retry(request_id=request.pk)
    assert exc.value.rule == "R-CON-8"


@pytest.mark.django_db
def test_transient_errors_fail_for_good_after_the_last_attempt(time_machine, settings):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    settings.PROVISIONING_MAX_ATTEMPTS = 3
    use_adapter(settings, DownBouygues)
    contract = Stock().order(Network.BOUYGUES, [LineSpec()]).contracts.get()

    sweep_after(time_machine)  # attempt 1 (the sweep logs the transient error, the row keeps the truth)
    assert request_of(contract).state == State.SENT
    sweep_after(time_machine, 121)  # stale: sent without an operator answer → sent again, attempt 2
    sweep_after(time_machine, 121)  # attempt 3: the last one

    contract.refresh_from_db()
    request = request_of(contract)
    assert request.state == State.FAILED and request.attempts == 3
    assert contract.state == Contract.State.FAILED
    assert "maintenance" in contract.last_error
    assert sweep_after(time_machine, 121).resent == 0  # nothing more is sent

    use_adapter(settings, BouyguesSimulator)
    outcomes.contract_provisioning_retry(contract=contract)
    sweep_after(time_machine)
    sweep_after(time_machine, LATENCY)
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE and request_of(contract).attempts == 1


@pytest.mark.django_db
def test_lost_send_message_is_picked_up_by_the_sweep(time_machine):
    """The sweep claimed the request, the send message was lost: after the resend delay it is sent again."""
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    contract = Stock().order(Network.BOUYGUES, [LineSpec()]).contracts.get()
    lost = []
    services.dispatch_due_requests(send=lost.append)  # the message never reaches a worker
    assert len(lost) == 1 and request_of(contract).state == State.SENT

    assert sweep_after(time_machine, 60).resent == 0
    assert sweep_after(time_machine, 61).resent == 1
    sweep_after(time_machine, LATENCY)
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE


@pytest.mark.django_db
def test_completed_outcome_is_idempotent_and_missing_request_is_quiet():
    assert outcomes.operator_request_completed(request_id=987654321, result={}) is None
    assert outcomes.operator_request_failed(request_id=987654321, error="x", final=True) is None


@pytest.mark.django_db
def test_R_CON_8_completion_for_a_contract_that_moved_on_is_kept_and_noted(time_machine):
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    contract = Stock().order(Network.BOUYGUES, [LineSpec()]).contracts.get()
    sweep_after(time_machine)
    Contract.objects.filter(pk=contract.pk).update(state=Contract.State.TERMINATED)  # cancelled meanwhile

    sweep_after(time_machine, LATENCY)

    contract.refresh_from_db()
    assert request_of(contract).state == State.COMPLETED  # the operator's word is kept
    assert contract.state == Contract.State.TERMINATED and contract.delivered_at is None
    note = contract.events.get(kind=ContractEvent.Kind.NOTE)
    assert "non appliquée" in note.message and note.data["rule"] == "R-CON-8"


@pytest.mark.django_db
def test_demo_step_plans_pending_requests_once(time_machine):
    import io

    from provisioning import demo

    time_machine.move_to(SATURDAY_21H, tick=False)
    stock = Stock()
    stock.order(Network.ORANGE, [esim(1)])
    out = io.StringIO()

    demo.load(out)
    first = list(OperatorRequest.objects.values_list("state", "planned_at", "updated_at"))
    demo.load(out)

    assert first == [(State.PLANNED, MONDAY_9H, SATURDAY_21H)]  # R-PRV-2, nothing sent by the demo load
    assert list(OperatorRequest.objects.values_list("state", "planned_at", "updated_at")) == first
    assert SimulatedOperatorRequest.objects.count() == 0
    assert "1 demande(s) opérateur planifiée(s)" in out.getvalue()


def test_orders_wake_the_dispatcher_by_task_name_and_beat_sweeps(settings):
    from alphalink.celery import app
    from contracts.services import DISPATCH_TASK

    assert DISPATCH_TASK in app.tasks  # contracts never imports provisioning: the name is the contract
    entry = settings.CELERY_BEAT_SCHEDULE["provisioning.dispatch_due_requests"]
    assert entry["task"] == DISPATCH_TASK and entry["schedule"] == settings.PROVISIONING_SWEEP_SECONDS


@pytest.mark.parametrize(
    ("kind", "network", "ordered", "delivered", "open_seconds"),
    [
        # Bouygues 24/7 (R-PRV-3): every second counts.
        ("create_line", "bouygues", paris(2027, 3, 13, 21), paris(2027, 3, 13, 21, 1), 60),
        # Orange simple on Saturday 21:59 → Monday 07:00:30: 1 min on Saturday, 30 s on Monday (R-PRV-1).
        ("create_line", "orange", paris(2027, 3, 13, 21, 59), paris(2027, 3, 15, 7, 0, 30), 90),
        # Orange eSIM on Friday 17:00 → Monday 09:30: 30 min on Friday, 30 min on Monday (R-PRV-2).
        ("create_line_esim", "orange", paris(2027, 3, 12, 17), paris(2027, 3, 15, 9, 30), 3600),
        # Easter Monday 2027 (29 March) is not an eSIM day: Friday 17:00 → Tuesday 09:10.
        ("create_line_esim", "orange", paris(2027, 3, 26, 17), paris(2027, 3, 30, 9, 10), 2400),
    ],
)
def test_R_CON_7_business_hours_are_the_operator_window_hours(
    kind, network, ordered, delivered, open_seconds
):
    assert services.window_open_seconds(kind, network, ordered, delivered) == open_seconds


@pytest.mark.parametrize(
    ("open_seconds", "business_days", "portability", "within"),
    [(3600, 0, False, True), (3601, 0, False, False), (0, 3, True, True), (0, 4, True, False)],
)
def test_R_CON_7_activation_delay_bounds(open_seconds, business_days, portability, within):
    delay = services.ActivationDelay(timedelta(0), open_seconds, business_days, portability)
    assert delay.within_rule is within


def test_R_PRV_4_business_days_between_skip_weekends_and_holidays():
    assert services.business_days_between(date(2027, 3, 13), date(2027, 3, 17)) == 3  # Sat → Wed
    assert services.business_days_between(date(2027, 7, 13), date(2027, 7, 16)) == 2  # 14 July
