"""Traffic generator: ``generate_traffic(lines, start, end, seed=…)`` gives realistic, deterministic traffic for
lines within their live period, as a stream (bounded memory: one line-day at a time), in Europe/Paris day order;
``PROFILES`` holds its traffic profiles.

Determinism: every line-day draws from its own ``random.Random`` seeded by (seed, line key, day), so a line's
traffic on a day does not depend on the other lines chosen nor on the period asked. Record ids come from the line
key (the contract id), the hour and a per-line counter: the same generation rewrites the same records, which is how
an operator re-delivers a file (the platform takes a record once). The seed is not part of the id: another seed
over the same lines and hours gives other records under the same ids (the platform keeps the first); ids stay
unique while line keys differ modulo 99,999 (Orange has 8 digits per hour: 5 for the line, 3 for the counter).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from statistics import NormalDist
from typing import Any

from .events import (
    COUNTRIES,
    DATA,
    GB,
    IN,
    KB,
    MAGHREB_TURQUIE,
    MB,
    MMS,
    ORANGE,
    OTHER_DESTINATIONS,
    OUT,
    OUT_OF_PLAN_DESTINATIONS,
    PARIS,
    RESTE_DU_MONDE,
    SMS,
    TRIP_COUNTRIES,
    USA_CANADA,
    VOICE,
    ZERO,
    ZONE1,
    ZONE1_DESTINATIONS,
    TrafficEvent,
    TrafficLine,
    _now,
    parse_zone,
)
from .writers import _BOUYGUES_SLOTS, _ORANGE_SLOTS, _hour


@dataclass(frozen=True)
class TrafficProfile:
    """Average events per line and full day (weekdays; weekends have ``weekend_voice`` of the calls and SMS),
    and per line and month the odds of a trip. Voice, SMS and MMS only on Illimité, Travel and Compteur lines."""

    name: str
    voice_out: float = 3.5  # calls to French mobiles
    voice_in: float = 3.5
    voice_zone1: float = 0.12  # calls from France to zone 1 (included, R-ROA-1)
    voice_other: float = 0.04  # calls from France to the other zones (metered, R-ROA-1)
    voice_sva: float = 0.05  # premium-rate (SVA) calls, on lines that allow them
    sms_out: float = 6.0
    sms_in: float = 7.0
    sms_intl: float = 0.1  # SMS from France to foreign numbers
    mms_out: float = 0.15
    mms_in: float = 0.1
    data_sessions: float = 10.0
    weekend_voice: float = 0.7
    weekend_data: float = 1.1
    europe_trip: float = 0.12  # chance per line and month of a trip in zone 1
    world_trip: float = 0.04  # … outside zone 1 (a zone drawn among the three)
    data_share: tuple[float, float] = (0.05, 0.6)  # share of the envelope a line uses in a month (uniform)


PROFILES: dict[str, TrafficProfile] = {
    "standard": TrafficProfile("standard"),
    # The demo: France and calls to zone 1 only, so the cases asked for (alerts, blocking, out of plan) are the
    # only surprises on the demo lines.
    "demo": TrafficProfile(
        "demo", voice_other=0.0, sms_intl=0.0, europe_trip=0.0, world_trip=0.0, data_share=(0.1, 0.5)
    ),
}

#: Weight of each Europe/Paris hour of the day (daytime traffic).
HOUR_WEIGHTS = (
    0.25, 0.12, 0.06, 0.05, 0.05, 0.1, 0.35, 0.9, 1.6, 2.0, 2.2, 2.3,
    2.2, 2.1, 2.2, 2.3, 2.3, 2.4, 2.5, 2.3, 2.0, 1.6, 1.1, 0.6,
)  # fmt: skip

_MASK = (1 << 64) - 1


def _mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): stable across processes, unlike ``hash``."""
    x = 0x243F6A8885A308D3
    for p in parts:
        x = ((x ^ (p & _MASK)) * 0xBF58476D1CE4E5B9) & _MASK
        x ^= x >> 31
        x = (x * 0x94D049BB133111EB) & _MASK
        x ^= x >> 29
    return x


def _unit(*parts: int) -> float:
    """A number in [0, 1) drawn from ``parts``."""
    return (_mix(*parts) >> 11) / float(1 << 53)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def as_aware(value: date | datetime) -> datetime:
    """An aware datetime as is; a date → its midnight in Europe/Paris."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("Date sans fuseau horaire : une date « aware » est attendue.")
        return value
    return datetime(value.year, value.month, value.day, tzinfo=PARIS)


def _day_start(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=PARIS).timestamp())


_DAY_SLOTS: dict[int, tuple[list[int], list[int], list[float]]] = {}


def _slots(d0: int, d1: int, w0: int, w1: int) -> tuple[list[int], list[int], list[float]]:
    """The hours of a Paris day [d0, d1) clipped to [w0, w1): (starts, lengths, cumulated weights)."""
    full = w0 <= d0 and w1 >= d1
    if full and d0 in _DAY_SLOTS:
        return _DAY_SLOTS[d0]
    starts, lengths, cum, total = [], [], [], 0.0
    for h in range(d0 // 3600, -(-d1 // 3600)):
        a, b = max(h * 3600, w0, d0), min(h * 3600 + 3600, w1, d1)
        if a >= b:
            continue
        local_hour = datetime.fromtimestamp(h * 3600, PARIS).hour
        total += HOUR_WEIGHTS[local_hour] * (b - a) / 3600
        starts.append(a)
        lengths.append(b - a)
        cum.append(total)
    result = (starts, lengths, cum)
    if full:
        _DAY_SLOTS[d0] = result
    return result


# Kinds of voice/SMS/MMS events drawn for a line-day.
(K_VOICE_OUT, K_VOICE_IN, K_VOICE_Z1, K_VOICE_OTHER, K_VOICE_SVA, K_SMS_OUT, K_SMS_IN, K_SMS_INTL, K_MMS_OUT,
 K_MMS_IN) = range(10)  # fmt: skip

#: Premium-rate numbers: (prefix, surcharge HT per started minute; 0 = premium, not billable).
PREMIUM_NUMBERS = (
    ("0899", Decimal("0.80")),
    ("0892", Decimal("0.35")),
    ("0891", Decimal("0.15")),
    ("0810", ZERO),
    ("0811", ZERO),
)


@dataclass
class _Trip:
    country: str
    zone: str
    data: int  # roaming data that day (bytes); in zone 1 the day's ordinary data is used instead


class _LinePlan:
    """Everything decided once per line for the period: its kinds table, trips, data targets."""

    __slots__ = (
        "line", "slot_o", "slot_b", "kinds", "kinds_cum", "rate", "trips", "targets", "calls", "explicit",
        "orange", "msisdn", "network", "contacts",
    )  # fmt: skip

    def __init__(self, line: TrafficLine, profile: TrafficProfile, seed: int):
        self.line = line
        self.contacts = _mix(seed, line.key, 11)
        self.network = line.network
        self.orange = line.network == ORANGE
        self.msisdn = line.msisdn
        self.slot_o = line.key % _ORANGE_SLOTS
        self.slot_b = line.key % _BOUYGUES_SLOTS
        self.trips: dict[int, _Trip] = {}
        self.targets: dict[int, int] = {}  # day ordinal → France + Europe data bytes (data_share)
        self.calls: dict[int, int] = {}  # day ordinal → explicit out-of-plan calls
        self.explicit = False
        kinds: list[tuple[int, float]] = []
        if line.voice:
            kinds = [
                (K_VOICE_OUT, profile.voice_out),
                (K_VOICE_IN, profile.voice_in),
                (K_VOICE_Z1, profile.voice_zone1),
                (K_VOICE_OTHER, profile.voice_other),
                (K_VOICE_SVA, profile.voice_sva if line.allow_sva else 0.0),
                (K_SMS_OUT, profile.sms_out),
                (K_SMS_IN, profile.sms_in),
                (K_SMS_INTL, profile.sms_intl),
                (K_MMS_OUT, profile.mms_out),
                (K_MMS_IN, profile.mms_in),
            ]
            kinds = [(k, w) for k, w in kinds if w > 0]
        self.kinds = [k for k, _ in kinds]
        self.kinds_cum: list[float] = []
        total = 0.0
        for _, w in kinds:
            total += w
            self.kinds_cum.append(total)
        self.rate = total


def _monthly_data(line: TrafficLine, profile: TrafficProfile, u: float) -> int:
    """Ordinary France + Europe data of a line in a month (no target asked)."""
    env = line.data_bytes or 0
    lo, hi = profile.data_share
    if line.range in ("illimite", "travel"):
        return min(int(env * (lo + (hi - lo) * u)), 60 * GB)
    if line.range == "data_only":
        return min(int(env * (lo + (hi - lo) * u)), 300 * GB)
    if line.range == "m2m":
        return int(env * (lo + (hi - lo) * u))
    if line.range == "compteur":
        return int((0.3 + 3.7 * u) * GB)
    if line.range == "compteur_data":
        return int((0.1 + 1.1 * u) * GB)
    return 0


def _split(rng: random.Random, total: int, n: int, unit: int) -> list[int]:
    """``total`` bytes in ``n`` random parts, multiples of ``unit``, summing to ``total`` rounded to ``unit``."""
    units = -(-total // unit)
    if n <= 1 or units <= n:
        return [units * unit] if units else []
    rand, log = rng.random, math.log
    weights = [0.05 - log(1.0 - rand()) for _ in range(n)]  # exponential draws
    scale = units / sum(weights)
    parts = [int(w * scale) for w in weights]
    parts[-1] += units - sum(parts)
    return [p * unit for p in parts if p > 0]


def _spread(total: int, days: list[tuple[int, float]], unit: int) -> dict[int, int]:
    """``total`` bytes over ``days`` [(day ordinal, weight)], multiples of ``unit``, exactly (rounded to unit)."""
    units = -(-total // unit) if total > 0 else 0
    weight = sum(w for _, w in days)
    out: dict[int, int] = {}
    given = 0
    for i, (day, w) in enumerate(days):
        share = units - given if i == len(days) - 1 else int(units * w / weight) if weight else 0
        given += share
        out[day] = share * unit
    return out


def _lookup(mapping: Mapping | None, line: TrafficLine):
    if not mapping:
        return None
    for key in (line.key, str(line.key), line.number):
        if key in mapping:
            return mapping[key]
    return None


def generate_traffic(
    contracts: Iterable[Any],
    start: date | datetime,
    end: date | datetime,
    *,
    seed: int = 0,
    profile: str | TrafficProfile = "standard",
    data_share: Mapping[Any, float] | None = None,
    roaming: Mapping[Any, tuple[str, int]] | None = None,
    international: Mapping[Any, int] | None = None,
    now: datetime | None = None,
) -> Iterator[TrafficEvent]:
    """Realistic traffic of ``contracts`` (``Contract`` rows with their offer, or ``TrafficLine``) over
    [``start``, ``end``) — dates are Europe/Paris midnights — as a stream in Paris-day order.

    - only within each line's live period (delivered → terminated or suspended), never at or after ``now``;
    - only what the offer allows: data only on Data only, M2M and Compteur Data (R-CAT-5/6/8); calls, SMS, MMS
      and data on Illimité, Travel and Compteur; trips abroad only on Illimité and Travel; no premium-rate call
      on a line that does not allow SVA; no data on an Illimité « sans data »;
    - daytime-weighted (``HOUR_WEIGHTS``, Paris time), quieter calls at weekends;
    - ``data_share={contract: 0.85}``: the line's France + Europe data reaches that share of its envelope in
      each month of the period (spread over its live days; exact to the kilobyte);
    - ``roaming={contract: (zone or alpha-3 country, bytes)}``: a trip over the last days of the line's live
      period (up to 5) with that much data in that zone;
    - ``international={contract: n}``: n calls from France to countries outside zone 1 (out of plan, R-ROA-1);
    - contracts are keyed by id or number. Lines with one of these parameters take no random trip.

    Deterministic for a ``seed``: each line-day draws from ``random.Random`` seeded by (seed, line, day)."""
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    now = now or _now()
    start_at = as_aware(start)
    end_at = min(as_aware(end), now)
    start_ts, end_ts = math.ceil(start_at.timestamp()), math.ceil(end_at.timestamp())
    lines = sorted((TrafficLine.of(c) for c in contracts if _delivered(c)), key=attrgetter("key"))
    if start_ts >= end_ts:
        return iter(())
    first_day = datetime.fromtimestamp(start_ts, PARIS).date()
    last_day = datetime.fromtimestamp(end_ts - 1, PARIS).date()
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    day_bounds = [(d, _day_start(d), _day_start(d + timedelta(days=1))) for d in days]
    plans: list[tuple[_LinePlan, int, int]] = []
    for line in lines:
        lo = max(start_ts, math.ceil(line.live_from.timestamp()))
        hi = end_ts if line.live_until is None else min(end_ts, math.ceil(line.live_until.timestamp()))
        if lo >= hi:
            continue
        plan = _LinePlan(line, prof, seed)
        _plan_line(plan, prof, seed, lo, hi, day_bounds, data_share, roaming, international)
        plans.append((plan, lo, hi))
    return _stream(plans, prof, seed, day_bounds)


def _delivered(contract: Any) -> bool:
    """A line has traffic only once it has a number and a delivery date (the others are skipped)."""
    return isinstance(contract, TrafficLine) or (
        contract.msisdn is not None and contract.delivered_at is not None
    )


def _live_days(lo: int, hi: int, day_bounds) -> list[tuple[date, float]]:
    out = []
    for d, d0, d1 in day_bounds:
        a, b = max(lo, d0), min(hi, d1)
        if a < b:
            out.append((d, (b - a) / (d1 - d0)))
    return out


def _plan_line(plan: _LinePlan, prof, seed, lo, hi, day_bounds, data_share, roaming, international) -> None:
    line = plan.line
    live = _live_days(lo, hi, day_bounds)
    share = _lookup(data_share, line)
    trip = _lookup(roaming, line)
    calls = _lookup(international, line)
    plan.explicit = share is not None or trip is not None or calls is not None
    if trip is not None:
        if not line.roams:
            raise ValueError(f"La ligne {line.number or line.key} n'a pas d'itinérance (offre {line.range}).")
        zone, country = parse_zone(trip[0])
        volume = int(trip[1])
        trip_days = live[-5:]
        unit = KB if plan.orange else 1
        for day, amount in _spread(volume, [(d.toordinal(), f) for d, f in trip_days], unit).items():
            plan.trips[day] = _Trip(country, zone, amount)
    elif line.roams and not plan.explicit:
        _random_trips(plan, prof, seed, live)
    if share is not None:
        if not line.data_bytes:
            raise ValueError(
                f"La ligne {line.number or line.key} n'a pas d'enveloppe data (offre {line.range})."
            )
        months: dict[tuple[int, int], list[tuple[int, float]]] = {}
        for d, frac in live:
            t = plan.trips.get(d.toordinal())
            if t is not None and t.zone != ZONE1:
                continue  # abroad outside Europe: nothing on the France + Europe envelope that day
            weight = frac * (0.6 + 0.8 * _unit(seed, line.key, d.toordinal(), 7))
            months.setdefault((d.year, d.month), []).append((d.toordinal(), weight))
        unit = KB if plan.orange else 1
        for month_days in months.values():
            plan.targets.update(_spread(int(line.data_bytes * float(share)), month_days, unit))
    if calls:
        if not line.voice:
            raise ValueError(f"La ligne {line.number or line.key} n'a pas la voix (offre {line.range}).")
        home = [d.toordinal() for d, _ in live if d.toordinal() not in plan.trips] or [
            d.toordinal() for d, _ in live
        ]
        for i in range(int(calls)):
            day = home[i * len(home) // int(calls)]
            plan.calls[day] = plan.calls.get(day, 0) + 1


def _random_trips(plan: _LinePlan, prof: TrafficProfile, seed: int, live) -> None:
    key = plan.line.key
    months = sorted({(d.year, d.month) for d, _ in live})
    live_set = {d.toordinal() for d, _ in live}
    for year, month in months:
        m = year * 12 + month
        for kind, odds in ((1, prof.europe_trip), (2, prof.world_trip)):
            if _unit(seed, key, m, kind) >= odds:
                continue
            if kind == 1:
                zone = ZONE1
            else:
                zone = (USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE)[int(_unit(seed, key, m, 3) * 3)]
            countries = TRIP_COUNTRIES[zone]
            country = countries[int(_unit(seed, key, m, kind, 4) * len(countries))]
            length = 2 + int(_unit(seed, key, m, kind, 5) * 5)
            first = date(year, month, 1)
            dim = ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - first).days
            begin = 1 + int(_unit(seed, key, m, kind, 6) * max(1, dim - length + 1))
            for i in range(length):
                day_no = begin + i
                if day_no > dim:
                    break
                ordinal = first.replace(day=day_no).toordinal()
                if ordinal not in live_set or ordinal in plan.trips:
                    continue
                roaming_data = 0
                if zone != ZONE1 and plan.line.data_bytes:
                    roaming_data = int((20 + 130 * _unit(seed, key, ordinal, 8)) * MB)
                plan.trips[ordinal] = _Trip(country, zone, roaming_data)


def _stream(plans, prof: TrafficProfile, seed: int, day_bounds) -> Iterator[TrafficEvent]:
    rng = random.Random()
    for d, d0, d1 in day_bounds:
        ordinal = d.toordinal()
        weekend = d.weekday() >= 5
        month = d.year * 12 + d.month
        dim = ((d.replace(day=28) + timedelta(days=4)).replace(day=1) - d.replace(day=1)).days
        for plan, lo, hi in plans:
            w0, w1 = max(lo, d0), min(hi, d1)
            if w0 >= w1:
                continue
            rng.seed(_mix(seed, plan.line.key, ordinal))
            yield from _line_day(plan, prof, rng, seed, ordinal, month, dim, weekend, d0, d1, w0, w1)


def _contact(base: int, index: int) -> str:
    """The line's ``index``-th usual correspondent (``base``: the line's hash): a French mobile number, never
    ``0639…`` (see ``UNKNOWN_MSISDN``)."""
    x = ((base ^ index) * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 29
    if x & 1:
        return f"06{'1245678'[(x >> 1) % 7]}{(x >> 8) % 10**7:07d}"
    return f"07{'56789'[(x >> 1) % 5]}{(x >> 8) % 10**7:07d}"


#: Call durations (seconds): 4,096 quantiles of a log-normal law (median about 74 s, a few calls of an hour or
#: more), capped at 2 h (R-CAT-11) — a table look-up is much cheaper than a draw from the law.
_DURATIONS = tuple(
    min(7200, max(3, int(math.exp(4.3 + NormalDist().inv_cdf((i + 0.5) / 4096))))) for i in range(4096)
)


def _foreign(rng: random.Random, country: str) -> str:
    row = COUNTRIES[country]
    return f"+{row[3]}{row[4]}{rng.randrange(10 ** row[5]):0{row[5]}d}"


def _line_day(
    plan: _LinePlan, prof, rng, seed, ordinal, month, dim, weekend, d0, d1, w0, w1
) -> list[TrafficEvent]:
    """The events of one line on one Paris day, within [w0, w1), in time order, with their record ids."""
    line = plan.line
    starts, lengths, cum = _slots(d0, d1, w0, w1)
    if not cum:
        return []
    frac = cum[-1] / _slots(d0, d1, d0, d1)[2][-1]
    n_slots = range(len(starts))
    rand = rng.random
    trip = plan.trips.get(ordinal)
    abroad = trip is not None
    here = trip.country if abroad else "FRA"
    network, msisdn = plan.network, plan.msisdn
    Ev = TrafficEvent
    durations = _DURATIONS
    pairs: list[tuple[int, TrafficEvent]] = []  # (timestamp, event without its time and id yet)
    append = pairs.append

    # --- calls, SMS, MMS ---
    if plan.rate:
        n = _poisson(rng, plan.rate * frac * (prof.weekend_voice if weekend else 1.0))
        if n:
            kinds = rng.choices(plan.kinds, cum_weights=plan.kinds_cum, k=n)
            hours = rng.choices(n_slots, cum_weights=cum, k=n)
            book: dict[int, str] = {}
            base = plan.contacts

            def contact(index: int) -> str:  # a few usual correspondents, called often
                number = book.get(index)
                if number is None:
                    number = book[index] = _contact(base, index)
                return number

            for kind, h in zip(kinds, hours, strict=True):
                ts = starts[h] + int(rand() * lengths[h])
                if kind == K_SMS_OUT or kind == K_SMS_IN:
                    party = contact(int(rand() * rand() * 40))  # a few usual correspondents
                    ev = Ev(network, msisdn, None, SMS, OUT if kind == K_SMS_OUT else IN, here, party, "FRA")
                elif kind == K_VOICE_OUT or kind == K_VOICE_IN:
                    party = contact(int(rand() * rand() * 40))
                    duration = durations[int(rand() * 4096)]
                    direction = OUT if kind == K_VOICE_OUT else IN
                    ev = Ev(network, msisdn, None, VOICE, direction, here, party, "FRA", duration)
                elif kind == K_VOICE_Z1 or kind == K_VOICE_OTHER:
                    if abroad:  # a local call
                        dest = here
                    else:
                        pool = ZONE1_DESTINATIONS if kind == K_VOICE_Z1 else OTHER_DESTINATIONS
                        dest = pool[int(rand() * len(pool))]
                    duration = durations[int(rand() * 4096)]
                    ev = Ev(network, msisdn, None, VOICE, OUT, here, _foreign(rng, dest), dest, duration)
                elif kind == K_VOICE_SVA:
                    if abroad:
                        continue
                    prefix, per_minute = PREMIUM_NUMBERS[int(rand() * len(PREMIUM_NUMBERS))]
                    duration = 20 + int(rand() * 400)
                    number = f"{prefix}{rng.randrange(10**6):06d}"
                    fee = per_minute * (-(-duration // 60))  # per started minute
                    ev = Ev(network, msisdn, None, VOICE, OUT, here, number, "FRA", duration, 0, True, fee)
                elif kind == K_SMS_INTL:
                    if abroad:
                        dest = here
                    else:
                        pool = ZONE1_DESTINATIONS if rand() < 0.7 else OTHER_DESTINATIONS
                        dest = pool[int(rand() * len(pool))]
                    ev = Ev(network, msisdn, None, SMS, OUT, here, _foreign(rng, dest), dest)
                else:  # MMS
                    party = contact(int(rand() * rand() * 40))
                    ev = Ev(network, msisdn, None, MMS, OUT if kind == K_MMS_OUT else IN, here, party, "FRA")
                append((ts, ev))
    for i in range(plan.calls.get(ordinal, 0)):  # international calls asked for (out of plan)
        h = rng.choices(n_slots, cum_weights=cum)[0]
        ts = starts[h] + int(rand() * lengths[h])
        dest = OUT_OF_PLAN_DESTINATIONS[(ordinal + i) % len(OUT_OF_PLAN_DESTINATIONS)]
        duration = 60 + int(rand() * 840)
        append((ts, Ev(network, msisdn, None, VOICE, OUT, "FRA", _foreign(rng, dest), dest, duration)))

    # --- data ---
    if ordinal in plan.targets:
        volume = plan.targets[ordinal]
    elif plan.targets or (abroad and trip.zone != ZONE1):
        volume = 0  # a target line outside its planned days, or abroad outside Europe
    else:
        volume = int(_monthly_data(line, prof, _unit(seed, line.key, month, 9)) / dim * frac * (0.5 + rand()))
        if weekend:
            volume = int(volume * prof.weekend_data)
    if abroad:
        volume += trip.data
    if volume > 0:
        sessions = 24 if line.range == "m2m" else prof.data_sessions
        parts = _split(rng, volume, 1 + _poisson(rng, sessions * frac), KB if plan.orange else 1)
        hours = rng.choices(n_slots, cum_weights=cum, k=len(parts))
        for part, h in zip(parts, hours, strict=True):
            ts = starts[h] + int(rand() * lengths[h])
            append((ts, Ev(network, msisdn, None, DATA, OUT, here, "", "", 0, part)))

    if not pairs:
        return []
    pairs.sort(key=_first)
    from_ts, hour_info = datetime.fromtimestamp, _hour
    last_h, last_key, n = -1, "", 0
    if plan.orange:  # OR-<Paris hour>-<line slot><n>: n counts per Paris hour (a DST night has one 02 hour)
        slot = plan.slot_o
        for ts, ev in pairs:
            h = ts // 3600
            if h != last_h:
                last_h = h
                key = hour_info(h)[0]
                if key != last_key:
                    last_key, n, prefix = key, 0, f"OR-{key}-{slot:05d}"
            n += 1
            ev.event_at = from_ts(ts, UTC)
            ev.record_id = f"{prefix}{n % 1000:03d}"
    else:  # <UTC hour><line slot><n>, 20 digits
        slot = plan.slot_b
        for ts, ev in pairs:
            h = ts // 3600
            if h != last_h:
                last_h, n, prefix = h, 0, f"{hour_info(h)[4]}{slot:07d}"
            n += 1
            ev.event_at = from_ts(ts, UTC)
            ev.record_id = f"{prefix}{n % 1000:03d}"
    return [ev for _, ev in pairs]


def _first(pair: tuple) -> int:
    return pair[0]
