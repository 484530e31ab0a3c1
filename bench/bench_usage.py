"""Benchmark of CDR ingestion (issue 7): 1,000,000 records for 10,000 lines, Orange and Bouygues files mixed
(one file per hour per network, a day of traffic) — parse, load, rate, update counters and detect alerts, end
to end, on PostgreSQL. In the same run, the database's own limit on the same records: a raw ``COPY`` of the
files plus one ``GROUP BY`` into a counters table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/alphalink .venv/bin/python bench/bench_usage.py [--records N]

Works in its own scratch database (``bench_<name>``, created, migrated and dropped). The files are generated
first (not timed) into a temporary folder. Memory is reported as the peak RSS of the process. Prints figures,
asserts nothing; the last line reads ``usage: N CDR/s end to end; raw copy+aggregate: M CDR/s; ratio R``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphalink.settings")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402

from core.clock import PARIS, month_start  # noqa: E402

LINES = 10_000
ORANGE_OFFERS = ["OR-ILL-1G-B", "OR-ILL-10G-NB", "OR-ILL-50G-B", "OR-DATA-20G-B", "OR-TRV-20G"]
BOUYGUES_OFFERS = ["BY-ILL-5G-B", "BY-ILL-30G-NB", "BY-DATA-10G-NB"]
ORANGE_WHERE = ["FRA"] * 18 + ["ESP", "ITA", "USA", "MAR"]
BOUYGUES_MCC = ["208"] * 18 + ["214", "222", "310", "604"]


def build_lines():
    from catalog.models import Offer
    from catalog.services import catalog_load
    from contracts.models import Contract, Order
    from partners.services import client_create, partner_create

    catalog_load()
    partner = partner_create(name="Bench Usage", slug="bench-usage")
    client = client_create(
        partner=partner, company_name="Client Bench", siret="73282932000074", email="b@x.fr"
    )
    offers = {o.code: o for o in Offer.objects.filter(code__in=ORANGE_OFFERS + BOUYGUES_OFFERS)}
    since = dt.datetime(2026, 1, 1, tzinfo=PARIS)
    orders = {
        code: Order.objects.create(
            partner=partner,
            client=client,
            number=f"CMD-B-{i}",
            offer=o,
            network=o.network,
            quantity=1,
            activation_date=since.date(),
        )
        for i, (code, o) in enumerate(offers.items())
    }
    contracts = []
    for i in range(LINES):
        orange = i % 2 == 0
        code = (ORANGE_OFFERS if orange else BOUYGUES_OFFERS)[i // 2 % (5 if orange else 3)]
        o = offers[code]
        contracts.append(
            Contract(
                partner=partner,
                client=client,
                order=orders[code],
                number=f"CTR-B-{i:06d}",
                offer=o,
                network=o.network,
                state=Contract.State.ACTIVE,
                msisdn=f"06{(10_000_000 + i):08d}" if orange else f"07{(60_000_000 + i):08d}",
                sim_type="pin",
                activation_date=since.date(),
                delivered_at=since,
            )
        )
    Contract.objects.bulk_create(contracts, batch_size=2000)
    Contract.objects.update(created_at=since)
    return [(c.network, c.msisdn) for c in contracts]


def write_files(lines, records: int, day: dt.date, folder: Path) -> list[Path]:
    """One file per hour per network for ``day``; ``records`` in all, spread evenly."""
    from usage.ingestion import BOUYGUES_HEADER, ORANGE_HEADER

    rnd = random.Random(7)
    per_file = records // 48
    files = []
    seq = 0
    for hour in range(24):
        start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)
        for network in ("orange", "bouygues"):
            rows = []
            for _ in range(per_file):
                seq += 1
                net, msisdn = lines[rnd.randrange(0, LINES // 2) * 2 + (network == "bouygues")]
                at = start + dt.timedelta(seconds=rnd.randrange(3600))
                kind = rnd.random()
                if network == "orange":
                    where = rnd.choice(ORANGE_WHERE)
                    local = at.strftime("%Y-%m-%d %H:%M:%S")
                    if kind < 0.4:
                        rows.append(
                            f"OR-B-{seq:09d};33{msisdn[1:]};{local};DATA;S;{where};;;;{rnd.randrange(1, 60000)};0;0,00"
                        )
                    elif kind < 0.75:
                        to = rnd.choice(["33612345678", "33145678901", "34911234567", "81312345678"])
                        cc = {"33": "FRA", "34": "ESP", "81": "JPN"}[to[:2]]
                        rows.append(
                            f"OR-B-{seq:09d};33{msisdn[1:]};{local};VOIX;S;{where};{to};{cc};{rnd.randrange(5, 900)};;0;0,00"
                        )
                    else:
                        t = "SMS" if kind < 0.95 else "MMS"
                        rows.append(
                            f"OR-B-{seq:09d};33{msisdn[1:]};{local};{t};S;{where};3361{rnd.randrange(10**7):07d};FRA;;;0;0,00"
                        )
                else:
                    mcc = rnd.choice(BOUYGUES_MCC)
                    utc = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    if kind < 0.4:
                        rows.append(
                            f"{seq}|{utc}|{msisdn}|GPRS|MO|{mcc}|||{rnd.randrange(1, 60_000_000)}|BYTE||"
                        )
                    elif kind < 0.75:
                        rows.append(
                            f"{seq}|{utc}|{msisdn}|VOICE|MO|{mcc}|0612345678|208|{rnd.randrange(5, 900)}|SEC||"
                        )
                    else:
                        t = "SMS" if kind < 0.95 else "MMS"
                        rows.append(
                            f"{seq}|{utc}|{msisdn}|{t}|MO|{mcc}|06{rnd.randrange(10**8):08d}|208|1|EVT||"
                        )
            if network == "orange":
                name = f"ORANGE_CDR_{start:%Y%m%d%H}.csv"
                header = ORANGE_HEADER
            else:
                name = f"BYT_{start.astimezone(dt.UTC):%Y%m%d_%H}_CDR.txt"
                header = BOUYGUES_HEADER
            path = folder / name
            path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
            files.append(path)
    return files


def raw_copy_aggregate(files: list[Path]) -> float:
    """The database's own limit: COPY each file as is into a text staging table, then one GROUP BY into a
    counters table (no parsing, no rating)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_raw (a text, b text, c text, d text, e text, f text, g text, h text, "
            "i text, j text, k text, l text)"
        )
        cursor.execute("CREATE UNLOGGED TABLE bench_counter (msisdn text PRIMARY KEY, n bigint, q bigint)")
        for path in files:
            sep = ";" if path.name.startswith("ORANGE") else "|"
            with path.open("rb") as fh:
                cursor.copy_expert(
                    f"COPY bench_raw FROM STDIN WITH (FORMAT csv, DELIMITER '{sep}', HEADER true)", fh
                )
        cursor.execute(
            "INSERT INTO bench_counter SELECT CASE WHEN b LIKE '33%%' THEN '0' || substr(b, 3) ELSE c END, "
            "count(*), sum(CASE WHEN j ~ '^[0-9]+$' THEN j::bigint WHEN i ~ '^[0-9]+$' THEN i::bigint ELSE 1 END) "
            "FROM bench_raw GROUP BY 1 "
            "ON CONFLICT (msisdn) DO UPDATE SET n = bench_counter.n + EXCLUDED.n, q = bench_counter.q + EXCLUDED.q"
        )
    return time.perf_counter() - started


def _ingest_stream(folder: str, network: str | None) -> tuple[int, int, int, float, int]:
    """In a worker process, as beat runs it: one pick-up of the drop folder for ``network`` (None: both), its
    files in name order and in batches. (records taken, quarantined, peak RSS in MB, CPU seconds of this
    process, batches)."""
    from usage.services import ingest_dropped_files

    cpu = time.process_time()
    reports = ingest_dropped_files(drop_dir=folder, network=network)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    batches = round(sum(1 / r.batch_files for r in reports))  # a batch of k files: k reports
    return (
        sum(r.taken for r in reports),
        sum(r.quarantined for r in reports),
        rss,
        time.process_time() - cpu,
        batches,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes ingesting files at once (the worker concurrency of make run)",
    )
    args = parser.parse_args()
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        print("Ce banc se lance sur PostgreSQL : DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    settings.PROVISIONING_WAKE_ON_ORDER = False
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the outbox wake-ups stay in the (memory) broker
    settings.CELERY_BROKER_URL = "memory://"
    db.setdefault("TEST", {})["NAME"] = f"bench_{db['NAME']}"
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    # Traffic of the 1st of this month, ingested "on the 2nd at 00:30": current-month records, so alerts are
    # detected as in production.
    day = month_start()
    clock = time_machine.travel(dt.datetime(day.year, day.month, 2, 0, 30, tzinfo=PARIS), tick=True)
    clock.start()
    try:
        from usage.models import UsageAlert, UsageCounter

        lines = build_lines()
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            files = write_files(lines, args.records, day, Path(tmp))
            total = sum(1 for f in files for _ in f.open("rb")) - len(files)
            print(
                f"{len(files)} fichiers, {total} CDR, {LINES} lignes générés en {time.perf_counter() - t0:.1f} s"
            )
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
            connections.close_all()  # each worker process opens its own connection
            started = time.perf_counter()
            # As beat runs it: one pick-up per network (each its files in order, in batches), side by side.
            streams = [(tmp, "orange"), (tmp, "bouygues")] if args.workers > 1 else [(tmp, None)]
            with ProcessPoolExecutor(max_workers=args.workers, mp_context=mp.get_context("fork")) as pool:
                reports = list(pool.map(_ingest_stream, *zip(*streams, strict=True)))
            elapsed = time.perf_counter() - started
            taken = sum(r[0] for r in reports)
            quarantined = sum(r[1] for r in reports)
            rss = max(r[2] for r in reports)
            python_cpu = sum(r[3] for r in reports)
            batches = sum(r[4] for r in reports)
            alerts = UsageAlert.objects.count()
            counters = UsageCounter.objects.count()
            archived = sorted((Path(tmp) / "archive").rglob("*"))
            raw = raw_copy_aggregate([f for f in archived if f.is_file()])
        e2e_rate = total / elapsed
        raw_rate = total / raw
        print(
            f"ingestion : {taken} intégrés, {quarantined} en quarantaine, {counters} compteurs, {alerts} alertes "
            f"en {elapsed:.1f} s avec {args.workers} processus, {batches} lot(s) ; RSS max par processus {rss} Mo "
            f"(avant ingestion {rss_before} Mo)"
        )
        print(
            f"CPU des processus Python (lecture, COPY, alertes) : {python_cpu:.1f} s ; le reste du temps des deux "
            f"cœurs ({2 * elapsed - python_cpu:.1f} s au plus) est celui de PostgreSQL et des attentes"
        )
        print(f"COPY brut + GROUP BY : {raw:.1f} s")
        print(
            f"usage: {e2e_rate:,.0f} CDR/s end to end; raw copy+aggregate: {raw_rate:,.0f} CDR/s; "
            f"ratio {raw_rate / e2e_rate:.1f}".replace(",", " ")
        )
    finally:
        clock.stop()
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
