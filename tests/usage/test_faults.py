"""Fault tests of ingestion (issue 7 "Done when", STYLE 27): REAL ``celery worker`` processes with their beat
picking files from the drop folder, real PostgreSQL and Redis. The same file delivered twice, two workers on
one file at once, and ``kill -9`` of the worker in the middle of a file all end with the counters of one clean
ingestion. Every wait is bounded; workers are always killed in a ``finally``."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter

import pytest
from django.db import connection

from core.money import MB
from tests.provisioning.test_faults import Worker
from tests.provisioning.test_faults import broker as _broker_fixture  # noqa: F401 — the Redis broker fixture
from tests.usage.conftest import orange_file, orange_line, orange_name, paris
from usage.models import CdrFile, UsageCounter

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("_broker_fixture")]

LINES = 40
RECORDS = 120_000
TIMEOUT = 120


def _lines_and_file(line, now):
    """40 lines, one Orange file of 120,000 data records (a few seconds of work) and the expected counters."""
    contracts = [line("OR-ILL-100G-NB", msisdn=f"06124{i:05d}") for i in range(LINES)]
    expected: Counter = Counter()
    rows = []
    for i in range(RECORDS):
        c = contracts[i % LINES]
        volume_ko = 1 + (i * 7919) % 5000
        expected[c.pk] += volume_ko * 1000
        at = paris(now.year, now.month, 1, 0, 0) + (now - paris(now.year, now.month, 1, 0, 0)) * (i / RECORDS)
        rows.append(orange_line(c.msisdn, at, "DATA", ko=volume_ko, ticket=f"OR-F-{i:07d}"))
    return expected, orange_file(*rows)


def _counters() -> dict[int, int]:
    return dict(UsageCounter.objects.filter(metric="data").values_list("contract_id", "quantity"))


def _wait(predicate, timeout=TIMEOUT, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _ingesting_elsewhere() -> bool:
    """Another backend (the worker) is in the middle of a file: its temporary CDR tables are being filled."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query ILIKE '%%_cdr_%%' "
            "AND state = 'active'"
        )
        return cursor.fetchone()[0] > 0


def _worker(tmp_path, drop, name):
    worker = Worker(tmp_path / name)
    (tmp_path / name).mkdir()
    worker.env.update({"CDR_DROP_DIR": str(drop), "CDR_PICKUP_SECONDS": "1"})
    return worker


def test_kill_9_mid_file_then_redelivery_and_two_workers_count_once(line, tmp_path):
    from django.utils import timezone

    now = timezone.now()
    expected, data = _lines_and_file(line, now)
    drop = tmp_path / "drop"
    drop.mkdir()
    name = orange_name()
    (drop / name).write_bytes(data)

    first = _worker(tmp_path, drop, "w1")
    second = _worker(tmp_path, drop, "w2")
    try:
        # kill -9 in the middle of the file: nothing of it may remain.
        first.start()
        assert _wait(_ingesting_elsewhere, timeout=60, step=0.05), "the worker never started the file"
        first.kill9()
        assert not CdrFile.objects.filter(state=CdrFile.State.DONE).exists()
        assert _counters() == {}
        # Two workers restart together on the same file: it is taken once.
        first.start()
        second.start()
        assert _wait(lambda: CdrFile.objects.filter(state=CdrFile.State.DONE).exists()), "file never taken"
        assert _wait(lambda: not (drop / name).exists(), timeout=30), "file never archived"
        assert _counters() == expected
        # The operator delivers the same file again (a new name, same content): nothing changes.
        again = orange_name()
        shutil.copy(next((drop / "archive").rglob(name)), drop / f".{again}.part")  # written, then renamed,
        os.replace(drop / f".{again}.part", drop / again)  # as operators deliver (never half a file)
        assert _wait(lambda: not any(p.is_file() for p in drop.iterdir()), timeout=30)
        assert CdrFile.objects.count() == 1
        assert _counters() == expected
        print(
            f"\n{RECORDS} records, {LINES} lines: killed mid-file, then 2 workers, then re-delivered — "
            f"{CdrFile.objects.get().taken} taken once, counters = clean ingestion ({sum(expected.values()) // MB} Mo)"
        )
    finally:
        first.kill9()
        second.kill9()
