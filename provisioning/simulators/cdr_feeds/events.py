"""The vocabulary of the CDR feeds: networks, services, units, the country and zone tables, and the records.

- ``TrafficEvent``: one usage record, network-neutral (national numbers, alpha-3 countries, bytes, seconds).
- ``TrafficLine``: what the generator needs of a line (``TrafficLine.of(contract)``).
- ``COUNTRIES`` and the tables derived from it, the R-ROA-1 zones, ``parse_zone``.

The country tables are for writing files only: the platform (``usage``) reads the files; it never imports this
package, which keeps its own country tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
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


# The clock: the writers (a « future » faulty record) and the generator (no traffic at or after now) read it.
def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()
