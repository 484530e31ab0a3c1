"""``manage.py simulate_traffic``: the operators deliver the traffic of chosen lines over a period, as CDR files in
their own formats (``usage/FORMATS.md``), one per hour and network, into ``settings.CDR_DROP_DIR``.

    manage.py simulate_traffic --partner telcom-pro --from 2026-12-01 --to 2026-12-31
    manage.py simulate_traffic --contract CTR-2026-000001 CTR-2026-000002 --from 2026-12-01 --to 2026-12-01 \\
        --data-share CTR-2026-000001=0.85 --roaming CTR-2026-000002=maghreb_turquie:550M --international \\
        CTR-2026-000002=5 --bad 6 --seed 7
    manage.py simulate_traffic --all --from 2026-11-01 --to 2026-11-30 --drop-dir /tmp/cdr
    manage.py simulate_traffic --demo [--wait 300]     # the demo month (provisioning/demo_traffic.py)

Only live lines are used (a number and a delivery date), and only within their live period, never in the future.
The command writes files and nothing else: the platform (``usage``) takes them (periodic task, or
``manage.py ingest_cdrs``). Same options and seed → same records (an operator re-delivering its files)."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from contracts.models import Contract
from provisioning.simulators import cdr_feeds
from provisioning.simulators.cdr_feeds import PARIS, generate_traffic, write_feeds

_SIZE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
_UNITS = {
    "": 1,
    "o": 1,
    "b": 1,
    "k": 10**3,
    "ko": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mo": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "go": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "to": 10**12,
    "tb": 10**12,
}


def parse_size(value: str) -> int:
    """``500M``, ``1,5 Go``, ``2G``, ``1000000`` → bytes (1 Mo = 10^6, 1 Go = 10^9)."""
    match = _SIZE.match(value)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise CommandError(f"Volume invalide : {value!r} (ex. 500M, 1G, 1,5Go).")
    return int(Decimal(match.group(1).replace(",", ".")) * unit)


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, str]]:
    out = []
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise CommandError(f"{option} attend CONTRAT=VALEUR, reçu {value!r}.")
        out.append((key.strip(), rest.strip()))
    return out


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} : date invalide {value!r} (attendu AAAA-MM-JJ).") from None


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


class Command(BaseCommand):
    help = (
        "Simule le trafic des lignes (appels, SMS, MMS, data, itinérance) : fichiers de CDR Orange et Bouygues "
        "Telecom déposés dans CDR_DROP_DIR, un par heure et par réseau."
    )

    def add_arguments(self, parser):
        who = parser.add_argument_group("lignes")
        who.add_argument("--partner", metavar="SLUG", help="les lignes actives d'un partenaire")
        who.add_argument(
            "--contract", metavar="NUMERO", nargs="+", action="extend", default=[], help="des contrats"
        )
        who.add_argument("--all", action="store_true", help="toutes les lignes actives de la plateforme")
        who.add_argument(
            "--demo",
            action="store_true",
            help="le mois de démonstration (lignes du partenaire de démo, cas d'alerte et de blocage)",
        )
        parser.add_argument(
            "--from", dest="date_from", metavar="AAAA-MM-JJ", help="premier jour (heure de Paris)"
        )
        parser.add_argument("--to", dest="date_to", metavar="AAAA-MM-JJ", help="dernier jour inclus")
        parser.add_argument(
            "--seed", type=int, default=0, help="graine (même graine → mêmes enregistrements)"
        )
        parser.add_argument("--profile", choices=sorted(cdr_feeds.PROFILES), default="standard")
        parser.add_argument("--drop-dir", metavar="CHEMIN", help="dossier de dépôt (défaut : CDR_DROP_DIR)")
        parser.add_argument(
            "--data-share",
            action="append",
            metavar="CONTRAT=PART",
            help="part de l'enveloppe data France + Europe à consommer sur le mois, ex. CTR-2026-000001=0.85",
        )
        parser.add_argument(
            "--roaming",
            action="append",
            metavar="CONTRAT=ZONE:VOLUME",
            help="data en itinérance, ex. CTR-2026-000001=maghreb_turquie:550M (zone ou pays ISO alpha-3)",
        )
        parser.add_argument(
            "--international",
            action="append",
            metavar="CONTRAT=N",
            help="N appels depuis la France vers l'international hors zone 1 (hors forfait)",
        )
        parser.add_argument("--bad", type=int, default=0, metavar="N", help="N lignes invalides injectées")
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDES",
            help="avec --demo : attendre jusqu'à SECONDES que les lignes de démo soient actives",
        )

    def handle(self, *args, **opts):
        drop_dir = Path(opts["drop_dir"] or settings.CDR_DROP_DIR)
        if opts["demo"]:
            return self._demo(drop_dir, opts["wait"])
        if not (opts["partner"] or opts["contract"] or opts["all"]):
            raise CommandError("Choisissez les lignes : --partner SLUG, --contract NUMERO… ou --all.")
        if not (opts["date_from"] and opts["date_to"]):
            raise CommandError("--from et --to sont obligatoires (AAAA-MM-JJ).")
        first, last = _day(opts["date_from"], "--from"), _day(opts["date_to"], "--to")
        if last < first:
            raise CommandError("--to précède --from.")
        now = timezone.now()
        start = cdr_feeds.as_aware(first)
        end = min(cdr_feeds.as_aware(last + timedelta(days=1)), now)
        if start >= now:
            raise CommandError("La période commence dans le futur : aucun trafic à simuler.")

        contracts = self._lines(opts, start, end)
        data_share, roaming, international = self._parameters(opts, contracts)
        try:
            events = generate_traffic(
                contracts,
                start,
                end,
                seed=opts["seed"],
                profile=opts["profile"],
                data_share=data_share,
                roaming=roaming,
                international=international,
                now=now,
            )
            written = write_feeds(events, drop_dir, bad_lines=opts["bad"], now=now)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        by_network = {
            "Orange": sum(1 for p in written if p.name.startswith("ORANGE_")),
            "Bouygues Telecom": sum(1 for p in written if p.name.startswith("BYT_")),
        }
        detail = ", ".join(f"{name} : {count}" for name, count in by_network.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Trafic simulé du {start:%d/%m/%Y} au {timezone.localtime(end, PARIS):%d/%m/%Y %H:%M} "
                f"(graine {opts['seed']}) : {len(contracts)} ligne(s), {_thousands(written.records)} "
                f"enregistrement(s) dans {len(written)} fichier(s) ({detail}) → {drop_dir}"
            )
        )
        if written.bad:
            self.stdout.write(f"  dont {written.bad} ligne(s) invalide(s) injectée(s) (mises en quarantaine)")
        self.stdout.write(
            "  La plateforme intègre ces fichiers (tâche périodique, ou manage.py ingest_cdrs CHEMIN…)."
        )

    def _lines(self, opts, start, end) -> list[Contract]:
        qs = (
            Contract.objects.filter(msisdn__isnull=False, delivered_at__isnull=False, delivered_at__lt=end)
            .filter(Q(terminated_at__isnull=True) | Q(terminated_at__gt=start))
            .select_related("offer")
            .order_by("pk")
        )
        if opts["partner"]:
            qs = qs.filter(partner__slug=opts["partner"])
        if opts["contract"]:
            qs = qs.filter(number__in=opts["contract"])
        contracts = list(qs)
        missing = sorted(set(opts["contract"]) - {c.number for c in contracts})
        if missing:
            raise CommandError(
                f"Contrat(s) introuvable(s) ou sans ligne livrée sur la période : {', '.join(missing)}."
            )
        if not contracts:
            raise CommandError("Aucune ligne livrée (numéro et date de livraison) sur la période choisie.")
        return contracts

    def _parameters(self, opts, contracts):
        known = {c.number: c.pk for c in contracts} | {str(c.pk): c.pk for c in contracts}

        def pk(key: str, option: str) -> int:
            if key not in known:
                raise CommandError(f"{option} : le contrat {key} n'est pas parmi les lignes choisies.")
            return known[key]

        data_share = {}
        for key, value in _pairs(opts["data_share"], "--data-share"):
            try:
                share = float(
                    Decimal(value.replace(",", ".").rstrip("%")) / (100 if value.endswith("%") else 1)
                )
            except InvalidOperation:
                raise CommandError(f"--data-share : part invalide {value!r} (ex. 0.85 ou 85%).") from None
            if share < 0:
                raise CommandError("--data-share : la part doit être positive.")
            data_share[pk(key, "--data-share")] = share
        roaming = {}
        for key, value in _pairs(opts["roaming"], "--roaming"):
            zone, sep, size = value.partition(":")
            if not sep:
                raise CommandError(f"--roaming attend CONTRAT=ZONE:VOLUME, reçu {value!r}.")
            try:
                cdr_feeds.parse_zone(zone)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
            roaming[pk(key, "--roaming")] = (zone, parse_size(size))
        international = {}
        for key, value in _pairs(opts["international"], "--international"):
            if not value.isdigit():
                raise CommandError(f"--international : nombre d'appels invalide {value!r}.")
            international[pk(key, "--international")] = int(value)
        return data_share, roaming, international

    def _demo(self, drop_dir: Path, wait: float) -> None:
        from provisioning.demo_traffic import demo_pending, demo_traffic

        deadline = time.monotonic() + max(0.0, wait)
        demo_traffic(self.stdout, drop_dir=drop_dir)
        while wait and demo_pending() and time.monotonic() < deadline:
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            demo_traffic(self.stdout, drop_dir=drop_dir, quiet=True)
