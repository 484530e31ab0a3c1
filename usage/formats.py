"""The two operator CDR formats (``usage/FORMATS.md``): header, separator, and the check of one line.

A line is checked in Python once, before ``COPY`` — one compiled regular expression for the common case (a
well-formed line), and only for a line that fails it, the field-by-field checks that name the reason
(quarantine). The SQL that converts the fields (``usage.ingestion``) then only meets lines it can cast.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import rules

# Reasons (``CdrQuarantine.Reason`` values).
TRUNCATED, UNKNOWN_COLUMN, BAD_VALUE, NEGATIVE = "truncated", "unknown_column", "bad_value", "negative"

_DATE = r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _real_date(text: str) -> bool:
    """``YYYY-MM-DD…`` (already shaped by the regex) is a real calendar date."""
    y, m, d = int(text[0:4]), int(text[5:7]), int(text[8:10])
    if d <= 28:
        return True
    if m == 2 and d == 29:
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return d <= _DAYS[m]


@dataclass(frozen=True)
class Format:
    network: str
    header: str
    sep: str
    fast: re.Pattern
    #: the first failing check of a line that did not pass ``fast``: (reason, French detail)
    explain: Callable[[list[str]], tuple[str, str]]
    #: the typed columns of a good line (``COLUMNS``), tab-separated, in the platform's units and forms
    emit: Callable[[list[str]], str]

    def read(self, line: str) -> tuple[str | None, str, str]:
        """(the typed columns of a good line, or None; reason; detail of a bad line)."""
        fields = line.split(self.sep)
        m = self.fast.match(line)
        if m is not None and _real_date(m.group("date")):
            return self.emit(fields), "", ""
        reason, detail = self.explain(fields)
        return None, reason, detail


#: The typed columns ``emit`` gives, in order (the temporary table ``_cdr_rec`` of ``usage.ingestion``).
COLUMNS = (
    'record_id text COLLATE "C", msisdn text, event_at timestamptz, service text, '
    "direction text, country text, "
    "usage_zone text, destination text, dest_country text, dest_zone text, quantity bigint, premium boolean, "
    "premium_billable boolean, premium_fee numeric, case_key text"
)
_ZONES = rules.COUNTRY_ZONES
_ALPHA3 = rules.MCC_COUNTRY
_FR_NUMBER = re.compile(r"33[1-9]\d{8}\Z")


# --- Orange -----------------------------------------------------------------------------------------------

_COUNTRY3 = "|".join(sorted(c for c in rules.COUNTRY_ZONES if c.isalpha()))
_ORANGE_FAST = re.compile(
    r"[A-Za-z0-9-]{1,40};33(?:[67]\d{8}|700\d{10});(?P<date>" + _DATE + " " + _TIME + ");"
    r"(?:(?:VOIX;[SE];(?:" + _COUNTRY3 + r");\d{4,15};(?:" + _COUNTRY3 + r");\d{1,9};;[01];\d{1,6},\d{2})"
    r"|(?:(?:SMS|MMS);[SE];(?:" + _COUNTRY3 + r");\d{4,15};(?:" + _COUNTRY3 + r");;;0;\d{1,6},\d{2})"
    r"|(?:DATA;S;(?:" + _COUNTRY3 + r");;;;\d{1,12};0;\d{1,6},\d{2}))\Z"
)
_TS = re.compile(_DATE + "[ T]" + _TIME + r"\Z")


def _fields_count(f: list[str]) -> tuple[str, str] | None:
    if len(f) < 12:
        return TRUNCATED, f"12 champs attendus, {len(f)} reçus"
    if len(f) > 12:
        return UNKNOWN_COLUMN, f"12 champs attendus, {len(f)} reçus"
    return None


def _explain_orange(f: list[str]) -> tuple[str, str]:
    bad = _fields_count(f)
    if bad:
        return bad
    kind = f[3]
    checks = [
        (not re.fullmatch(r"[A-Za-z0-9-]{1,40}", f[0]), BAD_VALUE, "ID_TICKET invalide"),
        (not re.fullmatch(r"33(?:[67]\d{8}|700\d{10})", f[1]), BAD_VALUE, f"MSISDN invalide : {f[1]}"),
        (not _TS.match(f[2]) or not _real_date(f[2]), BAD_VALUE, f"DATE_HEURE invalide : {f[2]}"),
        (kind not in ("VOIX", "SMS", "MMS", "DATA"), BAD_VALUE, f"TYPE inconnu : {kind}"),
        (f[4] not in ("S", "E"), BAD_VALUE, f"SENS inconnu : {f[4]}"),
        (rules.country_zone(f[5]) is None, BAD_VALUE, f"PAYS_ORIGINE inconnu : {f[5]}"),
        (kind != "DATA" and not re.fullmatch(r"\d{4,15}", f[6]), BAD_VALUE, "NUMERO_CORRESPONDANT invalide"),
        (
            kind != "DATA" and rules.country_zone(f[7]) is None,
            BAD_VALUE,
            f"PAYS_DESTINATION inconnu : {f[7]}",
        ),
        (kind == "VOIX" and f[8].startswith("-"), NEGATIVE, f"DUREE_S négative : {f[8]}"),
        (kind == "DATA" and f[9].startswith("-"), NEGATIVE, f"VOLUME_KO négatif : {f[9]}"),
        (kind == "VOIX" and not re.fullmatch(r"\d{1,9}", f[8]), BAD_VALUE, "DUREE_S invalide"),
        (kind == "DATA" and not re.fullmatch(r"\d{1,12}", f[9]), BAD_VALUE, "VOLUME_KO invalide"),
        (
            f[10] not in ("0", "1")
            or not re.fullmatch(r"\d{1,6},\d{2}", f[11])
            or (f[10] == "1" and kind != "VOIX"),
            BAD_VALUE,
            "SVA invalide",
        ),
    ]
    for failed, reason, detail in checks:
        if failed:
            return reason, detail
    return BAD_VALUE, "champs incohérents pour le TYPE " + kind


_ORANGE_SERVICE = {"VOIX": "voice", "SMS": "sms", "MMS": "mms", "DATA": "data"}


def _emit_orange(f: list[str]) -> str:
    """Orange: international numbers → national (``33612…`` → ``0612…``, a foreign one → ``+…``), local
    Paris time (PostgreSQL converts it, DST included), kilobytes → bytes, decimal comma → point."""
    kind = f[3]
    data = kind == "DATA"
    if data:
        destination = dest_country = dest_zone = ""
        quantity = int(f[9]) * 1000
    else:
        other = f[6]
        destination = "0" + other[2:] if _FR_NUMBER.match(other) else "+" + other
        dest_country, dest_zone = f[7], _ZONES[f[7]]
        quantity = int(f[8]) if kind == "VOIX" else 1
    premium = f[10] == "1"
    fee = f[11].replace(",", ".")
    billable = premium and fee.strip("0.") != ""
    service = _ORANGE_SERVICE[kind]
    direction = "in" if f[4] == "E" and not data else "out"
    usage_zone = _ZONES[f[5]]
    return "\t".join(
        (
            f[0],
            "0" + f[1][2:],
            f[2] + " Europe/Paris",
            service,
            direction,
            f[5],
            usage_zone,
            destination,
            dest_country,
            dest_zone,
            str(quantity),
            "t" if premium else "f",
            "t" if billable else "f",
            fee if premium else "0",
            rules.case_key(service, direction, usage_zone, dest_zone, premium, billable),
        )
    )


ORANGE = Format(
    network="orange",
    header=(
        "ID_TICKET;MSISDN;DATE_HEURE;TYPE;SENS;PAYS_ORIGINE;NUMERO_CORRESPONDANT;PAYS_DESTINATION;"
        "DUREE_S;VOLUME_KO;SVA;SVA_MONTANT_HT"
    ),
    sep=";",
    fast=_ORANGE_FAST,
    explain=_explain_orange,
    emit=_emit_orange,
)

# --- Bouygues Telecom -------------------------------------------------------------------------------------

_MCC = "|".join(sorted(c for c in rules.COUNTRY_ZONES if c.isdigit()))
_PARTY = r"(?:\+[1-9]\d{3,14}|0[1-9]\d{8}|\d{4,6})"
_BOUYGUES_FAST = re.compile(
    r"\d{1,20}\|(?P<date>" + _DATE + "T" + _TIME + r")Z\|0(?:[67]\d{8}|700\d{10})\|"
    r"(?:(?:VOICE\|M[OT]\|(?:" + _MCC + r")\|" + _PARTY + r"\|(?:" + _MCC + r")\|\d{1,15}\|SEC\|"
    r"(?:\||SVA_FREE\|(?:\d{1,6}(?:\.\d{1,4})?)?|SVA_PAID\|\d{1,6}(?:\.\d{1,4})?))"
    r"|(?:(?:SMS|MMS)\|M[OT]\|(?:" + _MCC + r")\|" + _PARTY + r"\|(?:" + _MCC + r")\|\d{1,15}\|EVT\|\|)"
    r"|(?:GPRS\|MO\|(?:" + _MCC + r")\|\|\|\d{1,15}\|BYTE\|\|))\Z"
)


def _explain_bouygues(f: list[str]) -> tuple[str, str]:
    bad = _fields_count(f)
    if bad:
        return bad
    service = f[3]
    expected_unit = {"VOICE": "SEC", "GPRS": "BYTE"}.get(service, "EVT")
    checks = [
        (not re.fullmatch(r"\d{1,20}", f[0]), BAD_VALUE, "record_id invalide"),
        (
            not f[1].endswith("Z") or not _TS.match(f[1][:-1]) or not _real_date(f[1]),
            BAD_VALUE,
            f"event_time_utc invalide : {f[1]}",
        ),
        (not re.fullmatch(r"0(?:[67]\d{8}|700\d{10})", f[2]), BAD_VALUE, f"subscriber invalide : {f[2]}"),
        (service not in ("VOICE", "SMS", "MMS", "GPRS"), BAD_VALUE, f"service inconnu : {service}"),
        (f[4] not in ("MO", "MT"), BAD_VALUE, f"direction inconnue : {f[4]}"),
        (rules.country_zone(f[5]) is None, BAD_VALUE, f"mcc_visited inconnu : {f[5]}"),
        (service != "GPRS" and not re.fullmatch(_PARTY, f[6]), BAD_VALUE, "other_party invalide"),
        (service != "GPRS" and rules.country_zone(f[7]) is None, BAD_VALUE, f"mcc_other inconnu : {f[7]}"),
        (f[8].startswith("-"), NEGATIVE, f"units négatif : {f[8]}"),
        (not re.fullmatch(r"\d{1,15}", f[8]), BAD_VALUE, "units invalide"),
        (f[9] != expected_unit, BAD_VALUE, f"unit_type incohérent : {f[9]}"),
        (
            f[10] not in ("", "SVA_FREE", "SVA_PAID")
            or not re.fullmatch(r"(?:\d{1,6}(?:\.\d{1,4})?)?", f[11]),
            BAD_VALUE,
            "premium invalide",
        ),
    ]
    for failed, reason, detail in checks:
        if failed:
            return reason, detail
    return BAD_VALUE, "champs incohérents pour le service " + service


_BOUYGUES_SERVICE = {"VOICE": "voice", "SMS": "sms", "MMS": "mms", "GPRS": "data"}


def _emit_bouygues(f: list[str]) -> str:
    """Bouygues: UTC time, bytes, MCC → ISO alpha-3 country, ``+33…`` → national."""
    service = f[3]
    data = service == "GPRS"
    if data:
        destination = dest_country = dest_zone = ""
    else:
        other = f[6]
        destination = "0" + other[3:] if other.startswith("+33") and len(other) == 12 else other
        dest_country, dest_zone = _ALPHA3[f[7]], _ZONES[f[7]]
    premium = f[10] != "" and service == "VOICE"
    billable = premium and f[10] == "SVA_PAID"
    kind = _BOUYGUES_SERVICE[service]
    direction = "in" if f[4] == "MT" and not data else "out"
    usage_zone = _ZONES[f[5]]
    return "\t".join(
        (
            f[0],
            f[2],
            f[1],
            kind,
            direction,
            _ALPHA3[f[5]],
            usage_zone,
            destination,
            dest_country,
            dest_zone,
            "1" if service in ("SMS", "MMS") else f[8],
            "t" if premium else "f",
            "t" if billable else "f",
            f[11] if billable and f[11] else "0",
            rules.case_key(kind, direction, usage_zone, dest_zone, premium, billable),
        )
    )


BOUYGUES = Format(
    network="bouygues",
    header=(
        "record_id|event_time_utc|subscriber|service|direction|mcc_visited|other_party|mcc_other|units|"
        "unit_type|premium_class|premium_fee_eur"
    ),
    sep="|",
    fast=_BOUYGUES_FAST,
    explain=_explain_bouygues,
    emit=_emit_bouygues,
)

FORMATS = {"orange": ORANGE, "bouygues": BOUYGUES}
