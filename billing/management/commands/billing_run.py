"""``manage.py billing_run --month YYYY-MM``: the monthly run (charges, then one invoice per partner); safe to
run again. Without ``--month``: the month just started (Europe/Paris). Then the drafts of the partners' invoices
to their clients (« Génération facturation revendeur »); ``--revendeur-seulement``: only those drafts."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from billing.reseller import reseller_drafts_make_all
from billing.services import billing_run
from core.clock import month_start


class Command(BaseCommand):
    help = "Facturation mensuelle : éléments facturables puis une facture par partenaire (relançable sans risque)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="mois facturé, AAAA-MM (défaut : le mois en cours)")
        parser.add_argument(
            "--revendeur-seulement",
            action="store_true",
            dest="reseller_only",
            help="refaire seulement les brouillons des factures clients des revendeurs",
        )

    def handle(self, *args, month=None, reseller_only=False, **options):
        try:
            target = dt.date.fromisoformat(f"{month}-01") if month else month_start()
        except ValueError as exc:
            raise CommandError(f"Mois invalide : {month} (attendu AAAA-MM)") from exc
        if not reseller_only:
            self._wholesale(target)
        for partner_id, outcome in sorted(reseller_drafts_make_all(month=target).items()):
            if isinstance(outcome, int):
                self.stdout.write(f"  revendeur {partner_id} : {outcome} brouillon(s) de facture client")
            else:
                self.stdout.write(self.style.WARNING(f"  revendeur {partner_id} : {outcome}"))

    def _wholesale(self, target: dt.date) -> None:
        run = billing_run(month=target)
        self.stdout.write(f"Facturation {target:%Y-%m} : {len(run.invoiced)} facture(s)")
        for partner_id, number in sorted(run.invoiced.items()):
            self.stdout.write(f"  partenaire {partner_id} : {number}")
        for partner_id, message in sorted(run.blocked.items()):
            self.stdout.write(self.style.WARNING(f"  partenaire {partner_id} bloqué :\n{message}"))
