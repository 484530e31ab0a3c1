"""``manage.py simulate_esim_download <ICCID | matching id | activation code> <code>``: play the handset's side
of an eSIM delivery against the Orange simulator (R-ORD-4) — in ``make run``, read the activation code on the
contract's Resources tab (or in the mail at /dev/boite-mail/), the 6-digit code in the simulated SMS, and try
it here. Three wrong codes lock the profile; an installed profile cannot be installed again (R-OPT-2).

Without a code, prints where the profile stands (tries, locked, installed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from provisioning.models import SimulatedEsimProfile
from provisioning.simulators.orange import ESIM_MAX_TRIES, OrangeSimulator


class Command(BaseCommand):
    help = "Simule le téléchargement d'une eSIM par un mobile (code de confirmation, 3 essais, R-ORD-4)."

    def add_arguments(self, parser):
        parser.add_argument("profile", help="ICCID, matching id ou code d'activation LPA:1$… du profil eSIM")
        parser.add_argument("code", nargs="?", default="", help="code de confirmation à 6 chiffres (SMS)")

    def handle(self, *args, profile: str, code: str, **options):
        if not code:
            ref = profile.strip().upper()
            row = SimulatedEsimProfile.objects.filter(
                Q(iccid=ref) | Q(matching_id=ref) | Q(activation_code=profile.strip())
            ).first()
            if row is None:
                raise CommandError(f"Profil eSIM inconnu : {profile}")
            if row.retired_at:
                state = f"retiré le {row.retired_at:%d/%m/%Y %H:%M}"
            elif row.installed_at:
                state = f"installé le {row.installed_at:%d/%m/%Y %H:%M}"
            elif row.locked_at:
                state = "bloqué (3 essais erronés)"
            else:
                state = f"à installer, {ESIM_MAX_TRIES - row.failed_attempts} essai(s) restant(s)"
            self.stdout.write(f"eSIM {row.iccid} ({row.activation_code}) : {state}")
            return
        result = OrangeSimulator().esim_confirm(profile, code)
        line = f"[{result.status}] {result.message}"
        if result.ok:
            self.stdout.write(self.style.SUCCESS(line))
        else:
            self.stdout.write(self.style.ERROR(line))
