"""Benchmark of the monthly billing (issue 9): a month for 100,000 lines over 20 partners × 5 clients — plan fees
(pro rata for lines delivered last month, suspended and terminated lines), monthly options (roaming options
changed within the month: both billed, R-OPT-4; fixed IP), eSIM FAS, confirmed top-ups, usage counters with
out-of-plan amounts, compteur and Compteur Data lines — then (a) the charges computation, (b) the real
``billing_run`` of the month (charges, then one wholesale invoice per partner, issued), (c) the Factur-X PDFs made
by the Celery task's code in a pool of worker processes, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alphalink .venv/bin/python bench/bench_billing.py [--lines N]

Works in its own scratch database (``bench_billing_<name>``, created, migrated and dropped). The catalog is the
real one with every empty price given a value (nothing blocks an invoice), every partner has a billing identity.
The data is built in SQL (``INSERT … SELECT generate_series``, not timed), and so is the previous month's run
(``billing_run`` of M−1, not timed: the run of M then finds M−1's subscriptions invoiced, as in production).
Each SQL statement of (a) and (b) is timed through ``connection.execute_wrapper`` (the slowest are printed).
Memory is the peak RSS of the process and of each PDF worker. Prints figures, asserts nothing; the last line
reads ``billing: N lines in S s; PDF P per s`` (S: the ``billing_run`` of the month, charges and invoices).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import logging
import multiprocessing as mp
import os
import pstats
import resource
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphalink.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.clock import PARIS, add_months, month_start  # noqa: E402

# 20 slots: the share of each offer among the lines (Orange 15/20, Bouygues 5/20).
OFFER_SLOTS = (
    ["OR-ILL-10G-NB"] * 5
    + ["OR-ILL-50G-B"] * 3
    + ["OR-DATA-20G-B"] * 2
    + ["OR-TRV-20G"] * 2
    + ["OR-CPT", "OR-CPTD", "OR-M2M-10M-NB"]
    + ["BY-ILL-5G-B"] * 3
    + ["BY-DATA-10G-NB"] * 2
)
ROAMING_OLD, ROAMING_NEW = "OR-ROA-ILL-RDM-OPT-1G", "OR-ROA-ILL-RDM-OPT-3G"
TOPUP = "OR-TOP-ILL-5G"
TIERS = '[{"up_to_bytes": 2000000000, "price_per_mo_ht": "0.02"}, {"up_to_bytes": null, "price_per_mo_ht": "0.01"}]'


def _rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _luhn_key(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        x = int(d) * (2 if i % 2 == 0 else 1)
        total += x - 9 if x > 9 else x
    return str(-total % 10)


def _siret(n: int) -> str:
    """A valid SIRET: an 8-digit SIREN body and its Luhn key, a 4-digit NIC, the Luhn key of all 14 digits."""
    siren = f"{(n * 7919 + 41234567) % 10**8:08d}"
    body = siren + _luhn_key(siren) + f"{n % 10000:04d}"
    return body + _luhn_key(body)


def price_catalog() -> None:
    """The seed leaves prices « à définir »: give each one a value in the scratch catalog (an unpriced charge would
    block the partner's invoice), and the Compteur Data offers their tiers."""
    with connection.cursor() as cur:
        cur.execute("UPDATE catalog_offer SET monthly_price_ht = 10.00 WHERE monthly_price_ht IS NULL")
        cur.execute(
            "UPDATE catalog_offer SET details = details || jsonb_build_object('tiers_ht', %s::jsonb)"
            " WHERE range = 'compteur_data'",
            [TIERS],
        )
        cur.execute("UPDATE catalog_topup SET price_ht = 5.00 WHERE price_ht IS NULL")
        cur.execute(
            "UPDATE catalog_roamingchoice SET price_ht = 10.00 WHERE kind = 'option' AND price_ht IS NULL"
        )
        cur.execute("UPDATE catalog_option SET monthly_price_ht = 1.00 WHERE monthly_price_ht IS NULL")


def build(lines: int, partners: int, clients: int, month: dt.date) -> None:
    """Partners, clients, billing identities (a few ORM calls), then every line and fact of the month in SQL."""
    from billing.models import PartnerBillingProfile
    from catalog.models import Offer, Option, RoamingChoice, Topup
    from catalog.services import catalog_load
    from contracts.models import Order
    from partners.services import client_create, partner_create

    catalog_load()
    price_catalog()
    offers = {o.code: o for o in Offer.objects.filter(code__in=set(OFFER_SLOTS))}
    missing = set(OFFER_SLOTS) - set(offers)
    if missing:
        raise SystemExit(f"offres absentes du catalogue : {sorted(missing)}")
    client_ids = []
    for p in range(partners):
        partner = partner_create(name=f"Bench Facturation {p:02d}", slug=f"bench-billing-{p:02d}")
        PartnerBillingProfile.objects.create(
            partner=partner,
            legal_name=f"Bench Facturation {p:02d} SAS",
            siret=_siret(9000 + p),
            vat_number="FR11999999998",
            address=f"{p + 1} avenue du Banc",
            postcode="69002",
            city="Lyon",
            email=f"compta{p}@bench.fr",
        )
        for c in range(clients):
            client = client_create(
                partner=partner,
                company_name=f"Client {p:02d}-{c}",
                siret=_siret(p * 100 + c + 1),
                email=f"c{p}-{c}@bench.fr",
            )
            order = Order.objects.create(
                partner=partner,
                client=client,
                number=f"CMD-BB-{p}-{c}",
                offer=offers[OFFER_SLOTS[0]],
                network="orange",
                quantity=1,
                activation_date=dt.date(2025, 1, 1),
            )
            client_ids.append((partner.pk, client.pk, order.pk))
    prev = add_months(month, -1)
    prev_start = dt.datetime(prev.year, prev.month, 1, tzinfo=PARIS)
    params = {
        "lines": lines,
        "per_client": -(-lines // len(client_ids)),
        "partners": [p for p, _c, _o in client_ids],
        "clients": [c for _p, c, _o in client_ids],
        "orders": [o for _p, _c, o in client_ids],
        "offers": [offers[code].pk for code in OFFER_SLOTS],
        "networks": [offers[code].network for code in OFFER_SLOTS],
        "old_start": dt.datetime(2025, 1, 1, 10, tzinfo=PARIS),
        "prev_start": prev_start,
        "prev": prev,
        "old": RoamingChoice.objects.get(code=ROAMING_OLD).pk,
        "new": RoamingChoice.objects.get(code=ROAMING_NEW).pk,
        "fixed_ip": Option.objects.get(code="fixed_ip", network="orange").pk,
        "topup": Topup.objects.get(code=TOPUP).pk,
    }
    with connection.cursor() as cur:
        # Lines: g-th line of client g / per_client; 1 in 20 delivered last month (pro rata; half of them eSIM),
        # 1 in 100 terminated last month, 1 in 50 suspended; eSIM on Orange lines ending in 9.
        cur.execute(
            """INSERT INTO contracts_contract (partner_id, client_id, order_id, number, offer_id, network, state,
                   state_changed_at, user_name, contact_email, contact_mobile, msisdn, sim_type, five_g, allow_sva,
                   portability, ported_number, rio, activation_date, delivered_at, terminated_at, last_error,
                   created_at, updated_at)
               SELECT (%(partners)s::bigint[])[k], (%(clients)s::bigint[])[k], (%(orders)s::bigint[])[k],
                      'CTR-BB-' || lpad(g::text, 7, '0'), (%(offers)s::bigint[])[1 + g %% 20],
                      (%(networks)s::text[])[1 + g %% 20],
                      CASE WHEN g %% 100 = 50 THEN 'terminated' WHEN g %% 50 = 7 THEN 'suspended' ELSE 'active' END,
                      now(), 'Utilisateur ' || g, '', '', '06' || lpad((10000000 + g)::text, 8, '0'),
                      CASE WHEN g %% 10 = 9 AND (%(networks)s::text[])[1 + g %% 20] = 'orange' THEN 'esim'
                           ELSE 'pin' END,
                      false, true, false, '', '', d.at::date, d.at,
                      CASE WHEN g %% 100 = 50 THEN %(prev_start)s + interval '2 days 9 hours' END,
                      '', d.at, now()
               FROM generate_series(0, %(lines)s - 1) g
               CROSS JOIN LATERAL (SELECT 1 + g / %(per_client)s AS k) kk
               CROSS JOIN LATERAL (
                   SELECT CASE WHEN g %% 40 IN (9, 19) THEN %(prev_start)s + (g %% 28) * interval '1 day' + interval '10 hours'
                          ELSE %(old_start)s + (g %% 300) * interval '1 day' END AS at
               ) d""",
            params,
        )
        # Roaming options on 3 Orange lines in 10 since delivery; 1 in 5 of them changed to a bigger one on the
        # 15th of last month (R-OPT-4: both billed for that month); a fixed IP on 1 line in 25.
        cur.execute(
            """INSERT INTO contracts_contractoption (partner_id, contract_id, option_id, roaming_choice_id, code, label,
                   zone, price_ht, monthly_fee_ht, fas_ht, status, created_at, activated_at, ended_at)
               SELECT c.partner_id, c.id, NULL, rc.id, rc.code, 'Option itinérance ' || rc.code, rc.zone, 0, rc.price_ht,
                      0, CASE WHEN ch.changed AND rc.id = %(old)s THEN 'terminated' ELSE 'active' END,
                      CASE WHEN rc.id = %(new)s THEN %(prev_start)s + interval '14 days' ELSE c.delivered_at END,
                      CASE WHEN rc.id = %(new)s THEN %(prev_start)s + interval '14 days' ELSE c.delivered_at END,
                      CASE WHEN ch.changed AND rc.id = %(old)s THEN %(prev_start)s + interval '14 days' END
               FROM contracts_contract c
               CROSS JOIN LATERAL (SELECT c.id %% 10 = 1 AND c.id %% 50 < 10 AND c.delivered_at < %(prev_start)s
                   AS changed) ch
               JOIN catalog_roamingchoice rc ON rc.id = %(old)s OR (ch.changed AND rc.id = %(new)s)
               WHERE c.network = 'orange' AND c.id %% 10 IN (1, 2, 3)
               UNION ALL
               SELECT c.partner_id, c.id, o.id, NULL, o.code, o.label, '', 0, o.monthly_price_ht, 0, 'active',
                      c.delivered_at, c.delivered_at, NULL
               FROM contracts_contract c JOIN catalog_option o ON o.id = %(fixed_ip)s
               WHERE c.network = 'orange' AND c.id %% 25 = 7""",
            params,
        )
        # R-OPT-2: the eSIM FAS of the eSIM lines delivered last month.
        cur.execute(
            """INSERT INTO contracts_oneofffee (partner_id, contract_id, kind, label, amount_ht, rule, created_at)
               SELECT c.partner_id, c.id, 'esim', 'FAS eSIM', 1.50, 'R-OPT-2', c.delivered_at
               FROM contracts_contract c WHERE c.sim_type = 'esim' AND c.delivered_at >= %(prev_start)s""",
            params,
        )
        # Confirmed top-ups last month on 1 line in 10.
        cur.execute(
            """INSERT INTO contracts_contracttopup (partner_id, contract_id, topup_id, volume_bytes, price_ht, state,
                   source, requested_at, confirmed_at, month, last_error)
               SELECT c.partner_id, c.id, t.id, t.data_bytes, t.price_ht, 'confirmed', 'backoffice',
                      %(prev_start)s + interval '20 days', %(prev_start)s + interval '20 days 1 hour', %(prev)s, ''
               FROM contracts_contract c JOIN catalog_topup t ON t.id = %(topup)s WHERE c.id %% 10 = 4""",
            params,
        )
        # Last month's counters as rating leaves them: data for every line; voice out of plan on 3 lines in 20,
        # roaming data out of plan on 1 in 20, voice on every compteur line (some above the 2.50 minimum).
        cur.execute(
            """INSERT INTO usage_counter (partner_id, contract_id, month, metric, zone, quantity, oop_quantity,
                   amount_ht, unpriced_quantity, valued_ht, events, updated_at)
               SELECT c.partner_id, c.id, %(prev)s, 'data', '', (c.id * 7919 %% 4000) * 1000000::bigint, 0, 0, 0, 0,
                      40, now()
               FROM contracts_contract c
               UNION ALL
               SELECT c.partner_id, c.id, %(prev)s, 'voice', '', 7200 + c.id %% 3600, 60 + c.id %% 1200,
                      round((60 + c.id %% 1200) / 60.0 * 0.35, 4), 0, 0, 30, now()
               FROM contracts_contract c JOIN catalog_offer o ON o.id = c.offer_id
               WHERE c.id %% 20 IN (2, 5, 11) OR o.range = 'compteur'
               UNION ALL
               SELECT c.partner_id, c.id, %(prev)s, 'roaming_data', 'reste_du_monde', 50000000 + c.id %% 1000000,
                      50000000 + c.id %% 1000000, round((50 + c.id %% 1000 / 1000.0) * 0.15, 4), 0, 0, 12, now()
               FROM contracts_contract c WHERE c.id %% 20 = 13""",
            params,
        )
        cur.execute("VACUUM ANALYZE")


class StatementTimer:
    """``connection.execute_wrapper``: the time of each SQL statement, summed by its first words (an
    ``INSERT … SELECT`` by the start of its ``SELECT``). The commit is not a statement: the deferred foreign key
    checks it runs show as the gap between the wall time and the sum."""

    def __init__(self):
        self.by_sql: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = " ".join(str(sql).split())
            head, _sep, select = text.partition(" SELECT ")
            key = (
                f"{head[:40]} … SELECT {select[:60]}" if text.startswith("INSERT") and select else text[:110]
            )
            entry = self.by_sql[key]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    def report(self, top: int = 6) -> None:
        rows = sorted(self.by_sql.items(), key=lambda kv: -kv[1][1])
        total_n = sum(n for n, _s in self.by_sql.values())
        total_s = sum(s for _n, s in self.by_sql.values())
        print(f"    {total_n} requêtes SQL, {total_s:.1f} s dans PostgreSQL ; les plus longues :")
        for sql, (n, seconds) in rows[:top]:
            print(f"    {seconds:6.2f} s  ×{n:<3} {sql}")


def _render(invoice_id: int) -> tuple[int, int, int, int, float, int]:
    """In a worker process: the Celery task's function for one invoice. (invoice, lines, pages, PDF bytes,
    seconds, peak RSS in MB of this process)."""
    from pypdf import PdfReader

    from billing.models import Invoice
    from billing.tasks import render_invoice_pdf_task

    started = time.perf_counter()
    render_invoice_pdf_task(invoice_id)
    seconds = time.perf_counter() - started
    invoice = Invoice.objects.only("pdf").get(pk=invoice_id)
    pdf = bytes(invoice.pdf or b"")
    pages = len(PdfReader(io.BytesIO(pdf)).pages) if pdf else 0
    return invoice_id, invoice.lines.count(), pages, len(pdf), seconds, _rss_mb()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--clients", type=int, default=5, help="clients per partner")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes making PDFs (make run's concurrency)"
    )
    parser.add_argument(
        "--pdfs",
        type=int,
        default=None,
        help="make the PDFs of this many invoices (default: one per worker; -1: every invoice)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the billing_run (top functions)")
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        print("Ce banc se lance sur PostgreSQL : DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    settings.DEBUG = False
    for name in ("weasyprint", "weasyprint.progress", "factur-x", "fontTools"):  # one line per page otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    settings.BILLING_RENDER_PDF_ON_ISSUE = (
        False  # the PDFs are made below, by the task's code, and timed apart
    )
    db.setdefault("TEST", {})["NAME"] = f"bench_billing_{db['NAME']}"
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from billing.charges import charges_compute
        from billing.models import Charge, Invoice, InvoiceLine
        from billing.services import billing_run

        month = month_start()
        prev = add_months(month, -1)
        run_at = dt.datetime(month.year, month.month, 1, 6, tzinfo=PARIS)
        prev_run_at = dt.datetime(prev.year, prev.month, 1, 6, tzinfo=PARIS)
        t0 = time.perf_counter()
        build(args.lines, args.partners, args.clients, month)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM contracts_contractoption), (SELECT count(*) FROM contracts_oneofffee),"
                " (SELECT count(*) FROM contracts_contracttopup), (SELECT count(*) FROM usage_counter)"
            )
            options, fees, topups, counters = cur.fetchone()
        print(
            f"données générées : {args.lines} lignes, {args.partners} partenaires × {args.clients} clients, "
            f"{options} options, {fees} FAS, {topups} recharges, {counters} compteurs en {time.perf_counter() - t0:.1f} s"
        )
        t0 = time.perf_counter()
        billing_run(month=prev, now=prev_run_at)
        print(
            f"facturation de {prev:%m/%Y} (préalable, non chronométrée dans le résultat) : "
            f"{Invoice.objects.count()} factures, {InvoiceLine.objects.count()} lignes en {time.perf_counter() - t0:.1f} s"
        )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        print(
            f"charge de la machine : {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
        )

        timer = StatementTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            written = charges_compute(month=month, now=run_at)
            charges_s = time.perf_counter() - started
        print(
            f"(a) éléments de facturation de {month:%m/%Y} : {sum(written.values())} en {charges_s:.1f} s "
            f"({', '.join(f'{k} {v}' for k, v in written.items())})"
        )
        timer.report()

        timer = StatementTimer()
        invoices_before = set(Invoice.objects.values_list("pk", flat=True))
        profiler = cProfile.Profile() if args.profile else None
        with connection.execute_wrapper(timer):
            wall_start = timezone.now()
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            run = billing_run(month=month, now=run_at)
            if profiler:
                profiler.disable()
            run_s = time.perf_counter() - started
        run_charges_s = (run.charges_at - wall_start).total_seconds()
        new = list(
            Invoice.objects.exclude(pk__in=invoices_before)
            .filter(state=Invoice.State.ISSUED)
            .order_by("number")
        )
        line_count = InvoiceLine.objects.filter(invoice__in=new).count()
        sizes = sorted(inv.lines.count() for inv in new)
        print(
            f"(b) billing_run de {month:%m/%Y} : {len(new)} factures émises ({len(run.invoiced)} facturés, "
            f"{len(run.blocked)} bloqués), {line_count} lignes (de {sizes[0] if sizes else 0} à "
            f"{sizes[-1] if sizes else 0} par facture) en {run_s:.1f} s, dont éléments ~{run_charges_s:.1f} s ; "
            f"RSS max {_rss_mb()} Mo"
        )
        timer.report()
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(12)
        unpriced = Charge.objects.filter(amount_ht__isnull=True).count()
        if unpriced or run.blocked:
            print(f"  attention : {unpriced} éléments sans prix, bloqués : {dict(run.blocked)}")

        wanted = args.workers if args.pdfs is None else len(new) if args.pdfs < 0 else args.pdfs
        to_render = [inv.pk for inv in new][:wanted]
        if len(to_render) < len(new):
            print(f"PDF : {len(to_render)} factures sur {len(new)} (--pdfs -1 pour toutes)")
        print(
            f"charge de la machine : {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
        )
        connections.close_all()  # each worker process opens its own connection
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=mp.get_context("fork")) as pool:
            results = []
            for invoice_id, lines, pages, size, seconds, rss in pool.map(_render, to_render):
                results.append((lines, pages, seconds, rss))
                print(
                    f"  PDF facture {invoice_id} : {lines} lignes, {pages} pages, {size / 1e6:.1f} Mo en {seconds:.1f} s "
                    f"({pages / seconds if seconds else 0:.1f} pages/s) ; RSS max du processus {rss} Mo"
                )
        pdf_s = time.perf_counter() - started
        rate = len(results) / pdf_s if pdf_s else 0
        print(
            f"(c) {len(results)} PDF Factur-X avec {args.workers} processus en {pdf_s:.1f} s ; "
            f"{sum(r[1] for r in results)} pages, {sum(r[0] for r in results)} lignes ; "
            f"RSS max par processus {max((r[3] for r in results), default=0)} Mo, processus principal {_rss_mb()} Mo"
        )
        print(
            f"charge de la machine : {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
        )
        print(f"billing: {args.lines} lines in {run_s:.1f} s; PDF {rate:.3f} per s")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
