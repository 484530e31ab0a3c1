"""``python manage.py import_numbers --partner <slug> (FILE | --range FIRST LAST --network N)``.

Adds numbers to a partner's pool, all or nothing. File format (see ``inventory.importing``): header
``msisdn;network[;kind]``. A range adds every number from FIRST to LAST (at most 10,000).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import RuleViolation, ValidationFailed
from core.networks import Network
from inventory.services import number_import_csv, number_import_range
from partners.selectors import partner_get_by_slug

from ._progress import TqdmProgress


class Command(BaseCommand):
    help = "Ajoute des numéros à la réserve d'un partenaire (fichier CSV msisdn;network[;kind] ou plage)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, nargs="?", help="fichier CSV (séparateur ; ou ,)")
        parser.add_argument("--partner", required=True, help="identifiant (slug) du partenaire")
        parser.add_argument(
            "--range", dest="number_range", nargs=2, metavar=("PREMIER", "DERNIER"), help="plage de numéros"
        )
        parser.add_argument("--network", choices=Network.values, help="réseau de la plage")
        parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")

    def handle(
        self, *args, file: Path | None, partner: str, number_range, network, no_progress: bool, **options
    ):
        owner = partner_get_by_slug(partner)
        if owner is None:
            raise CommandError(f"Partenaire inconnu : {partner}")
        if bool(file) == bool(number_range):
            raise CommandError("Indiquez soit un fichier, soit --range PREMIER DERNIER.")
        progress = TqdmProgress(self.stderr, disable=no_progress)
        try:
            if number_range:
                if not network:
                    raise CommandError("--network est obligatoire avec --range.")
                count = number_import_range(
                    partner=owner, network=network, first=number_range[0], last=number_range[1]
                )
            else:
                if not file.is_file():
                    raise CommandError(f"Fichier introuvable : {file}")
                count = number_import_csv(partner=owner, data=file.read_bytes(), progress=progress)
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(str(error.message))
            raise CommandError(str(exc.message)) from None
        except RuleViolation as exc:
            raise CommandError(str(exc.message)) from None
        finally:
            progress.close()
        self.stdout.write(self.style.SUCCESS(f"{count} numéro(s) ajouté(s) à la réserve de {owner.name}."))
