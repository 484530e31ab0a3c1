"""Benchmark of an order and a contract action with the broker down (issue 10 item 5).

The broker URL points at a closed port (``redis://127.0.0.1:1/0``, eager off). The order and the action commit,
then wake the dispatcher after commit: one publish attempt bounded by ``BROKER_WAKE_TIMEOUT_SECONDS``, no retry
(``core/broker.py``). For comparison it also times Celery's default publish on its connection pool — what the
wake-up did before (about 6 s: kombu retries the connection for ``broker_connection_timeout``).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/alphalink python bench/bench_broker_down.py

It works in its own scratch database (``bench_<name>``, created, migrated and dropped at the end). Figures, not
assertions (ARCHITECTURE: benchmarks print, they do not assert timings).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alphalink.settings")
os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:1/0"  # nothing listens on port 1: the broker is down
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

REPEAT = 5


def build_fixtures():
    from catalog.services import catalog_load
    from core.networks import Network
    from inventory.models import PhoneNumber, SimCard
    from inventory.rules import iccid_with_check_digit
    from partners.models import PartnerMembership
    from partners.services import client_create, partner_create, partner_staff_create

    catalog_load()
    partner = partner_create(name="Bench Télécom", slug="bench-telecom", is_init_sys=True)
    user = partner_staff_create(
        partner=partner, username="bench", password="bench-pw-123", role=PartnerMembership.Role.ADMIN
    )
    client = client_create(
        partner=partner, company_name="Client Bench", siret="73282932000074", email="bench@example.fr"
    )
    SimCard.objects.bulk_create(
        SimCard(
            partner=partner,
            network=Network.ORANGE,
            iccid=iccid_with_check_digit(f"893301{i:012d}"),
            pin="1234",
            puk=f"{i:08d}",
        )
        for i in range(50)
    )
    PhoneNumber.objects.bulk_create(
        PhoneNumber(partner=partner, network=Network.ORANGE, msisdn=f"0750{i:06d}") for i in range(50)
    )
    return partner, user, client


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def main() -> int:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        print("Ce banc se lance sur PostgreSQL : DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)  # one "could not wake" warning per call otherwise
    settings.PROVISIONING_WAKE_ON_ORDER = True
    db.setdefault("TEST", {})["NAME"] = f"bench_{db['NAME']}"
    original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from celery import current_app

        from catalog.models import Offer
        from contracts import lifecycle
        from contracts.models import Contract
        from contracts.services import DISPATCH_TASK, LineSpec, order_place

        partner, user, client = build_fixtures()
        offer = Offer.objects.get(code="OR-ILL-10G-B")

        def place():
            return order_place(
                partner=partner, client=client, created_by=user, offer=offer, quantity=1, lines=[LineSpec()]
            )

        place()  # warm-up (imports, caches)
        orders = [timed(place) for _ in range(REPEAT)]
        contracts = [order.contracts.get() for _, order in orders]
        Contract.objects.filter(pk__in=[c.pk for c in contracts]).update(state=Contract.State.ACTIVE)
        actions = [
            timed(lambda c=c: lifecycle.contract_suspend(contract=Contract.objects.get(pk=c.pk)))
            for c in contracts
        ]
        before, _ = timed(lambda: _default_publish(current_app, DISPATCH_TASK))

        order_ms = statistics.median(ms for ms, _ in orders)
        action_ms = statistics.median(ms for ms, _ in actions)
        print(f"broker down: order placed in {order_ms:.0f} ms (median of {REPEAT}, 1 line)")
        print(f"broker down: contract suspended in {action_ms:.0f} ms (median of {REPEAT})")
        print(
            f"broker down: Celery's default publish (the wake-up before issue 10 item 5) gave up after {before:.0f} ms"
            f" ; BROKER_WAKE_TIMEOUT_SECONDS={settings.BROKER_WAKE_TIMEOUT_SECONDS}"
        )
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    return 0


def _default_publish(app, name: str) -> None:
    try:
        app.send_task(name, retry=False)
    except Exception:  # noqa: BLE001 - the broker is down, as intended
        pass


if __name__ == "__main__":
    sys.exit(main())
