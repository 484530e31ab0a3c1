"""After an order commits, the provisioning dispatcher is woken by Celery task *name* (ARCHITECTURE), harmlessly."""

import pytest
from celery import current_app

from contracts.services import DISPATCH_TASK, LineSpec, order_place, wake_dispatcher
from tests.factories.contracts import offer

pytestmark = pytest.mark.django_db


def test_wake_dispatcher_sends_the_task_by_name_after_commit(
    catalog,
    partner,
    staff,
    client_account,
    orange_stock,
    settings,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    settings.PROVISIONING_WAKE_ON_ORDER = True
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **kw: sent.append(name))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_place(
            partner=partner,
            client=client_account,
            created_by=staff,
            offer=offer("OR-ILL-10G-B"),
            quantity=2,
            lines=[LineSpec(), LineSpec()],
        )
        assert sent == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [DISPATCH_TASK]


def test_wake_dispatcher_is_harmless_when_the_broker_is_down(settings, monkeypatch):
    settings.PROVISIONING_WAKE_ON_ORDER = True
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def broken(name, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app, "send_task", broken)
    wake_dispatcher()  # logs, does not raise


def test_wake_dispatcher_runs_the_registered_task_in_eager_mode(settings, monkeypatch):
    settings.PROVISIONING_WAKE_ON_ORDER = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    calls = []

    class FakeTask:
        def apply_async(self, **kwargs):
            calls.append("run")

    monkeypatch.setitem(current_app.tasks, DISPATCH_TASK, FakeTask())
    wake_dispatcher()
    assert calls == ["run"]
