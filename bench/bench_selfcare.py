"""Benchmark of the self-care « Mon parc » (issue 8, R-SC-4): a client with 100,000 lines and a month of usage
counters — the dashboard / fleet page (filtered, sorted, first / middle / last page, full page and htmx partial)
and the CSV export of the whole fleet, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alphalink .venv/bin/python bench/bench_selfcare.py [--lines N]

Works in its own scratch database (``bench_selfcare_<name>``, created, migrated and dropped). The fleet is generated in
SQL (``INSERT … SELECT generate_series``, not timed): lines over 5 offers and 4 state groups, 40 sites, SIMs and
eSIMs, a data counter for every line this month (some beyond their envelope), voice counters out of plan on some,
confirmed top-ups on others — plus a sibling client of the same partner with 10,000 lines of its own. Requests
go through Django's test ``Client`` on the partner's self-care host with a forced self-care login; the page
time is the server time of each request (view, SQL, template), its SQL queries are counted with
``CaptureQueriesContext``. The export is read to its end; memory is the process's peak RSS (before the export and
after). Prints figures, asserts nothing; the last line reads
``selfcare: fleet p95 X ms, max Q queries per page; export N lines in S s, peak RSS M MB``.
"""

from __future__ import annotations

import argparse
import os
import resource
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

from core.clock import month_start  # noqa: E402

OFFERS = ["OR-ILL-1G-B", "OR-ILL-10G-NB", "OR-ILL-50G-B", "OR-DATA-20G-B", "OR-TRV-20G"]
SIBLING_LINES = 10_000
ROUNDS = 3
PASSWORD = "pw-bench-123"


def _rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def build_fleet(lines: int):
    """The partner, its client with ``lines`` lines (and a sibling client), in set-based SQL."""
    from catalog.models import Offer
    from catalog.services import catalog_load
    from contracts.models import Order
    from partners.models import SelfcareAccess, Site, User
    from partners.services import client_create, partner_create

    catalog_load()
    partner = partner_create(name="Bench Selfcare", slug="bench-selfcare")
    client = client_create(
        partner=partner, company_name="Client Bench", siret="73282932000074", email="b@x.fr"
    )
    sibling = client_create(
        partner=partner, company_name="Client Voisin", siret="55208131766522", email="v@x.fr"
    )
    offers = list(Offer.objects.filter(code__in=OFFERS).order_by("code"))
    today = month_start()
    orders = [
        Order.objects.create(
            partner=partner,
            client=c,
            number=f"CMD-BS-{c.pk}-{i}",
            offer=o,
            network=o.network,
            quantity=1,
            activation_date=today,
        )
        for c in (client, sibling)
        for i, o in enumerate(offers)
    ]
    Site.objects.bulk_create(
        [Site(partner=partner, client=client, name=f"Site {i:02d}", city="Lyon") for i in range(40)]
    )
    user = User.objects.create_user(username="flotte@bench", email="f@bench.fr", password=PASSWORD)
    access = SelfcareAccess.objects.create(partner=partner, client=client, user=user)
    offer_ids = "ARRAY[" + ",".join(str(o.pk) for o in offers) + "]"
    order_ids = {
        c.pk: "ARRAY[" + ",".join(str(o.pk) for o in orders if o.client_id == c.pk) + "]"
        for c in (client, sibling)
    }
    with connection.cursor() as cur:
        # SIMs for 9 lines out of 10 (the 10th is an eSIM line)
        cur.execute(
            """INSERT INTO inventory_simcard (partner_id, iccid, pin, puk, network, state, client_id, created_at,
                   updated_at)
               SELECT %s, '893301' || lpad(g::text, 13, '0'), '1234', lpad((g %% 100000000)::text, 8, '0'),
                      'orange', 'in_use', %s, now(), now()
               FROM generate_series(1, %s) g WHERE g %% 10 <> 0""",
            [partner.pk, client.pk, lines],
        )
        for c, n, base in ((client, lines, 0), (sibling, SIBLING_LINES, lines)):
            cur.execute(
                f"""INSERT INTO contracts_contract (partner_id, client_id, order_id, number, offer_id, network, state,
                       state_changed_at, user_name, contact_email, contact_mobile, msisdn, sim_type, sim_id, five_g,
                       allow_sva, portability, ported_number, rio, activation_date, delivered_at, site_id,
                       last_error, created_at, updated_at)
                    SELECT %(partner)s, %(client)s, ({order_ids[c.pk]})[1 + g %% 5], 'CTR-BS-' || lpad(g::text, 7, '0'),
                           ({offer_ids})[1 + g %% 5], 'orange',
                           (ARRAY['active','active','active','active','active','active','suspended','pending',
                                  'terminated','failed'])[1 + (g / 7) %% 10],
                           now(), 'Utilisateur ' || g, '', '',
                           CASE WHEN (g / 7) %% 10 = 8 THEN NULL ELSE '06' || lpad((10000000 + g)::text, 8, '0') END,
                           CASE WHEN g %% 10 = 0 THEN 'esim' ELSE 'pin' END,
                           CASE WHEN %(client)s = %(main)s AND g %% 10 <> 0
                                THEN (SELECT id FROM inventory_simcard s
                                      WHERE s.iccid = '893301' || lpad(g::text, 13, '0')) END,
                           false, true, false, '', '', now()::date, now() - (g %% 400) * interval '1 day',
                           CASE WHEN %(client)s = %(main)s AND g %% 8 <> 0
                                THEN (SELECT min(id) FROM partners_site WHERE client_id = %(client)s) + g %% 40 END,
                           '', now(), now()
                    FROM generate_series(%(start)s, %(stop)s) g""",
                {
                    "partner": partner.pk,
                    "client": c.pk,
                    "main": client.pk,
                    "start": base + 1,
                    "stop": base + n,
                },
            )
        month = month_start()
        cur.execute(
            """INSERT INTO usage_counter (partner_id, contract_id, month, metric, zone, quantity, oop_quantity,
                   amount_ht, unpriced_quantity, valued_ht, events, updated_at)
               SELECT c.partner_id, c.id, %s, 'data', '', (c.id * 7919 %% 60000) * 1000000::bigint, 0, 0, 0, 0, 10,
                      now()
               FROM contracts_contract c WHERE c.partner_id = %s
               UNION ALL
               SELECT c.partner_id, c.id, %s, 'voice', '', 3600, CASE WHEN c.id %% 13 = 0 THEN 120 ELSE 0 END, 0, 0,
                      0, 5, now()
               FROM contracts_contract c WHERE c.partner_id = %s AND c.id %% 3 = 0""",
            [month, partner.pk, month, partner.pk],
        )
        cur.execute(
            """INSERT INTO contracts_contracttopup (partner_id, contract_id, volume_bytes, state, source, requested_at,
                   confirmed_at, month, last_error)
               SELECT c.partner_id, c.id, 5000000000, 'confirmed', 'backoffice', now(), now(), %s, ''
               FROM contracts_contract c WHERE c.partner_id = %s AND c.id %% 20 = 0""",
            [month, partner.pk],
        )
        # VACUUM as well: a table just filled by one bulk INSERT has no visibility map yet, so no index-only scan
        # would be possible (autovacuum sets it in production; it may be off or late on a benchmark server).
        cur.execute("VACUUM ANALYZE")
    return partner, client, access


def browser_for(partner, access, password: str):
    """A test client logged in on the partner's self-care host through its login form (the self-care session
    cookie, host-only, with the host's partner in the session)."""
    from django.test import Client

    browser = Client(HTTP_HOST=f"{partner.slug}.espaceclient.localhost")
    response = browser.post("/", {"username": access.user.username, "password": password})
    assert response.status_code == 302, "self-care login failed"
    return browser


def requests_to_time(lines: int) -> list[tuple[str, dict, dict]]:
    last = -(-lines // 25)
    middle = last // 2
    htmx = {"HTTP_HX_REQUEST": "true"}
    cases = [
        ("première page", {}, {}),
        ("page du milieu", {"page": middle}, {}),
        ("dernière page", {"page": last}, {}),
        ("dernière page, tri décroissant", {"page": last, "tri": "-ligne"}, {}),
        ("50 par page, page du milieu", {"par_page": 50, "page": middle // 2}, htmx),
        ("filtre Actifs", {"etat": "active"}, htmx),
        ("filtre Suspendus, page 100", {"etat": "suspended", "page": 100}, htmx),
        ("filtre site", {"site": "__site__"}, htmx),
        ("filtre offre, tri utilisateur", {"offre": "__offer__", "tri": "utilisateur"}, htmx),
        ("filtre utilisateur", {"utilisateur": "Utilisateur 4242"}, htmx),
        ("filtre ligne", {"ligne": "06 100 42"}, htmx),
        ("filtre SIM", {"sim": "8933010000000012"}, htmx),
        ("filtre eSIM", {"sim": "esim"}, htmx),
        ("hors forfait oui", {"hors_forfait": "oui"}, htmx),
        ("hors forfait non, page du milieu", {"hors_forfait": "non", "page": middle // 2}, htmx),
        ("tri data % décroissant", {"tri": "-data"}, htmx),
        ("tri data %, dernière page", {"tri": "data", "page": last}, htmx),
        ("tri hors forfait", {"tri": "-hors_forfait"}, htmx),
        ("tri date de livraison", {"tri": "-livraison"}, htmx),
        ("tri site, page du milieu", {"tri": "site", "page": middle}, htmx),
        ("tri offre", {"tri": "offre"}, htmx),
        ("tri SIM", {"tri": "sim"}, htmx),
        ("tri état", {"tri": "etat"}, htmx),
        ("Actifs + hors forfait + tri data", {"etat": "active", "hors_forfait": "oui", "tri": "-data"}, htmx),
    ]
    return cases


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        print("Ce banc se lance sur PostgreSQL : DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    settings.DEBUG = False
    db.setdefault("TEST", {})["NAME"] = f"bench_selfcare_{db['NAME']}"
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from partners.models import Site

        t0 = time.perf_counter()
        partner, client, access = build_fleet(args.lines)
        print(
            f"parc généré : {args.lines} lignes (+ {SIBLING_LINES} d'un autre client) en {time.perf_counter() - t0:.1f} s"
        )
        browser = browser_for(partner, access, PASSWORD)
        site = Site.objects.filter(client=client).order_by("id")[3]
        offer_id = client.contracts.order_by("id").values_list("offer_id", flat=True)[0]
        timings: list[float] = []
        max_queries = 0
        for name, params, headers in requests_to_time(args.lines):
            params = {
                k: (site.pk if v == "__site__" else offer_id if v == "__offer__" else v)
                for k, v in params.items()
            }
            case_times = []
            for _ in range(ROUNDS):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    response = browser.get("/parc/", params, **headers)
                    case_times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (name, response.status_code)
                max_queries = max(max_queries, len(queries))
            timings.extend(case_times)
            print(
                f"  {name:<42} médiane {statistics.median(case_times):7.1f} ms, {len(queries)} requêtes SQL"
            )
        timings.sort()
        p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
        print(
            f"page « Mon parc » : {len(timings)} requêtes HTTP, p50 {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms"
        )

        rss_before = _rss_mb()
        started = time.perf_counter()
        response = browser.get("/parc/export.csv")
        exported = -1  # the header line
        size = 0
        for chunk in response.streaming_content:
            exported += chunk.count(b"\n")
            size += len(chunk)
        export_s = time.perf_counter() - started
        rss = _rss_mb()
        print(
            f"export CSV : {exported} lignes, {size / 1e6:.1f} Mo en {export_s:.1f} s ; RSS max {rss_before} Mo avant, {rss} Mo après"
        )
        print(
            f"selfcare: fleet p95 {p95:.0f} ms, max {max_queries} queries per page; "
            f"export {exported} lines in {export_s:.1f} s, peak RSS {rss} MB"
        )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
