"""Operator CDR files: the simulators deliver usage the way Orange and Bouygues Telecom would (issue 7).

Each operator drops **one file per hour per network** into a folder (``settings.CDR_DROP_DIR``) in its own
format, exactly as ``usage/FORMATS.md`` describes it: Orange ``ORANGE_CDR_<YYYYMMDDHH>.csv`` (``;``, Paris local
time, alpha-3 countries, international numbers without ``+``, kilobytes, decimal comma), Bouygues
``BYT_<YYYYMMDD>_<HH>_CDR.txt`` (``|``, UTC, MCCs, E.164 numbers with ``+`` abroad, bytes, decimal point). A file
is written as ``.<name>.part`` and renamed when complete (``os.replace``), so a reader never sees half a file.

- ``write_feeds(events, drop_dir)``: groups a stream by network and hour and writes the files;
  ``write_orange_file`` / ``write_bouygues_file`` write one hour. ``bad_lines`` injects faulty records (tests).

Orange writes Paris local time without an offset: on the autumn night the hour 02:00–03:00 happens twice and both
go to the one file ``ORANGE_CDR_<day>02.csv`` with the same local times (distinct ids) — the format cannot tell
them apart; Bouygues (UTC) can.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path

from .events import (
    BOUYGUES,
    DATA,
    MCC,
    MMS,
    ORANGE,
    OUT,
    PARIS,
    SMS,
    VOICE,
    ZERO,
    TrafficEvent,
    _now,
)

# --------------------------------------------------------------------------------------------------------------
# Hours, names, formats
# --------------------------------------------------------------------------------------------------------------

ORANGE_HEADER = (
    "ID_TICKET;MSISDN;DATE_HEURE;TYPE;SENS;PAYS_ORIGINE;NUMERO_CORRESPONDANT;PAYS_DESTINATION;DUREE_S;"
    "VOLUME_KO;SVA;SVA_MONTANT_HT"
)
BOUYGUES_HEADER = (
    "record_id|event_time_utc|subscriber|service|direction|mcc_visited|other_party|mcc_other|units|unit_type|"
    "premium_class|premium_fee_eur"
)
HEADERS = {ORANGE: ORANGE_HEADER, BOUYGUES: BOUYGUES_HEADER}
SEPARATORS = {ORANGE: ";", BOUYGUES: "|"}
ORANGE_TYPES = {VOICE: "VOIX", SMS: "SMS", MMS: "MMS", DATA: "DATA"}
BOUYGUES_SERVICES = {VOICE: "VOICE", SMS: "SMS", MMS: "MMS", DATA: "GPRS"}
BOUYGUES_UNITS = {VOICE: "SEC", SMS: "EVT", MMS: "EVT", DATA: "BYTE"}

_HOURS: dict[int, tuple[str, str, str, str, str]] = {}


def _hour(h: int) -> tuple[str, str, str, str, str]:
    """UTC hour number (seconds since the epoch // 3600) → (Orange hour key ``YYYYMMDDHH`` in Paris time, Orange
    date prefix ``YYYY-MM-DD HH:`` in Paris time, Bouygues name part ``YYYYMMDD_HH`` in UTC, Bouygues date prefix
    ``YYYY-MM-DDTHH:``, UTC key ``YYYYMMDDHH``). Paris is a whole number of hours from UTC, so minutes and
    seconds are the same in both."""
    info = _HOURS.get(h)
    if info is None:
        utc = datetime.fromtimestamp(h * 3600, UTC)
        paris = utc.astimezone(PARIS)
        info = (
            paris.strftime("%Y%m%d%H"),
            paris.strftime("%Y-%m-%d %H:"),
            utc.strftime("%Y%m%d_%H"),
            utc.strftime("%Y-%m-%dT%H:"),
            utc.strftime("%Y%m%d%H"),
        )
        _HOURS[h] = info
    return info


def _hour_of(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("Date sans fuseau horaire : une date « aware » est attendue.")
    return int(at.timestamp()) // 3600


def orange_file_name(at: datetime) -> str:
    """``ORANGE_CDR_<YYYYMMDDHH>.csv``, the hour in Europe/Paris."""
    return f"ORANGE_CDR_{_hour(_hour_of(at))[0]}.csv"


def bouygues_file_name(at: datetime) -> str:
    """``BYT_<YYYYMMDD>_<HH>_CDR.txt``, the hour in UTC."""
    return f"BYT_{_hour(_hour_of(at))[2]}_CDR.txt"


def file_name(network: str, at: datetime) -> str:
    return orange_file_name(at) if network == ORANGE else bouygues_file_name(at)


def _orange_line(ev: TrafficEvent, ts: int, seq: int) -> str:
    """Numbers go international without ``+``: ``0612345678`` → ``33612345678``, ``+34911…`` → ``34911…``."""
    info = _HOURS.get(ts // 3600) or _hour(ts // 3600)
    minute, second = divmod(ts % 3600, 60)
    rid = ev.record_id or f"OR-{info[0]}-{seq:08d}"
    msisdn = ev.msisdn
    msisdn = "33" + msisdn[1:] if msisdn[:1] == "0" else msisdn
    if ev.service == DATA:
        kilobytes = -(-ev.volume_bytes // 1000)  # whole Ko, rounded up (1 Ko = 1,000 bytes)
        return (
            f"{rid};{msisdn};{info[1]}{minute:02d}:{second:02d};DATA;S;{ev.country};;;;{kilobytes};0;0,00\n"
        )
    duration = ev.duration_s if ev.service == VOICE else ""
    if ev.premium:
        fee = f"{ev.premium_fee_ht:.2f}".replace(".", ",")
        sva = "1"
    else:
        fee, sva = "0,00", "0"
    other = ev.other_party
    other = other[1:] if other[:1] == "+" else "33" + other[1:] if other[:1] == "0" else other
    return (
        f"{rid};{msisdn};{info[1]}{minute:02d}:{second:02d};{ORANGE_TYPES[ev.service]};"
        f"{'S' if ev.direction == OUT else 'E'};{ev.country};{other};{ev.other_country};{duration};;{sva};{fee}\n"
    )


def _bouygues_line(ev: TrafficEvent, ts: int, seq: int) -> str:
    info = _HOURS.get(ts // 3600) or _hour(ts // 3600)
    minute, second = divmod(ts % 3600, 60)
    rid = ev.record_id or f"{info[4]}{seq:010d}"
    if ev.service == DATA:
        return (
            f"{rid}|{info[3]}{minute:02d}:{second:02d}Z|{ev.msisdn}|GPRS|MO|{MCC[ev.country]}|||"
            f"{ev.volume_bytes}|BYTE||\n"
        )
    if ev.premium:
        premium = "SVA_PAID" if ev.premium_fee_ht > 0 else "SVA_FREE"
        fee = f"{ev.premium_fee_ht:.2f}"
    else:
        premium = fee = ""
    units = ev.duration_s if ev.service == VOICE else 1
    return (
        f"{rid}|{info[3]}{minute:02d}:{second:02d}Z|{ev.msisdn}|{BOUYGUES_SERVICES[ev.service]}|"
        f"{'MO' if ev.direction == OUT else 'MT'}|{MCC[ev.country]}|{ev.other_party}|"
        f"{MCC[ev.other_country] if ev.other_country else ''}|{units}|{BOUYGUES_UNITS[ev.service]}|"
        f"{premium}|{fee}\n"
    )


_LINE_FORMATS = {ORANGE: _orange_line, BOUYGUES: _bouygues_line}


def orange_record(ev: TrafficEvent, seq: int = 1) -> str:
    """One Orange line (without its ``\\n``); ``seq`` numbers it when the event has no ``record_id``."""
    return _orange_line(ev, int(ev.event_at.timestamp()), seq)[:-1]


def bouygues_record(ev: TrafficEvent, seq: int = 1) -> str:
    """One Bouygues line (without its ``\\n``)."""
    return _bouygues_line(ev, int(ev.event_at.timestamp()), seq)[:-1]


# --------------------------------------------------------------------------------------------------------------
# Faulty records (tests of the platform's quarantine, usage/FORMATS.md "What makes a record bad")
# --------------------------------------------------------------------------------------------------------------

BAD_KINDS = ("truncated", "encoding", "negative", "future", "unknown_number", "extra_column")
#: A well-formed mobile number no line ever holds (0639 is not allocated, ID-MSISDN).
UNKNOWN_MSISDN = "0639999999"
#: Record-id slot kept for faulty records: line keys map to 0…99998 (Orange) / 0…9999998 (Bouygues).
_ORANGE_SLOTS, _BOUYGUES_SLOTS = 99_999, 9_999_999


def _bad_plan(bad_lines: int | Sequence[str]) -> list[str]:
    if isinstance(bad_lines, int):
        return [BAD_KINDS[i % len(BAD_KINDS)] for i in range(max(0, bad_lines))]
    unknown = [k for k in bad_lines if k not in BAD_KINDS]
    if unknown:
        raise ValueError(
            f"Type de ligne invalide inconnu : {', '.join(unknown)} (attendus : {', '.join(BAD_KINDS)})."
        )
    return list(bad_lines)


def _bad_line(network: str, kind: str, template: TrafficEvent, n: int, now: datetime) -> bytes:
    """One faulty record made from ``template`` (a record of the same file), bad for exactly one reason."""
    h = _hour_of(template.event_at)
    info = _hour(h)
    rid = (
        f"OR-{info[0]}-{_ORANGE_SLOTS:05d}{n % 1000:03d}"
        if network == ORANGE
        else f"{info[4]}{_BOUYGUES_SLOTS:07d}{n % 1000:03d}"
    )
    ev = dataclasses.replace(template, record_id=rid)
    if kind == "negative":
        ev = dataclasses.replace(
            ev,
            service=DATA,
            direction=OUT,
            other_party="",
            other_country="",
            duration_s=0,
            volume_bytes=-1_500_000,
            premium=False,
            premium_fee_ht=ZERO,
        )
    elif kind == "future":
        ev = dataclasses.replace(ev, event_at=max(now, ev.event_at).astimezone(UTC) + timedelta(days=2))
    elif kind == "unknown_number":
        ev = dataclasses.replace(ev, msisdn=UNKNOWN_MSISDN)
    line = _LINE_FORMATS[network](ev, int(ev.event_at.timestamp()), 0)[:-1]
    sep = SEPARATORS[network]
    if kind == "truncated":
        line = sep.join(line.split(sep)[:6])
    elif kind == "extra_column":
        line = f"{line}{sep}EXTRA"
    raw = line.encode()
    if kind == "encoding":  # Latin-1 « é » inside the first field: not UTF-8
        raw = raw.replace(sep.encode(), b"\xe9" + sep.encode(), 1)
    return raw + b"\n"


# --------------------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------------------


class WrittenFeeds(list):
    """The paths ``write_feeds`` published (a ``list[Path]``), with ``records`` (good records written) and ``bad``
    (faulty records injected)."""

    records: int = 0
    bad: int = 0


class _FeedFile:
    """One hour file being written: ``.<name>.part`` (lines buffered, written in blocks) then published by
    ``os.replace``. ``template``: its first record, the model of the faulty records added to it."""

    __slots__ = ("network", "name", "final", "part", "fh", "buf", "template", "seq", "merge")

    def __init__(
        self, network: str, name: str, drop_dir: Path, template: TrafficEvent, *, merge: bool, seq: int = 0
    ):
        self.network = network
        self.name = name
        self.final = drop_dir / name
        self.part = drop_dir / f".{name}.part"
        self.fh = open(self.part, "wb")  # noqa: SIM115 — closed in publish() or discard()
        self.buf: list[str] = [HEADERS[network] + "\n"]
        self.template = template
        self.seq = seq
        self.merge = merge

    def flush(self) -> None:
        self.fh.write("".join(self.buf).encode())
        self.buf.clear()

    def add_bad(self, kinds: list[str], now: datetime) -> int:
        self.flush()
        for n, kind in enumerate(kinds):
            self.fh.write(_bad_line(self.network, kind, self.template, n, now))
        return len(kinds)

    def publish(self) -> Path:
        self.flush()
        self.fh.close()
        if self.merge and self.final.exists():
            _merge_into(self.part, self.final, SEPARATORS[self.network].encode())
        else:
            os.replace(self.part, self.final)
        return self.final

    def discard(self) -> None:
        self.fh.close()
        self.part.unlink(missing_ok=True)


def _merge_into(part: Path, final: Path, sep: bytes) -> None:
    """The file of that hour is already there (an earlier run, not yet taken or kept by the platform): publish
    its records plus those of ``part`` it lacks (by record id), as an operator re-delivering a completed file
    would. Nothing new: the file is left as it is (same content, same checksum)."""
    old = final.read_bytes().split(b"\n")
    new = part.read_bytes().split(b"\n")
    if old[0] != new[0]:  # not a file of ours: replace it
        os.replace(part, final)
        return
    known = {line.split(sep, 1)[0] for line in old[1:] if line}
    extra = [line for line in new[1:] if line and line.split(sep, 1)[0] not in known]
    if not extra:
        part.unlink()
        return
    part.write_bytes(b"\n".join([old[0], *(line for line in old[1:] if line), *extra]) + b"\n")
    os.replace(part, final)


def _write_hour(
    network: str,
    events: Iterable[TrafficEvent],
    hour: datetime,
    drop_dir: str | Path,
    *,
    bad_lines: int | Sequence[str],
    merge: bool,
    now: datetime | None,
) -> Path:
    drop = Path(drop_dir)
    drop.mkdir(parents=True, exist_ok=True)
    name = file_name(network, hour)
    fmt = _LINE_FORMATS[network]
    bad = _bad_plan(bad_lines)
    f: _FeedFile | None = None
    try:
        for ev in events:
            if ev.network != network or file_name(network, ev.event_at) != name:
                raise ValueError(
                    f"L'enregistrement du {ev.event_at.isoformat()} ({ev.network}) n'est pas de {name}."
                )
            if f is None:
                f = _FeedFile(network, name, drop, ev, merge=merge)
            f.seq += 1
            f.buf.append(fmt(ev, int(ev.event_at.timestamp()), f.seq))
        if f is None:  # an hour without traffic: the header alone
            empty = TrafficEvent(network, "", hour, DATA, OUT, "FRA")
            f = _FeedFile(network, name, drop, empty, merge=merge)
        elif bad:
            f.add_bad(bad, now or _now())
    except BaseException:
        if f is not None:
            f.discard()
        raise
    return f.publish()


def write_orange_file(
    events: Iterable[TrafficEvent],
    hour: datetime,
    drop_dir: str | Path,
    *,
    bad_lines: int | Sequence[str] = 0,
    merge: bool = False,
    now: datetime | None = None,
) -> Path:
    """Writes the Orange file of ``hour`` (any aware instant within it; the Paris hour names the file) with
    ``events`` (all of that file). Replaces a file of the same name unless ``merge``."""
    return _write_hour(ORANGE, events, hour, drop_dir, bad_lines=bad_lines, merge=merge, now=now)


def write_bouygues_file(
    events: Iterable[TrafficEvent],
    hour: datetime,
    drop_dir: str | Path,
    *,
    bad_lines: int | Sequence[str] = 0,
    merge: bool = False,
    now: datetime | None = None,
) -> Path:
    """Writes the Bouygues file of ``hour`` (the UTC hour names the file) with ``events``."""
    return _write_hour(BOUYGUES, events, hour, drop_dir, bad_lines=bad_lines, merge=merge, now=now)


#: A file stays open until the stream is this many hours past it (``generate_traffic`` yields Paris day by day:
#: a day has at most 25 hours), then it is published.
_OPEN_HOURS = 26


def write_feeds(
    events: Iterable[TrafficEvent],
    drop_dir: str | Path,
    *,
    bad_lines: int | Sequence[str] = 0,
    merge: bool = True,
    now: datetime | None = None,
) -> WrittenFeeds:
    """Writes ``events`` as operator files, one per network and hour, into ``drop_dir``; returns the paths.

    Streams: a file is published as soon as the stream is ``_OPEN_HOURS`` past its hour, so a month of traffic
    for 10,000 lines keeps about 27 files open per network and holds no record in memory. A list or tuple is sorted
    first; an iterator in another order still works (a late record reopens its hour, merged on publication).
    ``merge``: a file of the same name already in ``drop_dir`` keeps its records and gains the missing ones
    (by record id) — a second run over the same hours adds to the files instead of losing what they held.
    ``bad_lines``: a number of faulty records (cycling through ``BAD_KINDS``) or a list of kinds, one per file
    from the first file on, the rest in the last file; each is an extra record (the good ones are all there)."""
    drop = Path(drop_dir)
    drop.mkdir(parents=True, exist_ok=True)
    if isinstance(events, list | tuple):
        events = sorted(events, key=attrgetter("event_at"))
    bad = _bad_plan(bad_lines)
    now = now or _now()
    written = WrittenFeeds()
    seen: dict[Path, None] = {}
    files: dict[str, _FeedFile] = {}  # file name → open file
    hours: dict[str, dict[int, _FeedFile]] = {ORANGE: {}, BOUYGUES: {}}  # network → UTC hour → open file
    published_seq: dict[str, int] = {}
    top = -1
    records = 0
    orange_fmt, bouygues_fmt = _orange_line, _bouygues_line

    def publish(f: _FeedFile, last: bool = False) -> None:
        nonlocal bad
        take = bad if last else bad[:1]
        if take:
            written.bad += f.add_bad(take, now)
            bad = bad[len(take) :]
        published_seq[f.name] = f.seq
        seen[f.publish()] = None

    def publish_stale() -> None:
        newest: dict[str, int] = {}
        for by_hour in hours.values():
            for hour, f in by_hour.items():
                newest[f.name] = max(newest.get(f.name, -1), hour)
        for name, hour in newest.items():
            if hour < top - _OPEN_HOURS:
                f = files.pop(name)
                by_hour = hours[f.network]
                for gone in [k for k, o in by_hour.items() if o is f]:
                    del by_hour[gone]
                publish(f)

    try:
        for ev in events:
            ts = int(ev.event_at.timestamp())
            h = ts // 3600
            network = ev.network
            by_hour = hours.get(network)
            if by_hour is None:
                raise ValueError(f"Réseau inconnu : {network!r}.")
            f = by_hour.get(h)
            if f is None:
                name = f"ORANGE_CDR_{_hour(h)[0]}.csv" if network == ORANGE else f"BYT_{_hour(h)[2]}_CDR.txt"
                f = files.get(name)
                if f is None:  # a late record for a published hour reopens it, merged on publication
                    reopened = name in published_seq
                    f = _FeedFile(
                        network, name, drop, ev, merge=merge or reopened, seq=published_seq.get(name, 0)
                    )
                    files[name] = f
                by_hour[h] = f
            f.seq += 1
            buf = f.buf
            buf.append(orange_fmt(ev, ts, f.seq) if network == ORANGE else bouygues_fmt(ev, ts, f.seq))
            if len(buf) >= 4096:
                f.flush()
            records += 1
            if h > top:
                top = h
                if len(files) > 2 * (_OPEN_HOURS + 1):
                    publish_stale()
        remaining = list(files.values())
        files.clear()
        for i, f in enumerate(remaining):
            publish(f, last=i == len(remaining) - 1)
    except BaseException:
        for f in files.values():
            f.discard()
        raise
    written.extend(seen)
    written.records = records
    return written
