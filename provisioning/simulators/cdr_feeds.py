"""Operator CDR feeds: the simulators deliver usage the way Orange and Bouygues Telecom would (issue 7).

Each operator drops **one file per hour per network** into a folder (``settings.CDR_DROP_DIR``) in its own
format, exactly as ``usage/FORMATS.md`` describes it: Orange ``ORANGE_CDR_<YYYYMMDDHH>.csv`` (``;``, Paris local
time, alpha-3 countries, international numbers without ``+``, kilobytes, decimal comma), Bouygues
``BYT_<YYYYMMDD>_<HH>_CDR.txt`` (``|``, UTC, MCCs, E.164 numbers with ``+`` abroad, bytes, decimal point). A file
is written as ``.<name>.part`` and renamed when complete (``os.replace``), so a reader never sees half a file.
The platform (``usage``) reads the files; it never imports this module, which keeps its own country tables.

- ``TrafficEvent``: one usage record, network-neutral (national numbers, alpha-3 countries, bytes, seconds).
- ``generate_traffic(lines, start, end, seed=…)``: realistic, deterministic traffic for lines within their live
  period, as a stream (bounded memory: one line-day at a time), in Europe/Paris day order.
- ``write_feeds(events, drop_dir)``: groups a stream by network and hour and writes the files;
  ``write_orange_file`` / ``write_bouygues_file`` write one hour. ``bad_lines`` injects faulty records (tests).

Determinism: every line-day draws from its own ``random.Random`` seeded by (seed, line key, day), so a line's
traffic on a day does not depend on the other lines chosen nor on the period asked. Record ids come from the line
key (the contract id), the hour and a per-line counter: the same generation rewrites the same records, which is how
an operator re-delivers a file (the platform takes a record once). The seed is not part of the id: another seed
over the same lines and hours gives other records under the same ids (the platform keeps the first); ids stay
unique while line keys differ modulo 99,999 (Orange has 8 digits per hour: 5 for the line, 3 for the counter).

Orange writes Paris local time without an offset: on the autumn night the hour 02:00–03:00 happens twice and both
go to the one file ``ORANGE_CDR_<day>02.csv`` with the same local times (distinct ids) — the format cannot tell
them apart; Bouygues (UTC) can.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
ORANGE = "orange"
BOUYGUES = "bouygues"
NETWORKS = (ORANGE, BOUYGUES)

VOICE, SMS, MMS, DATA = "voice", "sms", "mms", "data"
OUT, IN = "out", "in"
SERVICES = (VOICE, SMS, MMS, DATA)

ZERO = Decimal("0.00")
KB, MB, GB = 10**3, 10**6, 10**9

# --------------------------------------------------------------------------------------------------------------
# Countries (for writing files only; the platform has its own table, usage/rules.py COUNTRY_ZONES)
# --------------------------------------------------------------------------------------------------------------

FRANCE, ZONE1, USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE = (
    "france",
    "zone1",
    "usa_canada",
    "maghreb_turquie",
    "reste_du_monde",
)
ZONES = (FRANCE, ZONE1, USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE)
#: Names accepted for a zone (``roaming=``): the catalog's roaming zones and the R-ROA-1 ones.
ZONE_ALIASES = {
    "europe": ZONE1,
    "zone1": ZONE1,
    "usa_canada": USA_CANADA,
    "maghreb_turquie": MAGHREB_TURQUIE,
    "reste_du_monde": RESTE_DU_MONDE,
    "monde": RESTE_DU_MONDE,
}

#: alpha-3 → (alpha-2, MCC, R-ROA-1 zone, country calling code, mobile prefix, digits after the prefix).
COUNTRIES: dict[str, tuple[str, str, str, str, str, int]] = {
    "FRA": ("FR", "208", FRANCE, "33", "6", 8),
    # zone 1 / 1B: EU/EEA and the DROM
    "ESP": ("ES", "214", ZONE1, "34", "6", 8),
    "ITA": ("IT", "222", ZONE1, "39", "3", 9),
    "DEU": ("DE", "262", ZONE1, "49", "15", 9),
    "BEL": ("BE", "206", ZONE1, "32", "4", 8),
    "NLD": ("NL", "204", ZONE1, "31", "6", 8),
    "PRT": ("PT", "268", ZONE1, "351", "9", 8),
    "IRL": ("IE", "272", ZONE1, "353", "8", 8),
    "AUT": ("AT", "232", ZONE1, "43", "6", 9),
    "POL": ("PL", "260", ZONE1, "48", "5", 8),
    "GRC": ("GR", "202", ZONE1, "30", "69", 8),
    "SWE": ("SE", "240", ZONE1, "46", "7", 8),
    "DNK": ("DK", "238", ZONE1, "45", "2", 7),
    "FIN": ("FI", "244", ZONE1, "358", "4", 8),
    "NOR": ("NO", "242", ZONE1, "47", "4", 7),
    "ISL": ("IS", "274", ZONE1, "354", "6", 6),
    "LUX": ("LU", "270", ZONE1, "352", "6", 8),
    "CZE": ("CZ", "230", ZONE1, "420", "6", 8),
    "ROU": ("RO", "226", ZONE1, "40", "7", 8),
    "HUN": ("HU", "216", ZONE1, "36", "20", 7),
    "HRV": ("HR", "219", ZONE1, "385", "9", 8),
    "BGR": ("BG", "284", ZONE1, "359", "8", 8),
    "SVK": ("SK", "231", ZONE1, "421", "9", 8),
    "SVN": ("SI", "293", ZONE1, "386", "4", 7),
    "EST": ("EE", "248", ZONE1, "372", "5", 7),
    "LVA": ("LV", "247", ZONE1, "371", "2", 7),
    "LTU": ("LT", "246", ZONE1, "370", "6", 7),
    "MLT": ("MT", "278", ZONE1, "356", "79", 6),
    "CYP": ("CY", "280", ZONE1, "357", "9", 7),
    "LIE": ("LI", "295", ZONE1, "423", "7", 6),
    "GLP": ("GP", "340", ZONE1, "590", "690", 6),
    "MTQ": ("MQ", "340", ZONE1, "596", "696", 6),
    "REU": ("RE", "647", ZONE1, "262", "692", 6),
    "GUF": ("GF", "742", ZONE1, "594", "694", 6),
    # USA/Canada
    "USA": ("US", "310", USA_CANADA, "1", "212", 7),
    "CAN": ("CA", "302", USA_CANADA, "1", "416", 7),
    # Maghreb/Turquie
    "MAR": ("MA", "604", MAGHREB_TURQUIE, "212", "6", 8),
    "DZA": ("DZ", "603", MAGHREB_TURQUIE, "213", "5", 8),
    "TUN": ("TN", "605", MAGHREB_TURQUIE, "216", "2", 7),
    "TUR": ("TR", "286", MAGHREB_TURQUIE, "90", "5", 9),
    # Reste du monde (Switzerland and Andorra are not in the EEA, R-OPT-7)
    "CHE": ("CH", "228", RESTE_DU_MONDE, "41", "7", 8),
    "AND": ("AD", "213", RESTE_DU_MONDE, "376", "3", 5),
    "GBR": ("GB", "234", RESTE_DU_MONDE, "44", "7", 9),
    "JPN": ("JP", "440", RESTE_DU_MONDE, "81", "90", 8),
    "CHN": ("CN", "460", RESTE_DU_MONDE, "86", "13", 9),
    "BRA": ("BR", "724", RESTE_DU_MONDE, "55", "119", 8),
    "AUS": ("AU", "505", RESTE_DU_MONDE, "61", "4", 8),
    "ZAF": ("ZA", "655", RESTE_DU_MONDE, "27", "8", 8),
    "THA": ("TH", "520", RESTE_DU_MONDE, "66", "8", 8),
    "IND": ("IN", "404", RESTE_DU_MONDE, "91", "9", 9),
}
ALPHA2 = {alpha3: row[0] for alpha3, row in COUNTRIES.items()}
ALPHA3 = {row[0]: alpha3 for alpha3, row in COUNTRIES.items()}
MCC = {alpha3: row[1] for alpha3, row in COUNTRIES.items()}
COUNTRY_ZONE = {alpha3: row[2] for alpha3, row in COUNTRIES.items()}

#: Where lines travel, per zone (the first is where an explicit ``roaming=`` trip goes).
TRIP_COUNTRIES = {
    ZONE1: ("ESP", "ITA", "DEU", "BEL", "PRT", "NLD", "GRC", "AUT", "IRL", "HRV", "GLP", "REU"),
    USA_CANADA: ("USA", "USA", "CAN"),
    MAGHREB_TURQUIE: ("MAR", "TUN", "TUR", "DZA"),
    RESTE_DU_MONDE: ("JPN", "CHE", "GBR", "THA", "BRA", "CHN", "AUS", "ZAF", "IND", "AND"),
}
#: Destinations of international calls from France (R-ROA-1: zone 1 included, the others metered).
ZONE1_DESTINATIONS = ("ESP", "ITA", "DEU", "BEL", "PRT", "NLD", "POL", "ROU", "GLP", "MTQ", "REU", "GUF")
OTHER_DESTINATIONS = ("GBR", "CHE", "USA", "MAR", "DZA", "TUN", "TUR", "JPN", "CHN", "CAN", "IND", "BRA")
#: International calls asked explicitly (``international=``): out of plan from France (R-ROA-1).
OUT_OF_PLAN_DESTINATIONS = ("JPN", "GBR", "CHE", "USA", "CHN", "MAR")

# --------------------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TrafficEvent:
    """One usage record as the operator saw it, network-neutral (the writers turn it into each format).

    ``msisdn``: the line, national (``06…``/``07…`` or the 14-digit ``0700…``). ``country``: where the line was,
    alpha-3 (``FRA``, ``ESP``…: ``COUNTRIES``). ``other_party``: national French (``06…``, premium ``089x…``/
    ``081…``) or foreign E.164 (``+34…``), empty for data; ``other_country`` its alpha-3. ``duration_s`` for
    voice, ``volume_bytes`` for data; SMS/MMS count one event. ``premium`` marks a premium-rate (SVA) call and
    ``premium_fee_ht`` its surcharge HT (0 = premium, not billable). ``record_id`` is the operator's id, written
    as is (empty: the writer numbers the records of the file)."""

    network: str
    msisdn: str
    event_at: datetime
    service: str
    direction: str
    country: str
    other_party: str = ""
    other_country: str = ""
    duration_s: int = 0
    volume_bytes: int = 0
    premium: bool = False
    premium_fee_ht: Decimal = ZERO
    record_id: str = ""


@dataclass(frozen=True, slots=True)
class TrafficLine:
    """What the generator needs of a line (``TrafficLine.of(contract)``; a benchmark may build them directly).

    ``key``: the contract id (seeds, record ids). ``range``: the offer's range (``illimite``, ``travel``,
    ``data_only``, ``m2m``, ``compteur``, ``compteur_data``); ``data_bytes`` its France + Europe envelope.
    The live period is [``live_from``, ``live_until``)."""

    key: int
    network: str
    msisdn: str
    range: str
    data_bytes: int | None
    live_from: datetime
    live_until: datetime | None = None
    allow_sva: bool = True
    number: str = ""

    @classmethod
    def of(cls, contract: Any) -> TrafficLine:
        """From a ``contracts.Contract`` (with its offer) or anything shaped like a ``TrafficLine``."""
        if isinstance(contract, TrafficLine):
            return contract
        if contract.msisdn is None or contract.delivered_at is None:
            raise ValueError(
                f"La ligne {contract.number} n'est pas livrée (numéro ou date de livraison absent)."
            )
        until = contract.terminated_at
        state = str(getattr(contract, "state", "") or "")
        if until is None and state in ("suspended", "terminated"):
            until = contract.state_changed_at  # no traffic once suspended (R-CON-5) or terminated
        return cls(
            key=int(contract.pk),
            network=str(contract.network),
            msisdn=contract.msisdn,
            range=str(contract.offer.range),
            data_bytes=contract.offer.data_bytes,
            live_from=contract.delivered_at,
            live_until=until,
            allow_sva=bool(getattr(contract, "allow_sva", True)),
            number=str(getattr(contract, "number", "") or ""),
        )

    @property
    def voice(self) -> bool:
        """Calls, SMS and MMS: Illimité, Travel and Compteur; never Data only, M2M, Compteur Data (R-CAT-5/6/8)."""
        return self.range in VOICE_RANGES

    @property
    def roams(self) -> bool:
        """Roaming outside France: Illimité and Travel (R-ROA-1, R-CAT-4); no roaming on Data only, M2M,
        Compteur Data (R-CAT-5/6/8), and the seed gives Compteur no roaming choice."""
        return self.range in ROAMING_RANGES


VOICE_RANGES = frozenset({"illimite", "travel", "compteur"})
ROAMING_RANGES = frozenset({"illimite", "travel"})


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


# --------------------------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------------------------


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


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


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


def parse_zone(value: str) -> tuple[str, str]:
    """A zone name or an alpha-3 country → (zone, country)."""
    key = value.strip()
    if key.upper() in COUNTRIES:
        country = key.upper()
        if country == "FRA":
            raise ValueError("Itinérance : la France n'est pas une zone d'itinérance.")
        return COUNTRY_ZONE[country], country
    zone = ZONE_ALIASES.get(key.lower())
    if zone is None:
        raise ValueError(
            f"Zone d'itinérance inconnue : {value} (attendues : {', '.join(sorted(ZONE_ALIASES))})."
        )
    return zone, TRIP_COUNTRIES[zone][0]


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
