"""``manage.py load_catalog`` — load ``catalog/data/catalog.json`` idempotently (policy: ``catalog/loader.py``)."""

from django.core.management.base import BaseCommand, CommandError

from catalog.loader import DATA_FILE
from catalog.services import catalog_load
from core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Charge le catalogue versionné (offres, options, recharges, choix d'itinérance) ; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DATA_FILE), help="Fichier JSON du catalogue.")
        parser.add_argument(
            "--reset-prices",
            action="store_true",
            help="Remet les prix du fichier, y compris sur les lignes dont un administrateur a modifié le prix.",
        )

    def handle(self, *args, file, reset_prices, **options):
        try:
            report = catalog_load(path=file, reset_prices=reset_prices)
        except ValidationFailed as exc:
            raise CommandError("\n".join(str(e.message) for e in exc.errors)) from exc
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.summary() + ("" if report.changed else " (aucun changement)"))
