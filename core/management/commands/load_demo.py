"""Loads the demo data, idempotently: running it twice changes nothing.

Each domain app owns its demo step in ``<app>/demo.py`` (a ``load(stdout)`` function); they run in
dependency order, each in its own transaction.
"""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

DEMO_STEPS = ["partners", "inventory", "contracts", "provisioning", "billing"]


class Command(BaseCommand):
    help = "Charge les données de démonstration (idempotent)."

    def handle(self, *args, **options):
        for app in DEMO_STEPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            with transaction.atomic():
                module.load(self.stdout)
        importlib.import_module("provisioning.demo_traffic").demo_traffic(self.stdout)  # CDR files (issue 7)
        self.stdout.write(self.style.SUCCESS("Données de démonstration prêtes."))
