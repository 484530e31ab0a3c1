"""Benchmark of ``contracts.services.order_place``: one order of 10, 100 and 1,000 lines (multiple configuration).

Prints lines per second and the number of SQL queries of each order: the count must not grow with the number of
lines (batch writes). Target: at least 500 lines/s for 1,000 lines on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alphalink python bench/bench_order.py

It works in its own scratch database (``bench_<name>``, created, migrated and dropped at the end), so it never
touches real data. Figures, not assertions (ARCHITECTURE: benchmarks print, they do not assert timings).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphalink.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

SIZES = (10, 100, 1000)
ESIM_EVERY = 4  # one line in four is an eSIM (profile + FAS + option), the others a physical SIM with PIN
REPEAT = 3


def build_fixtures():
    from catalog.services import catalog_load
    from core.networks import Network
    from inventory.models import PhoneNumber, SimCard
    from inventory.rules import iccid_with_check_digit
    from partners.models import ClientAccount, PartnerMembership
    from partners.services import client_create, partner_create, partner_staff_create

    catalog_load()
    partner = partner_create(name="Bench Télécom", slug="bench-telecom", is_init_sys=True)
    user = partner_staff_create(
        partner=partner, username="bench", password="bench-pw-123", role=PartnerMembership.Role.ADMIN
    )
    client = client_create(
        partner=partner, company_name="Client Bench", siret="73282932000074", email="bench@example.fr"
    )
    assert isinstance(client, ClientAccount)
    total = sum(SIZES) * (REPEAT + 1) + 100
    SimCard.objects.bulk_create(
        [
            SimCard(
                partner=partner,
                network=Network.ORANGE,
                iccid=iccid_with_check_digit(f"893301{i:012d}"),
                pin="1234",
                puk=f"{i:08d}",
            )
            for i in range(total)
        ],
        batch_size=5000,
    )
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(partner=partner, network=Network.ORANGE, msisdn=f"07{5 + i // 10**7}{i % 10**7:07d}")
            for i in range(total)
        ],
        batch_size=5000,
    )
    return partner, user, client


def place(partner, user, client, offer, quantity: int) -> tuple[float, int]:
    from contracts.services import LineSpec, order_place

    lines = [
        LineSpec(
            user_name=f"Utilisateur {i}",
            sim_type="esim" if i % ESIM_EVERY == 0 else "",
            contact_email=f"user{i}@client-bench.fr",
            contact_mobile="0699887766",
        )
        for i in range(quantity)
    ]
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        order = order_place(
            partner=partner,
            client=client,
            created_by=user,
            offer=offer,
            quantity=quantity,
            lines=lines,
            configuration="multiple",
            option_codes=["conference"],
            roaming={"usa_canada": "OR-ROA-ILL-USCA-OPT-3G"},
        )
        elapsed = time.perf_counter() - start
    assert order.contracts.count() == quantity
    return elapsed, len(queries.captured_queries)


def main() -> int:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        print("Ce banc se lance sur PostgreSQL : DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    settings.PROVISIONING_WAKE_ON_ORDER = False  # no broker message per order during the bench
    db.setdefault("TEST", {})["NAME"] = f"bench_{db['NAME']}"
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from catalog.models import Offer

        partner, user, client = build_fixtures()
        offer = Offer.objects.get(code="OR-ILL-10G-B")
        place(partner, user, client, offer, 5)  # warm-up (imports, caches)
        print(
            f"order_place — PostgreSQL {connection.pg_version // 10000}, base « {connection.settings_dict['NAME']} »"
        )
        print(f"{'lignes':>7} | {'requêtes SQL':>12} | {'durée (s)':>9} | {'lignes/s':>9}")
        print("-" * 47)
        for size in SIZES:
            runs = [place(partner, user, client, offer, size) for _ in range(REPEAT)]
            elapsed = statistics.median(r[0] for r in runs)
            queries = {r[1] for r in runs}
            print(
                f"{size:>7} | {','.join(map(str, sorted(queries))):>12} | {elapsed:>9.3f} | {size / elapsed:>9.0f}"
            )
        print(
            f"(médiane de {REPEAT} commandes par taille ; 1 ligne sur {ESIM_EVERY} en eSIM, les autres SIM avec PIN)"
        )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
