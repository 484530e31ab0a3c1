"""Safe runs (issue 9 item 7) on real PostgreSQL with real threads: two runs at once make one set of invoices
with gapless numbers; a crash mid-run resumes without duplicates."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from billing import services
from billing.models import BillingRun, Charge, Invoice, InvoiceSequence
from tests.billing.conftest import billing_partner, paris

pytestmark = pytest.mark.django_db(transaction=True)

DEC = dt.date(2026, 12, 1)
RUN_DEC = paris(2026, 12, 1, 6)


def _lines_for(n_partners: int, line) -> list:
    partners = [billing_partner(f"Partenaire Course {i}", i) for i in range(n_partners)]
    for p in partners:
        for code in ("OR-ILL-10G-NB", "OR-ILL-5G-NB"):
            line(code, owner=p)
    return partners


def test_two_runs_at_once_make_one_set_of_gapless_invoices(line):
    partners = _lines_for(4, line)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run():
        try:
            barrier.wait(timeout=10)
            services.billing_run(month=DEC, now=RUN_DEC)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    invoices = list(Invoice.objects.order_by("sequence"))
    assert len(invoices) == len(partners) == 4
    assert sorted(i.customer_partner_id for i in invoices) == sorted(p.pk for p in partners)
    assert [i.sequence for i in invoices] == [1, 2, 3, 4]
    assert [i.number for i in invoices] == [f"FA-2026-{n:06d}" for n in (1, 2, 3, 4)]
    assert InvoiceSequence.objects.get(issuer_key="alphalink", year=2026).last == 4
    # every charge on exactly one invoice, each invoice adding up
    assert Charge.objects.filter(invoice__isnull=True).count() == 0
    for invoice in invoices:
        assert invoice.lines.count() == 4 and invoice.total_ttc == invoice.total_ht + invoice.total_vat


def test_a_crash_mid_run_resumes_without_duplicates(line, monkeypatch):
    partners = _lines_for(3, line)
    real = services.wholesale_invoice_make
    calls = {"n": 0}

    def crashing(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real(**kwargs)

    monkeypatch.setattr(services, "wholesale_invoice_make", crashing)
    with time_machine.travel(RUN_DEC, tick=False), pytest.raises(RuntimeError):
        services.billing_run(month=DEC)
    first = Invoice.objects.get()
    run = BillingRun.objects.get()
    assert run.state == "running" and run.invoiced == {str(first.customer_partner_id): first.number}

    monkeypatch.setattr(services, "wholesale_invoice_make", real)
    with time_machine.travel(paris(2026, 12, 1, 7), tick=False):
        run = services.billing_run(month=DEC)
    assert run.state == "done" and len(run.invoiced) == 3
    invoices = list(Invoice.objects.order_by("sequence"))
    assert [i.sequence for i in invoices] == [1, 2, 3]
    assert invoices[0] == first and invoices[0].total_ttc == first.total_ttc
    assert sorted(i.customer_partner_id for i in invoices) == sorted(p.pk for p in partners)


def test_a_failed_issue_gives_its_number_back(line, monkeypatch):
    """A number is drawn in the issuing transaction: an issue that fails after drawing leaves no gap."""
    _lines_for(2, line)
    real = services.invoice_issue
    calls = {"n": 0}

    def failing(**kwargs):
        invoice = real(**kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("crash after the number was drawn")
        return invoice

    monkeypatch.setattr(services, "invoice_issue", failing)
    with time_machine.travel(RUN_DEC, tick=False), pytest.raises(RuntimeError):
        services.billing_run(month=DEC)
    assert not Invoice.objects.exists()
    monkeypatch.setattr(services, "invoice_issue", real)
    with time_machine.travel(RUN_DEC, tick=False):
        services.billing_run(month=DEC)
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2]
