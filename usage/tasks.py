"""Celery tasks of usage (STYLE 9): thin, named, idempotent — run by beat (``CELERY_BEAT_SCHEDULE``), on the
default queue like ``provisioning.tasks``."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="usage.ingest_dropped_files",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def ingest_dropped_files_task(network: str | None = None) -> int:
    """Every ``CDR_PICKUP_SECONDS``, once per network: take the operator's new files from ``CDR_DROP_DIR``.
    Each file is one transaction claimed by its content hash, so two workers, a re-delivery or a crash
    mid-file never count a record twice (``usage.ingestion``). Returns the number of records taken."""
    return sum(report.taken for report in services.ingest_dropped_files(network=network))


@shared_task(name="usage.drop_old_partitions", acks_late=True, ignore_result=True)
def drop_old_partitions_task() -> int:
    """Daily: drop the raw-record partitions older than ``CDR_RETENTION_MONTHS``."""
    return len(services.cdr_partitions_drop_old())
