"""``manage.py export_catalog`` — the loaded catalog as JSON on stdout (issue 2 item 3).

A list of offers with exactly: code, network, range, data_bytes, blocked, monthly_price_ht (string or null),
five_g_included, topups, options, roaming_choices, offer_changes — the last four computed by ``catalog.rules``.
``options`` lists what a partner flagged *Init Sys* may order (the whole catalog); ``--not-init-sys`` gives the
view of an ordinary partner (no partner-platform delivery, R-OPT-3).
"""

import json

from django.core.management.base import BaseCommand

from catalog.selectors import catalog_export


class Command(BaseCommand):
    help = "Exporte le catalogue chargé en JSON sur la sortie standard."

    def add_arguments(self, parser):
        parser.add_argument(
            "--not-init-sys",
            action="store_true",
            help="Options vues par un partenaire non Init Sys (sans livraison plateforme partenaire).",
        )
        parser.add_argument("--indent", type=int, default=2)

    def handle(self, *args, not_init_sys, indent, **options):
        data = catalog_export(partner_is_init_sys=not not_init_sys)
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=indent or None))
