"""Best-effort wake-ups of background work after a commit (issue 10 item 5).

The database holds the durable truth (an operator request, an outbox row, an issued invoice) and a periodic beat
task sweeps it, so a message that wakes a worker *now* is only a shortcut. Publishing it must therefore never
hold a web request for long when the broker is down: Celery's default publish retries the connection for up to
``broker_connection_timeout`` (4 s) on top of redis-py's own retries — about 6 s per order or contract action.

:func:`wake_task` publishes on its own short-lived connection with no retry anywhere (kombu ``max_retries=0``,
``retry=False``) and a socket timeout of ``BROKER_WAKE_TIMEOUT_SECONDS`` seconds; any failure is logged and swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings

logger = logging.getLogger(__name__)


def wake_publish_options() -> dict:
    """The connection options of a wake-up: one attempt, bounded by ``BROKER_WAKE_TIMEOUT_SECONDS`` seconds."""
    timeout = settings.BROKER_WAKE_TIMEOUT_SECONDS
    return {
        "connect_timeout": timeout,
        "transport_options": {
            "max_retries": 0,  # kombu: one connection attempt, no retry loop
            "socket_connect_timeout": timeout,  # redis: a black-holed host gives up quickly too
            "socket_timeout": timeout,
            "retry_on_timeout": False,
        },
    }


def wake_task(name: str, *, args: Sequence = ()) -> bool:
    """Ask a worker to run the task called ``name`` now, after the caller's commit, best effort.

    In eager mode (``make run`` without a broker) the registered task runs in-process. Returns True when the
    message left (or the eager task ran), False when the broker refused it (logged, never raised)."""
    from celery import current_app

    try:
        if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
            task = current_app.tasks.get(name)
            if task is not None:
                task.apply_async(args=list(args))
            return True
        with current_app.connection_for_write(**wake_publish_options()) as connection:
            current_app.send_task(name, args=list(args), connection=connection, retry=False)
        return True
    except Exception:  # the broker is down: the beat sweep picks the work up from the database
        logger.warning("could not wake %s; the periodic sweep will pick the work up", name, exc_info=True)
        return False
