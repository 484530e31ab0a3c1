"""The doors of the run (``manage.py billing_run``, the beat task) and the scoped selectors."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.http import Http404

from billing import selectors
from billing.models import Invoice
from billing.tasks import billing_run_task
from tests.billing.conftest import billing_partner, paris

pytestmark = pytest.mark.django_db


def test_billing_run_command_for_a_month(partner, line):
    line("OR-ILL-10G-NB")
    out = StringIO()
    with time_machine.travel(paris(2026, 12, 1, 6), tick=False):
        call_command("billing_run", "--month", "2026-12", stdout=out)
    invoice = Invoice.objects.get()
    assert invoice.period_month == dt.date(2026, 12, 1)
    assert "1 facture(s)" in out.getvalue() and invoice.number in out.getvalue()
    with pytest.raises(CommandError, match="Mois invalide"):
        call_command("billing_run", "--month", "décembre")


def test_beat_runs_the_month_just_started_on_the_1st_at_6(partner, line):
    entry = settings.CELERY_BEAT_SCHEDULE["billing.billing_run"]
    schedule = entry["schedule"]
    assert entry["task"] == "billing.billing_run"
    assert (schedule.minute, schedule.hour, schedule.day_of_month) == ({0}, {6}, {1})
    assert settings.CELERY_TIMEZONE == "Europe/Paris"
    line("OR-ILL-10G-NB")
    with time_machine.travel(paris(2027, 1, 1, 6), tick=False):
        assert billing_run_task() == 1
    assert Invoice.objects.get().period_month == dt.date(2027, 1, 1)


def test_selectors_are_scoped_to_the_partner(partner, line):
    line("OR-ILL-10G-NB")
    other = billing_partner("Autre", 7)
    with time_machine.travel(paris(2026, 12, 1, 6), tick=False):
        billing_run_task("2026-12")
    invoice = Invoice.objects.get()
    assert list(selectors.invoice_list(partner)) == [invoice]
    assert selectors.invoice_get_for_actor_or_404(partner, invoice.pk) == invoice
    assert not selectors.invoice_list(other).exists()
    with pytest.raises(Http404):
        selectors.invoice_get_for_actor_or_404(other, invoice.pk)
    assert not selectors.charges_pending(partner, dt.date(2026, 12, 1)).exists()  # all invoiced
    assert selectors.charges_pending(partner, dt.date(2027, 1, 1)).count() == 0  # January not computed yet


def test_partner_identity_checks_siret_and_vat(partner):
    from django.core.exceptions import ValidationError

    profile = partner.billing_profile
    profile.full_clean()
    profile.vat_number = "FR00999999998"
    with pytest.raises(ValidationError) as error:
        profile.full_clean()
    assert "vat_number" in error.value.message_dict
