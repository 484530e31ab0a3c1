from django.conf import settings
from django.core.management.base import BaseCommand

from partners.demo import DEMO_LOGINS, DEMO_PARTNER_SLUG


class Command(BaseCommand):
    help = "Affiche les URL et les identifiants de démonstration."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, port, **options):
        host = settings.BACKOFFICE_HOST
        domain = settings.SELFCARE_DOMAIN
        lines = [
            "",
            "AlphaLink — plateforme prête",
            f"  Back-office      http://{host}:{port}/",
            f"  API (docs)       http://{host}:{port}/api/docs/",
            f"  Admin Django     http://{host}:{port}/admin/",
            f"  Selfcare démo    http://{DEMO_PARTNER_SLUG}.{settings.SELFCARE_SUBDOMAIN}.{domain}:{port}/",
            "  Identifiants de démonstration :",
        ]
        lines += [f"    {role:<36} {login} / {password}" for role, login, password in DEMO_LOGINS]
        lines.append(
            f"    (le client selfcare se connecte sur http://{DEMO_PARTNER_SLUG}.{settings.SELFCARE_SUBDOMAIN}.{domain}:{port}/)"
        )
        self.stdout.write("\n".join(lines) + "\n")
