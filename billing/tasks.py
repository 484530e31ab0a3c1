"""Celery tasks of billing (STYLE 9): thin, named, idempotent."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.clock import month_start


@shared_task(
    name="billing.billing_run", acks_late=True, ignore_result=True, time_limit=3600, soft_time_limit=3500
)
def billing_run_task(month: str | None = None) -> int:
    """Beat, on the 1st at 06:00 Europe/Paris: the run of the month just started (its subscriptions à échoir,
    the previous month's usage à terme échu). ``month``: ``YYYY-MM`` to run another month. Then the drafts of
    the partners' invoices to their clients (« Génération facturation revendeur »). Safe to repeat."""
    import datetime as dt

    from . import reseller, services

    target = dt.date.fromisoformat(f"{month}-01") if month else month_start(timezone.now())
    run = services.billing_run(month=target)
    reseller.reseller_drafts_make_all(month=target)
    return len(run.invoiced)


@shared_task(
    name="billing.render_invoice_pdf",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def render_invoice_pdf_task(invoice_id: int) -> bool:
    """Make the Factur-X PDF of an issued invoice and store it (queued on commit after issue). Already made or
    no such invoice: nothing to do."""
    from .pdf import invoice_pdf_store

    return invoice_pdf_store(invoice_id=invoice_id)
