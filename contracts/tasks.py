"""Celery tasks of contracts (STYLE 9): thin, named, idempotent — all run by beat (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from . import scheduling


@shared_task(
    name="contracts.apply_scheduled_changes", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def apply_scheduled_changes_task() -> int:
    """Every 5 minutes: settle the scheduled offer changes whose effective date has come (R-CON-1/2) —
    ``contracts.scheduling.scheduled_changes_apply_due``. Harmless to run often or twice at once: each change
    is settled under row locks and only once."""
    return scheduling.scheduled_changes_apply_due()


@shared_task(name="contracts.end_due_options", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def end_due_options_task() -> int:
    """Every 5 minutes: Orange options terminated "on the 1st of next month" become Résilié once the date has
    passed (R-OPT-3) — ``contracts.lifecycle.contract_options_end_due``. Idempotent."""
    from . import lifecycle

    return lifecycle.contract_options_end_due()


@shared_task(name="contracts.purge_idempotency_records", acks_late=True, ignore_result=True)
def purge_idempotency_records_task() -> int:
    """Daily: forget API idempotency keys past their retention (``IDEMPOTENCY_KEY_TTL_DAYS``). Idempotent."""
    from . import services

    return services.idempotency_records_purge()


@shared_task(
    name="contracts.lift_due_data_blocks", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def lift_due_data_blocks_task() -> int:
    """Every 5 minutes: the new month (00:00 Paris on the 1st) lifts the data blocks of the month before, and SMS
    bars whose 3 days are over are closed (R-ALR-1..3, R-CAT-7, R-CAT-11) —
    ``contracts.datablocks.data_blocks_lift_due``. Idempotent, safe to run twice at once."""
    from . import datablocks

    return datablocks.data_blocks_lift_due()
