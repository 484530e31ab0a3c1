"""The outbox: queue in the caller's transaction, send later, retry with backoff, never lose, never twice."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import RuleViolation
from notifications import partners, services
from notifications.models import OutboxMessage, SimulatedSms
from notifications.services import outbox_enqueue_email, outbox_enqueue_sms, outbox_flush
from notifications.sms import SimulatedSmsGateway
from tests.factories.partners import MembershipFactory, UserFactory
from tests.notifications.backends import DownBackend
from tests.notifications.conftest import REAL_WAKE_SENDER

pytestmark = pytest.mark.django_db

T0 = timezone.datetime(2025, 3, 10, 10, 0, tzinfo=timezone.get_fixed_timezone(60))
TEMPLATE = "notifications/email/partner_message"


def _email(partner, **kw):
    params = {
        "partner": partner,
        "to": "gestion@example.fr",
        "subject": "Suspension de ligne",
        "template": TEMPLATE,
        "context": {
            "title": "Ligne suspendue",
            "intro": "La ligne a été suspendue.",
            "details": [("Contrat", "42")],
        },
    }
    params.update(kw)
    return outbox_enqueue_email(**params)


def test_enqueue_email_then_flush_sends_text_and_html(partner):
    message = _email(partner)
    assert message.state == OutboxMessage.State.PENDING
    assert mail.outbox == []  # nothing is sent by the enqueue itself

    result = outbox_flush()

    assert (result.claimed, result.sent) == (1, 1)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["gestion@example.fr"]
    assert sent.subject == "Suspension de ligne"
    assert "La ligne a été suspendue." in sent.body
    assert "Contrat : 42" in sent.body
    ((html, mimetype),) = sent.alternatives
    assert mimetype == "text/html"
    assert "<h1" in html and "Ligne suspendue" in html and "Telcom Pro" in html
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT
    assert message.attempts == 1 and message.sent_at is not None
    assert message.provider_message_id == sent.extra_headers["Message-ID"]


def test_enqueue_sms_normalises_to_e164_and_flush_records_it_in_the_simulator(partner):
    message = outbox_enqueue_sms(partner=partner, to="06 12 34 56 78", text="Bonjour")
    assert message.to == "+33612345678"

    outbox_flush()

    sms = SimulatedSms.objects.get()
    assert (sms.to, sms.text) == ("+33612345678", "Bonjour")
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT
    assert message.provider_message_id == sms.message_id


@pytest.mark.parametrize("bad", ["", "pas-un-numero", "01 23 45 67 89", "0612"])
def test_sms_to_an_invalid_mobile_is_refused(partner, bad):
    with pytest.raises(RuleViolation) as exc:
        outbox_enqueue_sms(partner=partner, to=bad, text="Bonjour")
    assert exc.value.field == "to" and exc.value.rule == "ID-MSISDN"
    assert not OutboxMessage.objects.exists()


def test_email_to_an_invalid_address_is_refused(partner):
    with pytest.raises(RuleViolation) as exc:
        _email(partner, to="pas une adresse")
    assert exc.value.field == "to"
    assert not OutboxMessage.objects.exists()


def test_sender_is_woken_only_after_commit(partner, wakes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _email(partner)
    assert len(callbacks) == 1 and wakes == [1]


def test_rolled_back_transaction_queues_nothing_and_wakes_nobody(
    partner, wakes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ZeroDivisionError):
            with transaction.atomic():
                _email(partner)
                1 / 0
    assert callbacks == [] and wakes == []
    assert not OutboxMessage.objects.exists()


def test_real_wake_sender_sends_the_flush_task_and_survives_a_broker_down(settings, monkeypatch):
    from celery import current_app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kwargs: sent.append((name, kwargs["retry"])))
    REAL_WAKE_SENDER()
    assert sent == [("notifications.outbox_flush", False)]  # one bounded attempt (core/broker.py)

    def broker_down(name, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(current_app, "send_task", broker_down)
    REAL_WAKE_SENDER()  # logged, not raised: the beat sweep sends the row later


def test_dedup_key_prevents_a_second_enqueue(partner, other_partner):
    first = _email(partner, dedup_key="selfcare:suspend:42")
    second = _email(partner, dedup_key="selfcare:suspend:42", subject="autre objet")
    other = _email(other_partner, dedup_key="selfcare:suspend:42")

    assert second.pk == first.pk
    assert other.pk != first.pk  # dedup keys are per partner
    assert OutboxMessage.objects.filter(partner=partner).count() == 1
    outbox_flush()
    assert len(mail.outbox) == 2


def test_dedup_key_is_unique_per_partner_in_the_database(partner):
    sms = outbox_enqueue_sms(partner=partner, to="0612345678", text="a", dedup_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(partner=partner, channel="sms", to=sms.to, body_text="b", dedup_key="k")


def test_long_dedup_keys_are_hashed_and_still_deduplicate(partner):
    key = "x" * 400
    first = outbox_enqueue_sms(partner=partner, to="0612345678", text="a", dedup_key=key)
    again = outbox_enqueue_sms(partner=partner, to="0612345678", text="a", dedup_key=key)
    assert first.pk == again.pk and len(first.dedup_key) <= 255


def test_smtp_down_keeps_the_row_pending_with_backoff_then_sends_later(partner, settings):
    with time_machine.travel(T0, tick=False):
        message = _email(partner)
        settings.EMAIL_BACKEND = "tests.notifications.backends.DownBackend"

        result = outbox_flush()

        assert (result.sent, result.retried) == (0, 1)
        message.refresh_from_db()
        assert message.state == OutboxMessage.State.PENDING
        assert message.attempts == 1
        assert "ConnectionRefusedError" in message.last_error
        assert message.next_attempt_at == T0 + timedelta(seconds=60)

    with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
        assert outbox_flush().claimed == 0  # not due yet

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
        result = outbox_flush()

    assert result.sent == 1 and len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT and message.attempts == 2
    assert message.last_error == ""


def test_smtp_down_is_tried_once_per_flush_not_once_per_email(partner, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.DownBackend"
    DownBackend.opens = 0
    for i in range(3):
        _email(partner, to=f"u{i}@example.fr")

    result = outbox_flush()

    assert result.retried == 3 and DownBackend.opens == 1
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxMessage.State.PENDING}


def test_smtp_down_does_not_hold_back_sms(partner, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.DownBackend"
    email = _email(partner)
    sms = outbox_enqueue_sms(partner=partner, to="0612345678", text="Bonjour")

    outbox_flush()

    email.refresh_from_db()
    sms.refresh_from_db()
    assert email.state == OutboxMessage.State.PENDING
    assert sms.state == OutboxMessage.State.SENT
    assert SimulatedSms.objects.count() == 1


@pytest.mark.parametrize("switch", ["setting", "flag"])
def test_sms_gateway_down_keeps_the_row_then_sends_later(partner, settings, switch):
    with time_machine.travel(T0, tick=False):
        message = outbox_enqueue_sms(partner=partner, to="+33612345678", text="Code 123456")
        if switch == "setting":
            settings.SMS_SIMULATOR_DOWN = True
        else:
            SimulatedSmsGateway.down = True

        assert outbox_flush().retried == 1

    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING and message.attempts == 1
    assert "SmsGatewayError" in message.last_error
    assert not SimulatedSms.objects.exists()

    settings.SMS_SIMULATOR_DOWN = False
    SimulatedSmsGateway.down = False
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert outbox_flush().sent == 1
    assert SimulatedSms.objects.get().text == "Code 123456"


def test_backoff_grows_exponentially_then_the_message_fails_after_max_attempts(partner, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RejectingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 4
    now = T0
    with time_machine.travel(now, tick=False):
        message = _email(partner)
    delays = []
    for _ in range(4):
        with time_machine.travel(now, tick=False):
            outbox_flush()
        message.refresh_from_db()
        if message.state == OutboxMessage.State.FAILED:
            break
        delays.append((message.next_attempt_at - now).total_seconds())
        now = message.next_attempt_at

    assert delays == [60, 120, 240]
    assert message.state == OutboxMessage.State.FAILED and message.attempts == 4
    assert "550 relay refused" in message.last_error
    with time_machine.travel(now + timedelta(days=1), tick=False):
        assert outbox_flush().claimed == 0  # a failed message is not retried by itself


def test_failed_message_can_be_requeued(partner, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.RejectingBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = _email(partner)
    outbox_flush()
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.outbox_requeue(message=message)
    assert message.state == OutboxMessage.State.PENDING and message.attempts == 0
    assert outbox_flush().sent == 1


def test_a_row_left_sending_by_a_killed_worker_is_reclaimed_after_the_lease(partner):
    with time_machine.travel(T0, tick=False):
        message = _email(partner)
        OutboxMessage.objects.filter(pk=message.pk).update(state=OutboxMessage.State.SENDING, claimed_at=T0)
        assert outbox_flush().claimed == 0  # still within the lease: someone may be sending it

    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        result = outbox_flush()

    assert (result.reclaimed, result.sent) == (1, 1)
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.SENT and message.attempts == 2


def test_flush_sends_due_rows_by_batches(partner):
    for i in range(5):
        outbox_enqueue_sms(partner=partner, to="0612345678", text=f"n°{i}")
    assert outbox_flush(batch=2).sent == 2
    assert outbox_flush(batch=2).sent == 2
    assert outbox_flush(batch=2).sent == 1
    assert outbox_flush(batch=2).claimed == 0
    assert sorted(SimulatedSms.objects.values_list("text", flat=True)) == [f"n°{i}" for i in range(5)]


def test_partner_notify_goes_to_the_notification_email_when_set(partner):
    """R-SC-8: the partner is emailed on each client action."""
    partner.notification_email = "alertes@telcom.example.fr"
    partner.save()
    MembershipFactory(partner=partner)

    messages = partners.partner_notify(
        partner=partner,
        subject="Action selfcare",
        template=TEMPLATE,
        context={"title": "Suspension", "details": [("Client", "ACME")]},
        dedup_key="sc:1",
    )

    assert [m.to for m in messages] == ["alertes@telcom.example.fr"]


def test_R_ALR_4_partner_notify_falls_back_to_the_partners_active_admins(partner, other_partner):
    MembershipFactory(partner=partner, user=UserFactory(email="b-admin@example.fr"))
    MembershipFactory(partner=partner, user=UserFactory(email="a-admin@example.fr"))
    MembershipFactory(partner=partner, role="staff", user=UserFactory(email="staff@example.fr"))
    MembershipFactory(partner=partner, user=UserFactory(email="gone@example.fr", is_active=False))
    MembershipFactory(partner=other_partner, user=UserFactory(email="other@example.fr"))

    kwargs = {"partner": partner, "subject": "Alerte", "template": TEMPLATE, "context": {"title": "Seuil"}}
    messages = partners.partner_notify(**kwargs, dedup_key="alert:7")
    again = partners.partner_notify(**kwargs, dedup_key="alert:7")

    assert [m.to for m in messages] == ["a-admin@example.fr", "b-admin@example.fr"]
    assert [m.pk for m in again] == [m.pk for m in messages]
    assert OutboxMessage.objects.count() == 2


def test_partner_notify_with_no_recipient_queues_nothing(partner):
    assert (
        partners.partner_notify(partner=partner, subject="x", template=TEMPLATE, context={}, dedup_key="k")
        == []
    )
    assert not OutboxMessage.objects.exists()


def test_flush_task_is_named_and_scheduled_every_30_seconds(partner, settings):
    from notifications.tasks import outbox_flush_task

    assert outbox_flush_task.name == "notifications.outbox_flush"
    entry = settings.CELERY_BEAT_SCHEDULE["notifications.outbox_flush"]
    assert entry["task"] == "notifications.outbox_flush" and entry["schedule"] == 30.0
    outbox_enqueue_sms(partner=partner, to="0612345678", text="via la tâche")
    assert outbox_flush_task() == 1
    assert SimulatedSms.objects.get().text == "via la tâche"
