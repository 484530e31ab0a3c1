"""``python manage.py import_sims FILE --partner <slug>``: import a SIM stock file, all or nothing.

File format (see ``inventory.importing``): header ``iccid;pin;puk;network`` (``;`` or ``,``), one SIM a line,
empty PIN for a SIM without PIN. Every bad line is printed with its line number and reason; nothing is
imported when any line is bad (exit status 1).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import RuleViolation, ValidationFailed
from inventory.services import sim_import_csv
from partners.selectors import partner_get_by_slug

from ._progress import TqdmProgress


class Command(BaseCommand):
    help = "Importe un fichier CSV de cartes SIM (iccid;pin;puk;network) dans le stock d'un partenaire."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="fichier CSV (séparateur ; ou ,)")
        parser.add_argument("--partner", required=True, help="identifiant (slug) du partenaire")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def handle(self, *args, file: Path, partner: str, no_progress: bool, **options):
        owner = partner_get_by_slug(partner)
        if owner is None:
            raise CommandError(f"Partenaire inconnu : {partner}")
        if not file.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        progress = TqdmProgress(self.stderr, disable=no_progress)
        try:
            count = sim_import_csv(partner=owner, data=file.read_bytes(), progress=progress)
        except ValidationFailed as exc:
            progress.close()
            for error in exc.errors:
                self.stderr.write(str(error.message))
            raise CommandError(str(exc.message)) from None
        except RuleViolation as exc:
            progress.close()
            raise CommandError(str(exc.message)) from None
        progress.close()
        self.stdout.write(self.style.SUCCESS(f"{count} carte(s) SIM importée(s) pour {owner.name}."))
