"""Operator provisioning windows and effective dates — pure functions, no ORM.

Every datetime in and out is timezone-aware (a naive datetime is a bug and raises ``ValueError``). Days, hours
and months are read on the business clock, Europe/Paris; the instants returned are expressed in **UTC**
(like ``timezone.now()``): Python compares two datetimes of the same zone on their wall time, ignoring DST,
and never finds a repeated or skipped wall time equal to an instant of another zone (PEP 495) — so every
comparison here is made on UTC instants, and callers get instants that compare safely. Show them with
``django.utils.timezone.localtime``.

Windows (seed, "HORAIRES D'OUVERTURE D'UNE LIGNE / SIM SWAP"):

- R-PRV-1 Orange simple creation and SIM swap (physical SIM): Monday–Saturday 07:00–22:00, public holidays
  included (the seed says "y compris les jours fériés").
- R-PRV-2 Orange creation with eSIM and SIM swap to eSIM: Monday–Friday 09:00–17:30. *Reading*: the seed names
  holidays only for the simple window ("y compris les jours fériés") and gives office hours here, so French
  public holidays are **excluded** from the eSIM window: the platform plans such a request on the next
  business day rather than risk a refusal.
- R-PRV-3 Bouygues simple creation and SIM swap: 24 h/24, 7 days/7. eSIM is Orange only (R-OPT-2): a Bouygues
  eSIM creation or swap has no window at all (``UnsupportedRequest``).
- R-PRV-4 Creation with portability (both networks): at the earliest on the 3rd business day after the order
  (J+3; business days are Monday–Friday minus French public holidays, ID-PORT), only on business days, and
  within that operator's creation hours for the SIM type (Orange physical SIM 07:00–22:00, Orange eSIM
  09:00–17:30, Bouygues all day).
- Every other kind (suspend, resume, terminate, change of offer, options, data block/unblock, top-up): the seed
  gives no hours, so the operator takes them at any time (24/7). When such a change *takes effect* is a
  contract rule (R-CON-1/2, R-OPT-3: ``effective_first_of_next_month``), not an operator window.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from core.networks import Network
from provisioning.kinds import RequestKind

PARIS = ZoneInfo("Europe/Paris")
MONDAY_TO_FRIDAY = frozenset(range(5))
MONDAY_TO_SATURDAY = frozenset(range(6))
EVERY_DAY = frozenset(range(7))
#: How far ``next_window`` looks ahead; every window of the seed opens within a couple of weeks.
_HORIZON_DAYS = 60


class UnsupportedRequest(ValueError):
    """This operator never accepts this kind of request (e.g. an eSIM at Bouygues, R-OPT-2)."""


@dataclass(frozen=True)
class WindowSpec:
    """When an operator accepts a kind of request: on ``weekdays`` (0 = Monday), from ``opens`` to ``closes``
    (local Paris time; ``closes=None`` means midnight at the end of the day); ``on_holidays`` tells whether
    French public holidays are open days; ``rule`` is the SPEC id it implements."""

    weekdays: frozenset[int]
    opens: time
    closes: time | None
    on_holidays: bool
    rule: str

    @property
    def always_open(self) -> bool:
        return (
            self.weekdays == EVERY_DAY and self.opens == time(0) and self.closes is None and self.on_holidays
        )


ALWAYS = WindowSpec(EVERY_DAY, time(0), None, True, "")
ORANGE_SIMPLE = WindowSpec(MONDAY_TO_SATURDAY, time(7), time(22), True, "R-PRV-1")
ORANGE_ESIM = WindowSpec(MONDAY_TO_FRIDAY, time(9), time(17, 30), False, "R-PRV-2")
BOUYGUES_SIMPLE = WindowSpec(EVERY_DAY, time(0), None, True, "R-PRV-3")

_SIMPLE_CREATION = {RequestKind.CREATE_LINE, RequestKind.SWAP_SIM}
_ESIM_CREATION = {RequestKind.CREATE_LINE_ESIM, RequestKind.SWAP_SIM_ESIM}


# --- calendar ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("FR", years=year).keys())


def is_public_holiday(day: date) -> bool:
    """French public holiday (python ``holidays``, country FR, metropolitan list)."""
    return day in _french_holidays(day.year)


def is_business_day(day: date) -> bool:
    """Monday–Friday and not a French public holiday (R-PRV-4, ID-PORT)."""
    return day.weekday() < 5 and not is_public_holiday(day)


def add_business_days(day: date, n: int) -> date:
    """The ``n``-th business day strictly after ``day`` (``n == 0`` returns ``day`` itself)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    current = day
    while n:
        current += timedelta(days=1)
        if is_business_day(current):
            n -= 1
    return current


def utc(at: datetime) -> datetime:
    """The instant ``at`` in UTC; refuses naive datetimes."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("aware datetime required (the business clock is Europe/Paris)")
    return at.astimezone(UTC)


def local(at: datetime) -> datetime:
    """``at`` on the Paris business clock (wall time, for reading days and hours)."""
    return utc(at).astimezone(PARIS)


def _at_local(day: date, clock: time) -> datetime:
    """The instant (UTC) of ``day`` at ``clock`` in Paris (a wall time in the spring-forward gap moves forward)."""
    return datetime.combine(day, clock, tzinfo=PARIS).astimezone(UTC)


def portability_earliest(ordered_at: datetime) -> datetime:
    """R-PRV-4: a port-in is executed at the earliest on the 3rd business day after the order day (J+3),
    from 00:00 Paris that day (as a UTC instant) (the operator's hours then narrow it, see ``next_window``)."""
    return _at_local(add_business_days(local(ordered_at).date(), 3), time(0))


def effective_first_of_next_month(at: datetime) -> datetime:
    """R-CON-1/R-CON-2 (and Orange option ends, R-OPT-3): the 1st of the month after ``at``, 00:00 Paris
    (as a UTC instant)."""
    day = local(at).date()
    first = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return _at_local(first, time(0))


# --- windows -------------------------------------------------------------------------------------------


def _normalise(kind: str, *, portability: bool, esim: bool) -> tuple[str, bool]:
    """(creation kind, portability) — ``PORT_IN`` is a creation with portability; ``esim`` turns a simple
    creation or swap into its eSIM variant."""
    kind = RequestKind(kind)
    if kind == RequestKind.PORT_IN:
        kind, portability = RequestKind.CREATE_LINE, True
    if esim and kind == RequestKind.CREATE_LINE:
        kind = RequestKind.CREATE_LINE_ESIM
    if esim and kind == RequestKind.SWAP_SIM:
        kind = RequestKind.SWAP_SIM_ESIM
    if portability and kind not in (RequestKind.CREATE_LINE, RequestKind.CREATE_LINE_ESIM):
        raise ValueError(f"portability applies to a line creation, not to {kind}")
    return kind, portability


def window_spec(kind: str, network: str, *, portability: bool = False, esim: bool = False) -> WindowSpec:
    """The hours an operator accepts ``kind`` (see the module docstring for the readings)."""
    kind, portability = _normalise(kind, portability=portability, esim=esim)
    network = Network(network)
    if kind in _ESIM_CREATION:
        if network != Network.ORANGE:
            raise UnsupportedRequest(f"{network} does not provide eSIM (R-OPT-2)")
        spec = ORANGE_ESIM
    elif kind in _SIMPLE_CREATION:
        spec = ORANGE_SIMPLE if network == Network.ORANGE else BOUYGUES_SIMPLE
    else:
        return ALWAYS
    if portability:  # R-PRV-4: business days only (Mon–Fri, holidays excluded)
        spec = WindowSpec(spec.weekdays & MONDAY_TO_FRIDAY, spec.opens, spec.closes, False, "R-PRV-4")
    return spec


def _is_open_day(spec: WindowSpec, day: date) -> bool:
    return day.weekday() in spec.weekdays and (spec.on_holidays or not is_public_holiday(day))


def next_window(
    kind: str,
    network: str,
    at: datetime,
    *,
    portability: bool = False,
    esim: bool = False,
    ordered_at: datetime | None = None,
) -> datetime:
    """The first instant (UTC) ``>= at`` at which ``network`` accepts a request of ``kind`` (R-PRV-1..4).

    ``PORT_IN`` (or ``portability=True`` on a creation) adds the J+3 business-day floor, counted from
    ``ordered_at`` (the order's time; defaults to ``at``) so that re-planning a retry does not push it further.
    A port-in with an eSIM is ``PORT_IN`` with ``esim=True`` (same as ``CREATE_LINE_ESIM`` with portability).
    """
    at = utc(at)
    kind, portability = _normalise(kind, portability=portability, esim=esim)
    spec = window_spec(kind, network, portability=portability)
    if portability:
        at = max(at, portability_earliest(ordered_at if ordered_at is not None else at))
    if spec.always_open:
        return at
    day = local(at).date()
    for _ in range(_HORIZON_DAYS):
        if _is_open_day(spec, day):
            opens = _at_local(day, spec.opens)
            closes = (
                _at_local(day + timedelta(days=1), time(0))
                if spec.closes is None
                else _at_local(day, spec.closes)
            )
            if at < closes:
                return max(at, opens)
        day += timedelta(days=1)
    raise RuntimeError(f"no window within {_HORIZON_DAYS} days for {kind} on {network}")  # pragma: no cover


def is_within_window(
    kind: str,
    network: str,
    at: datetime,
    *,
    portability: bool = False,
    esim: bool = False,
    ordered_at: datetime | None = None,
) -> bool:
    """True when the operator accepts ``kind`` at ``at`` (R-PRV-1..4)."""
    opening = next_window(kind, network, at, portability=portability, esim=esim, ordered_at=ordered_at)
    return opening == utc(at)


def window_rule(kind: str, network: str, *, portability: bool = False, esim: bool = False) -> str:
    """The SPEC rule id that governs the window of ``kind`` on ``network`` ("" when always open by default)."""
    return window_spec(kind, network, portability=portability, esim=esim).rule
