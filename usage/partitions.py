"""Monthly partitions of ``usage_cdr`` (issue 7, item 8): created on demand before records of a month are
written, dropped after ``CDR_RETENTION_MONTHS``. Partition bounds are Europe/Paris month starts, the same
calendar month as the counters."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from core.clock import add_months, month_bounds, month_start

_NAME = re.compile(r"^usage_cdr_(\d{4})(\d{2})$")


def partition_name(month: dt.date) -> str:
    return f"usage_cdr_{month:%Y%m}"


def ensure_partitions(months: Iterable[dt.date]) -> None:
    """Create the partitions of ``months`` that do not exist yet (idempotent, safe under concurrency). A month
    whose partition exists takes no lock: concurrent ingestions of one month never wait for each other."""
    existing = set(existing_partitions())
    missing = sorted({month_start(m) for m in months} - existing)
    with connection.cursor() as cursor:
        for month in missing:
            start, end = month_bounds(month)
            # CREATE TABLE IF NOT EXISTS … PARTITION OF is not atomic against a concurrent creator: take a
            # transaction-level advisory lock keyed on the month first.
            cursor.execute("SELECT pg_advisory_xact_lock(7007, %s)", [month.year * 100 + month.month])
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF usage_cdr "  # noqa: S608
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )


def existing_partitions() -> list[dt.date]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'usage_cdr'"
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        m = _NAME.match(name)
        if m:
            months.append(dt.date(int(m.group(1)), int(m.group(2)), 1))
    return sorted(months)


def drop_old_partitions(*, now: dt.datetime | None = None, keep_months: int | None = None) -> list[str]:
    """Drop the partitions of months older than the retention (the current month counts as one)."""
    keep = settings.CDR_RETENTION_MONTHS if keep_months is None else keep_months
    oldest_kept = add_months(month_start(now), -(keep - 1))
    dropped = []
    with connection.cursor() as cursor:
        for month in existing_partitions():
            if month < oldest_kept:
                name = partition_name(month)
                cursor.execute(f"DROP TABLE IF EXISTS {name}")  # noqa: S608
                dropped.append(name)
    return dropped
