"""The business clock: Europe/Paris, and the calendar-month boundaries counters and billing use
(ARCHITECTURE "Time and money"). Every "now" is ``django.utils.timezone.now()``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def paris(at: dt.datetime | None = None) -> dt.datetime:
    """``at`` (default now) in Europe/Paris."""
    return (at or timezone.now()).astimezone(PARIS)


def month_start(value: dt.date | dt.datetime | None = None) -> dt.date:
    """The first day of the Europe/Paris calendar month of ``value`` (a date, an aware datetime, or now)."""
    if value is None or isinstance(value, dt.datetime):
        value = paris(value).date()
    return value.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months after ``month`` (negative ``n``: before)."""
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a Europe/Paris calendar month, as aware datetimes (00:00 Paris on the 1st)."""
    start = month_start(month)
    end = add_months(start, 1)
    return (
        dt.datetime(start.year, start.month, 1, tzinfo=PARIS),
        dt.datetime(end.year, end.month, 1, tzinfo=PARIS),
    )
