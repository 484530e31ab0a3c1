"""Concurrency against real PostgreSQL and real threads (STYLE 27): two flushes never send a row twice, two
enqueues of one dedup key make one row."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction

from notifications.models import OutboxMessage, SimulatedSms
from notifications.services import outbox_enqueue_email, outbox_enqueue_sms, outbox_flush
from notifications.sms import SimulatedSmsGateway
from tests.factories.partners import PartnerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (SKIP LOCKED, row locks)"),
]


class SlowSimulatedSmsGateway(SimulatedSmsGateway):
    """A gateway that takes a little time, so that the two flushes overlap."""

    def send(self, to, text):
        time.sleep(0.003)
        return super().send(to, text)


def _run_in_threads(target, n=2):
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait(timeout=10)
            target(i)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_two_concurrent_flushes_send_each_message_exactly_once(settings):
    settings.SMS_GATEWAY = "tests.notifications.test_concurrency.SlowSimulatedSmsGateway"
    partner = PartnerFactory()
    n_email, n_sms = 40, 40
    for i in range(n_email):
        outbox_enqueue_email(
            partner=partner,
            to=f"user{i}@example.fr",
            subject=f"Message {i}",
            template="notifications/email/partner_message",
            context={"title": f"Message {i}"},
        )
    for i in range(n_sms):
        outbox_enqueue_sms(partner=partner, to="0612345678", text=f"SMS {i}")
    results = {0: [], 1: []}

    def flush_until_empty(i):
        while True:
            result = outbox_flush(batch=7)
            results[i].append(result)
            if result.claimed == 0:
                return

    errors = _run_in_threads(flush_until_empty)

    assert errors == []
    sent_by = {i: sum(r.sent for r in rs) for i, rs in results.items()}
    print(f"sent by thread: {sent_by}; emails {len(mail.outbox)}, SMS {SimulatedSms.objects.count()}")
    assert sum(sent_by.values()) == n_email + n_sms
    assert len(mail.outbox) == n_email
    assert sorted(m.subject for m in mail.outbox) == sorted(f"Message {i}" for i in range(n_email))
    assert SimulatedSms.objects.count() == n_sms
    assert SimulatedSms.objects.values("text").distinct().count() == n_sms
    assert set(OutboxMessage.objects.values_list("state", "attempts").distinct()) == {
        (OutboxMessage.State.SENT, 1)
    }


def test_two_concurrent_enqueues_with_one_dedup_key_make_one_row():
    partner = PartnerFactory()
    ids = []

    def enqueue(i):
        with transaction.atomic():
            message = outbox_enqueue_sms(partner=partner, to="0612345678", text=f"t{i}", dedup_key="alert:1")
            ids.append(message.pk)
            time.sleep(0.05)  # hold the transaction so that the other insert waits on the unique index

    errors = _run_in_threads(enqueue)

    assert errors == []
    assert OutboxMessage.objects.filter(partner=partner).count() == 1
    assert len(ids) == 2 and len(set(ids)) == 1
