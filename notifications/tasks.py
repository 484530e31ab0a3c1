"""Celery tasks of notifications (STYLE 8–12): thin, idempotent, the truth stays in the outbox table."""

from __future__ import annotations

from celery import shared_task

from . import services

#: Batches one task run may send before it leaves the rest to the next run (bounded work per task).
MAX_BATCHES = 20
BATCH_SIZE = 100


@shared_task(name="notifications.outbox_flush", ignore_result=True)
def outbox_flush_task() -> int:
    """Send the due outbox messages; run after each commit that queued one, and by beat every 30 s.

    Safe to run twice at once: each row is claimed by one flush only. Returns the number sent."""
    sent = 0
    for _ in range(MAX_BATCHES):
        result = services.outbox_flush(batch=BATCH_SIZE)
        sent += result.sent
        if result.claimed < BATCH_SIZE:
            break
    return sent
