"""Scheduled changes of offer (``contracts.scheduling``): upgrade/downgrade (R-CON-1) and blocked ⇄ non-blocked
migration (R-CON-2) effective the 1st of next month 00:00 Europe/Paris, R-CON-3 refusals, one pending change per
contract, cancellation before the effective date, and the beat task + operator confirmation that apply it.

The clock travels with time-machine; the operator is the Orange simulator behind the real dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from contracts import outcomes, scheduling
from contracts.models import Contract, ContractEvent, OperatorRequest, ScheduledChange
from contracts.services import LineSpec, order_place
from contracts.tasks import apply_scheduled_changes_task
from core.errors import RuleViolation
from notifications import services as notification_services
from provisioning import services as provisioning
from provisioning.models import SimulatedOperatorLine
from provisioning.simulators import simulator_tick
from tests.factories.contracts import ContractFactory, offer

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
State = ScheduledChange.State
ReqState = OperatorRequest.State


def paris(y, m, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, settings):
    monkeypatch.setattr(notification_services, "_wake_sender", lambda: None)
    settings.PROVISIONING_WAKE_ON_ORDER = False
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0


def live(client_account, code: str, state: str = Contract.State.ACTIVE) -> Contract:
    """A live line of ``code`` (rows only: enough for the scheduling rules)."""
    return ContractFactory(order__client=client_account, order__offer=offer(code), state=state)


def schedule(contract: Contract, code: str, actor=None) -> ScheduledChange:
    return scheduling.contract_offer_change_schedule(contract=contract, new_offer=offer(code), actor=actor)


# --------------------------------------------------------------------------------------------------------
# R-CON-1 / R-CON-2: effective on the 1st of next month, 00:00 Paris
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "effective"),
    [
        (paris(2027, 1, 31, 23, 30), paris(2027, 2, 1)),  # 31 January → 1 February
        (paris(2026, 12, 31, 23, 59, 59), paris(2027, 1, 1)),  # 31 December → 1 January (year end)
        (paris(2027, 1, 31, 0, 30), paris(2027, 2, 1)),  # 30 January 23:30 UTC is already 31 Jan in Paris
        (paris(2027, 3, 1, 0, 30), paris(2027, 4, 1)),  # 28 Feb 23:30 UTC: March in Paris → 1 April
        (paris(2027, 3, 15, 12), paris(2027, 4, 1)),  # DST change on 28 March in between
    ],
)
def test_R_CON_1_upgrade_takes_effect_first_of_next_month_paris(
    time_machine, catalog, client_account, staff, now, effective
):
    time_machine.move_to(now, tick=False)
    contract = live(client_account, "OR-ILL-10G-B")

    change = schedule(contract, "OR-ILL-30G-B", actor=staff)

    assert change.kind == ScheduledChange.Kind.UPGRADE and change.rule == "R-CON-1"
    assert change.state == State.SCHEDULED
    assert change.effective_at == effective
    assert change.effective_at.astimezone(PARIS).hour == 0 and change.effective_at.astimezone(PARIS).day == 1
    assert change.from_offer.code == "OR-ILL-10G-B" and change.to_offer.code == "OR-ILL-30G-B"
    assert change.partner == contract.partner and change.created_by == staff
    # the durable intent: a change_offer request the dispatcher sends at the effective date
    request = change.operator_request
    assert request.kind == OperatorRequest.Kind.CHANGE_OFFER and request.state == ReqState.PENDING
    assert request.not_before == effective
    assert (
        request.payload["offer_code"] == "OR-ILL-30G-B" and request.payload["scheduled_change"] == change.pk
    )
    # the contract keeps its offer until the operator confirms
    contract.refresh_from_db()
    assert contract.offer.code == "OR-ILL-10G-B"
    event = contract.events.filter(kind=ContractEvent.Kind.CHANGE).get()
    assert "Upgrade programmé" in event.message and effective.strftime("%d/%m/%Y") in event.message
    assert event.actor == staff and event.data["rule"] == "R-CON-1"


def test_R_CON_1_downgrade_is_scheduled_too(catalog, client_account):
    change = schedule(live(client_account, "BY-ILL-30G-NB"), "BY-ILL-5G-NB")
    assert (change.kind, change.rule) == (ScheduledChange.Kind.DOWNGRADE, "R-CON-1")


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("OR-ILL-10G-B", "OR-ILL-10G-NB"),  # blocked → non-blocked
        ("OR-ILL-10G-NB", "OR-ILL-10G-B"),  # non-blocked → blocked
        ("OR-DATA-20G-B", "OR-DATA-50G-NB"),  # migration with another envelope
        ("BY-ILL-5G-B", "BY-ILL-5G-NB"),
    ],
)
def test_R_CON_2_migration_blocked_non_blocked_first_of_next_month(
    time_machine, catalog, client_account, source, target
):
    time_machine.move_to(paris(2027, 5, 20, 15), tick=False)
    change = schedule(live(client_account, source), target)
    assert (change.kind, change.rule) == (ScheduledChange.Kind.MIGRATION, "R-CON-2")
    assert change.effective_at == paris(2027, 6, 1)
    assert change.get_kind_display() == "Migration d'offre"


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        ("OR-DATA-10G-B", "OR-ILL-10G-B", "R-CON-3"),  # change of range: Data only → Illimité
        ("OR-TRV-20G", "OR-ILL-30G-NB", "R-CON-3"),  # Travel → classic Illimité
        ("OR-ILL-10G-B", "OR-CPT", "R-CON-3"),  # plan → compteur
        ("BY-DATA-10G-B", "BY-CPTD", "R-CON-3"),  # plan → compteur data
        ("OR-ILL-10G-B", "BY-ILL-10G-B", "R-CAT-1"),  # other network: a new line, not a change
        ("OR-ILL-10G-B", "OR-ILL-10G-B", "R-CON-1"),  # the same offer
    ],
)
def test_R_CON_3_refused_changes_name_the_rule_and_leave_nothing(
    catalog, client_account, source, target, rule
):
    contract = live(client_account, source)
    events = contract.events.count()

    with pytest.raises(RuleViolation) as refused:
        schedule(contract, target)

    assert refused.value.field == "offer" and refused.value.rule == rule
    assert refused.value.message  # French reason shown next to the field
    assert not ScheduledChange.objects.exists()
    assert not OperatorRequest.objects.filter(contract=contract).exists()
    assert contract.events.count() == events


def test_R_CON_3_travel_upgrade_within_travel_is_allowed(catalog, client_account):
    change = schedule(live(client_account, "OR-TRV-20G"), "OR-TRV-50G")
    assert change.kind == ScheduledChange.Kind.UPGRADE


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (Contract.State.ACTIVE, True),
        (Contract.State.SUSPENDED, True),
        (Contract.State.PENDING, False),
        (Contract.State.FAILED, False),
        (Contract.State.TERMINATING, False),
        (Contract.State.TERMINATED, False),
    ],
)
def test_R_CON_9_only_a_live_line_changes_offer(catalog, client_account, state, allowed):
    contract = live(client_account, "OR-ILL-10G-B", state=state)
    if allowed:
        assert schedule(contract, "OR-ILL-5G-B").state == State.SCHEDULED
        return
    with pytest.raises(RuleViolation) as refused:
        schedule(contract, "OR-ILL-5G-B")
    assert (refused.value.field, refused.value.rule) == ("state", "R-CON-9")


# --------------------------------------------------------------------------------------------------------
# One pending change per contract
# --------------------------------------------------------------------------------------------------------


def test_R_CON_1_one_pending_change_per_contract_service_message(time_machine, catalog, client_account):
    time_machine.move_to(paris(2027, 1, 10, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    schedule(contract, "OR-ILL-30G-B")

    with pytest.raises(RuleViolation) as refused:
        schedule(contract, "OR-ILL-10G-NB")

    assert refused.value.field == "offer" and refused.value.rule == "R-CON-9"
    assert "déjà programmé pour le 01/02/2027" in refused.value.message
    assert "annulez-le" in refused.value.message
    assert ScheduledChange.objects.filter(contract=contract).count() == 1
    assert OperatorRequest.objects.filter(contract=contract).count() == 1


def test_R_CON_1_one_pending_change_per_contract_database_constraint(catalog, client_account):
    contract = live(client_account, "OR-ILL-10G-B")
    first = schedule(contract, "OR-ILL-30G-B")
    with pytest.raises(IntegrityError), transaction.atomic():
        ScheduledChange.objects.create(
            partner=contract.partner,
            contract=contract,
            kind=ScheduledChange.Kind.DOWNGRADE,
            from_offer=first.from_offer,
            to_offer=offer("OR-ILL-5G-B"),
            effective_at=first.effective_at,
            created_at=first.created_at,
        )
    # a cancelled change frees the slot (the index is partial: state = scheduled)
    scheduling.scheduled_change_cancel(change=first, actor=None)
    assert schedule(contract, "OR-ILL-5G-B").state == State.SCHEDULED


# --------------------------------------------------------------------------------------------------------
# Cancel before the effective date
# --------------------------------------------------------------------------------------------------------


def test_R_CON_1_cancel_before_effect_cancels_the_operator_request(
    time_machine, catalog, client_account, staff
):
    time_machine.move_to(paris(2027, 1, 31, 23, 59, 59), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    provisioning.plan_pending_requests()  # the dispatcher planned it for 1 Feb 00:00
    assert OperatorRequest.objects.get(pk=change.operator_request_id).state == ReqState.PLANNED

    cancelled = scheduling.scheduled_change_cancel(change=change, actor=staff)

    assert cancelled.state == State.CANCELLED and cancelled.cancelled_by == staff
    assert cancelled.cancelled_at == paris(2027, 1, 31, 23, 59, 59)
    assert OperatorRequest.objects.get(pk=change.operator_request_id).state == ReqState.CANCELLED
    assert scheduling.contract_pending_change(contract.partner, contract) is None
    assert contract.events.filter(kind=ContractEvent.Kind.CHANGE, message__contains="annulé").exists()
    # idempotent
    assert scheduling.scheduled_change_cancel(change=change, actor=staff).state == State.CANCELLED
    # nothing reaches the operator on the 1st
    time_machine.move_to(paris(2027, 2, 1, 0, 5), tick=False)
    report = provisioning.dispatch_due_requests()
    assert report.sent == 0
    contract.refresh_from_db()
    assert contract.offer.code == "OR-ILL-10G-B"


def test_R_CON_1_cancel_after_effect_is_refused(time_machine, catalog, client_account):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    time_machine.move_to(paris(2027, 2, 1), tick=False)  # exactly the effective instant

    with pytest.raises(RuleViolation) as refused:
        scheduling.scheduled_change_cancel(change=change, actor=None)

    assert refused.value.field == "change" and refused.value.rule == "R-CON-1"
    assert "a pris effet le 01/02/2027" in refused.value.message
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    assert change.operator_request.state == ReqState.PENDING


def test_R_CON_6_termination_drops_a_due_change_without_raising(time_machine, catalog, client_account):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    time_machine.move_to(paris(2027, 2, 1, 0, 1), tick=False)

    dropped = scheduling.contract_scheduled_change_drop(contract=contract, reason="résiliation de la ligne")

    assert dropped.pk == change.pk and dropped.state == State.CANCELLED
    assert OperatorRequest.objects.get(pk=change.operator_request_id).state == ReqState.CANCELLED
    assert scheduling.contract_scheduled_change_drop(contract=contract) is None


# --------------------------------------------------------------------------------------------------------
# Beat task + operator confirmation
# --------------------------------------------------------------------------------------------------------


def provisioned_line(time_machine, partner, client_account, code: str) -> Contract:
    """A real Orange line, live at the simulator (Friday 29 January 2027, 10:00: the window is open)."""
    time_machine.move_to(paris(2027, 1, 29, 10), tick=False)
    order = order_place(
        partner=partner,
        client=client_account,
        created_by=None,
        offer=offer(code),
        quantity=1,
        lines=[LineSpec(user_name="Ligne à migrer")],
    )
    provisioning.dispatch_due_requests()
    contract = order.contracts.get()
    assert contract.state == Contract.State.ACTIVE
    return contract


def test_R_CON_1_beat_task_and_operator_confirmation_switch_the_offer_on_the_first(
    time_machine, settings, catalog, partner, client_account, orange_stock, staff
):
    contract = provisioned_line(time_machine, partner, client_account, "OR-ILL-10G-B")
    time_machine.move_to(paris(2027, 1, 31, 22), tick=False)
    change = schedule(contract, "OR-ILL-30G-B", actor=staff)
    settings.SIMULATOR_LATENCY_SECONDS = 60  # the operator answers one minute after the request

    # 31 January, 23:59:59: nothing is due yet
    time_machine.move_to(paris(2027, 1, 31, 23, 59, 59), tick=False)
    assert apply_scheduled_changes_task() == 0
    provisioning.dispatch_due_requests()
    assert OperatorRequest.objects.get(pk=change.operator_request_id).state == ReqState.PLANNED

    # 1 February 00:00 Paris: the beat task runs, the dispatcher sends, the operator has not answered yet
    time_machine.move_to(paris(2027, 2, 1), tick=False)
    assert apply_scheduled_changes_task() == 1
    provisioning.dispatch_due_requests()
    request = OperatorRequest.objects.get(pk=change.operator_request_id)
    assert request.state == ReqState.SENT and request.operator_reference
    contract.refresh_from_db()
    change.refresh_from_db()
    assert contract.offer.code == "OR-ILL-10G-B", "the offer switches only when the operator confirms"
    assert change.state == State.SCHEDULED and change.is_due and not change.cancellable
    # the contract page says so
    from django.test import Client

    browser = Client()
    browser.force_login(staff)
    page = browser.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "informations"})
    )
    body = page.content.decode()
    assert "Changement d&#x27;offre programmé" in body or "Changement d'offre programmé" in body
    assert "En cours chez l" in body and "01/02/2027 à 00:00" in body

    # one minute later the operator confirms: the offer switches, the change is closed
    time_machine.move_to(paris(2027, 2, 1, 0, 1, 1), tick=False)
    simulator_tick()
    provisioning.dispatch_due_requests()
    apply_scheduled_changes_task()  # harmless afterwards
    contract.refresh_from_db()
    change.refresh_from_db()
    assert contract.offer.code == "OR-ILL-30G-B"
    assert change.state == State.APPLIED and change.applied_at == paris(2027, 2, 1, 0, 1, 1)
    assert scheduling.contract_pending_change(partner, contract) is None
    line = SimulatedOperatorLine.objects.get(msisdn=contract.msisdn)
    assert line.offer_code == "OR-ILL-30G-B"
    applied = contract.events.filter(kind=ContractEvent.Kind.CHANGE, message__contains="appliqué").get()
    assert "effectif le 01/02/2027" in applied.message
    # R-ROA-3: the Europe cut-off follows the new envelope
    assert contract.options.filter(code="OR-ILL-30G-B-europe-cutoff").exists()
    assert not contract.options.filter(code="OR-ILL-10G-B-europe-cutoff").exists()


def test_R_CON_2_beat_task_writes_a_lost_intent_again(time_machine, catalog, client_account):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-10G-NB")
    OperatorRequest.objects.filter(pk=change.operator_request_id).update(state=ReqState.CANCELLED)
    time_machine.move_to(paris(2027, 2, 1, 0, 3), tick=False)

    assert scheduling.scheduled_changes_apply_due() == 1

    change.refresh_from_db()
    new_request = change.operator_request
    assert new_request.state == ReqState.PENDING and new_request.kind == OperatorRequest.Kind.CHANGE_OFFER
    assert new_request.payload["offer_code"] == "OR-ILL-10G-NB"
    assert OperatorRequest.objects.filter(contract=contract, kind="change_offer").count() == 2
    scheduling.scheduled_changes_apply_due()  # a second run writes nothing more
    assert OperatorRequest.objects.filter(contract=contract, kind="change_offer").count() == 2


def test_R_CON_1_beat_task_applies_a_completed_request_whose_outcome_was_lost(
    time_machine, catalog, client_account
):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    OperatorRequest.objects.filter(pk=change.operator_request_id).update(state=ReqState.COMPLETED)
    time_machine.move_to(paris(2027, 2, 1, 0, 5), tick=False)

    scheduling.scheduled_changes_apply_due()

    change.refresh_from_db()
    contract.refresh_from_db()
    assert change.state == State.APPLIED and contract.offer.code == "OR-ILL-30G-B"


def test_R_CON_1_operator_failure_marks_the_change_failed_and_retry_brings_it_back(
    time_machine, catalog, client_account
):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    time_machine.move_to(paris(2027, 2, 1, 0, 5), tick=False)

    outcomes.operator_request_failed(
        request_id=change.operator_request_id, error="Offre refusée.", final=True
    )

    change.refresh_from_db()
    assert change.state == State.FAILED and change.last_error == "Offre refusée."
    assert contract.events.filter(kind=ContractEvent.Kind.CHANGE, message__contains="refusé").exists()
    assert scheduling.scheduled_changes_apply_due() == 0  # nothing to do while the request stays failed

    outcomes.operator_request_retry(request_id=change.operator_request_id)
    assert scheduling.scheduled_changes_apply_due() == 1
    change.refresh_from_db()
    assert change.state == State.SCHEDULED


def test_R_CON_1_change_of_a_terminated_line_is_cancelled_by_the_beat(time_machine, catalog, client_account):
    time_machine.move_to(paris(2027, 1, 20, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    Contract.objects.filter(pk=contract.pk).update(state=Contract.State.TERMINATED)
    time_machine.move_to(paris(2027, 2, 1, 0, 5), tick=False)

    scheduling.scheduled_changes_apply_due()

    change.refresh_from_db()
    assert change.state == State.CANCELLED
    assert change.operator_request.state == ReqState.CANCELLED


def test_beat_schedule_runs_the_named_task_every_five_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["contracts.apply_scheduled_changes"]
    assert entry["task"] == "contracts.apply_scheduled_changes" == apply_scheduled_changes_task.name
    assert entry["schedule"] == 300.0


# --------------------------------------------------------------------------------------------------------
# Reads and the Informations tab
# --------------------------------------------------------------------------------------------------------


def test_pending_change_selector_is_partner_scoped(catalog, client_account):
    from tests.factories.partners import PartnerFactory

    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B")
    assert scheduling.contract_pending_change(contract.partner, contract) == change
    assert scheduling.contract_pending_change(PartnerFactory(), contract) is None


def test_R_CON_1_informations_tab_shows_the_pending_change_before_its_date(
    time_machine, client, catalog, client_account, staff
):
    time_machine.move_to(datetime(2027, 1, 12, 9, tzinfo=UTC), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    schedule(contract, "OR-ILL-30G-NB", actor=staff)
    client.force_login(staff)

    page = client.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "informations"})
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="pending-change"' in body
    assert "Migration d&#x27;offre" in body and "(R-CON-2)" in body
    assert "01/02/2027 à 00:00" in body and "Annulable jusqu" in body
    assert offer("OR-ILL-30G-NB").label in body
    assert timedelta(0) < page.context["pending_change"].effective_at - datetime(2027, 1, 12, 9, tzinfo=UTC)


def test_R_CON_1_cancel_button_of_the_informations_tab_cancels_before_the_date(
    time_machine, client, catalog, client_account, staff
):
    time_machine.move_to(paris(2027, 1, 12, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    change = schedule(contract, "OR-ILL-30G-B", actor=staff)
    client.force_login(staff)
    tab = reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "informations"})
    action = reverse(
        "backoffice:contract_action", kwargs={"contract_id": contract.pk, "action": "cancel_change"}
    )

    assert f'action="{action}"' in client.get(tab).content.decode()
    response = client.post(action)

    assert response.status_code in (302, 204)
    change.refresh_from_db()
    assert change.state == State.CANCELLED and change.cancelled_by == staff
    assert 'id="pending-change"' not in client.get(tab).content.decode()
    # after the effective date the button is gone (no longer cancellable)
    due = schedule(contract, "OR-ILL-5G-B")
    time_machine.move_to(paris(2027, 2, 1, 0, 0, 1), tick=False)
    client.force_login(staff)  # a new session at the new time
    body = client.get(tab).content.decode()
    assert 'id="pending-change"' in body and f'action="{action}"' not in body
    assert due.operator_request.not_before == paris(2027, 2, 1)


def test_R_OPT_3_beat_ends_orange_options_terminated_for_the_first(time_machine, catalog, client_account):
    from contracts.models import ContractOption
    from contracts.tasks import end_due_options_task

    time_machine.move_to(paris(2027, 1, 12, 10), tick=False)
    contract = live(client_account, "OR-ILL-10G-B")
    option = ContractOption.objects.create(
        partner=contract.partner,
        contract=contract,
        code="conference",
        label="Conférence",
        status=ContractOption.Status.TERMINATING,
        created_at=paris(2027, 1, 2),
        ended_at=paris(2027, 2, 1),
    )
    assert end_due_options_task() == 0
    time_machine.move_to(paris(2027, 2, 1, 0, 5), tick=False)
    assert end_due_options_task() == 1
    option.refresh_from_db()
    assert option.status == ContractOption.Status.TERMINATED
    assert (
        django_settings.CELERY_BEAT_SCHEDULE["contracts.end_due_options"]["task"] == end_due_options_task.name
    )
