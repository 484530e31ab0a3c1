"""Rating rules of usage (issue 7), pure functions over plain values — the reference the SQL of
``usage/ingestion.py`` follows. The per-record classification (``classify``) is not re-written in SQL: the
ingestion builds, from this very function, the rating matrix of the plan profiles present in a file and
joins the records to it, so the SQL cannot drift from the rule. What depends on the month so far (fair use
ranks, allowances of Travel and Compteur Data, alert thresholds) is done in SQL with window functions; the
functions below state the same rules and the tests hold the SQL to them.

Rules applied (SPEC): R-ROA-1 (what unlimited plans include in roaming and towards international), R-CAT-4
(Travel: USA/Canada zone in the plan), R-CAT-5/6 (Data only, M2M: data only), R-CAT-7/8 (Compteur: everything
metered; Compteur Data: 500 Mo included then tiers), R-CAT-11 (fair use), R-OPT-4/5 and R-ROA-3/4 (roaming
cut-offs and options), R-ALR-1..3 (alert thresholds and blocking).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# --- zones -------------------------------------------------------------------------------------------------

FRANCE = "france"
ZONE1 = "zone1"  # EU/EEA and the DROM: the seed's « zone 1/1B »
USA_CANADA = "usa_canada"
MAGHREB_TURQUIE = "maghreb_turquie"
RESTE_DU_MONDE = "reste_du_monde"
ZONES = (FRANCE, ZONE1, USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE)
OUTSIDE_EUROPE = (USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE)
#: Bouygues roaming cut-offs (R-ROA-4) are per « Europe » and « Monde »; catalog zone values.
BOUYGUES_EUROPE = "europe"
BOUYGUES_MONDE = "monde"

_ZONE_COUNTRIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    # zone: ((ISO alpha-3, (MCCs…)), …) — the countries the operators' files name (Orange: alpha-3,
    # Bouygues: MCC). Switzerland and Andorra are outside the EEA (R-OPT-7 says so for Bouygues).
    FRANCE: (("FRA", ("208",)),),
    ZONE1: (
        ("ESP", ("214",)),
        ("ITA", ("222",)),
        ("DEU", ("262",)),
        ("BEL", ("206",)),
        ("NLD", ("204",)),
        ("PRT", ("268",)),
        ("IRL", ("272",)),
        ("AUT", ("232",)),
        ("POL", ("260",)),
        ("GRC", ("202",)),
        ("SWE", ("240",)),
        ("DNK", ("238",)),
        ("FIN", ("244",)),
        ("NOR", ("242",)),
        ("ISL", ("274",)),
        ("LUX", ("270",)),
        ("CZE", ("230",)),
        ("ROU", ("226",)),
        ("HUN", ("216",)),
        ("HRV", ("219",)),
        ("BGR", ("284",)),
        ("SVK", ("231",)),
        ("SVN", ("293",)),
        ("EST", ("248",)),
        ("LVA", ("247",)),
        ("LTU", ("246",)),
        ("MLT", ("278",)),
        ("CYP", ("280",)),
        ("LIE", ("295",)),
        ("GLP", ("340",)),
        ("MTQ", ()),
        ("REU", ("647",)),
        ("GUF", ("742",)),
    ),
    USA_CANADA: (("USA", ("310", "311", "312", "313", "314", "315", "316")), ("CAN", ("302",))),
    MAGHREB_TURQUIE: (("MAR", ("604",)), ("DZA", ("603",)), ("TUN", ("605",)), ("TUR", ("286",))),
    RESTE_DU_MONDE: (
        ("CHE", ("228",)),
        ("AND", ("213",)),
        ("GBR", ("234",)),
        ("JPN", ("440",)),
        ("CHN", ("460",)),
        ("BRA", ("724",)),
        ("AUS", ("505",)),
        ("ZAF", ("655",)),
        ("THA", ("520",)),
        ("IND", ("404",)),
    ),
}

#: Country code (ISO alpha-3 or MCC) → zone.
COUNTRY_ZONES: dict[str, str] = {}
#: MCC → ISO alpha-3 (the journal shows one kind of country code whatever the network).
MCC_COUNTRY: dict[str, str] = {}
for _zone, _countries in _ZONE_COUNTRIES.items():
    for _alpha3, _mccs in _countries:
        COUNTRY_ZONES[_alpha3] = _zone
        for _mcc in _mccs:
            COUNTRY_ZONES[_mcc] = _zone
            MCC_COUNTRY.setdefault(_mcc, _alpha3)


def country_zone(code: str) -> str | None:
    return COUNTRY_ZONES.get((code or "").strip().upper())


# --- plans -------------------------------------------------------------------------------------------------

UNLIMITED_RANGES = frozenset({"illimite", "travel"})
DATA_RANGES = frozenset({"data_only", "m2m"})
COMPTEUR = "compteur"
COMPTEUR_DATA = "compteur_data"
NONE, CUTOFF, OPTION = "none", "cutoff", "option"
VSD = "vsd"  # a Travel « Voix + SMS + Data » roaming option (R-OPT-5): data, 1 h of calls and 50 SMS


@dataclass(frozen=True)
class Profile:
    """What rating needs of a line's plan: network, range and, per zone outside Europe, whether the line has a
    roaming option (data included up to the option's envelope) or a metered cut-off (R-OPT-4/5, R-ROA-3/4).
    Its ``key`` is what the rating matrix is built for."""

    network: str
    range: str
    usa_canada: str = NONE
    maghreb_turquie: str = NONE
    reste_du_monde: str = NONE

    @property
    def key(self) -> str:
        return "|".join(
            (self.network, self.range, self.usa_canada, self.maghreb_turquie, self.reste_du_monde)
        )

    @classmethod
    def from_key(cls, key: str) -> Profile:
        return cls(*key.split("|"))

    def roaming_kind(self, zone: str) -> str:
        return getattr(self, zone, NONE) if zone in OUTSIDE_EUROPE else NONE


# --- records -----------------------------------------------------------------------------------------------

VOICE, SMS, MMS, DATA = "voice", "sms", "mms", "data"
OUT, IN = "out", "in"


@dataclass(frozen=True)
class Rating:
    """How one kind of record counts for one plan profile."""

    category: str  # journal tab: voice / voice_sva / sms_mms / data
    metric: str  # counter: data / roaming_data / voice / voice_sva / sms_mms
    zone: str  # counter zone ("" or a roaming zone)
    metered: bool  # the whole record is out of plan (« hors forfait »)
    rate: str  # catalog UsageRate code pricing the metered quantity ("" = nothing to price)
    rule: str
    label: str  # the journal's « Désignation »
    allowance: str = ""  # a monthly allowance the record draws on (``ALLOWANCES``)
    fair_use: str = ""  # R-CAT-11 distinct-party count it enters: "call" or "msg"


#: Monthly allowances a record draws on before being metered (or blocked): name → (metric, zone).
ALLOWANCES = {
    "travel_usca_voice": ("voice", USA_CANADA),  # R-CAT-4: 1 h or 2 h
    "travel_usca_sms": ("sms_mms", USA_CANADA),  # R-CAT-4: 100 SMS sent
    "cptd_data": ("data", ""),  # R-CAT-8: 500 Mo included
    "vsd_voice": ("voice", "<zone>"),  # R-OPT-5: the calls of a Voix + SMS + Data option (1 h)
    "vsd_sms": ("sms_mms", "<zone>"),  # R-OPT-5: its SMS sent (50)
}

_LABELS = {
    (VOICE, OUT): "Appel",
    (VOICE, IN): "Appel reçu",
    (SMS, OUT): "SMS",
    (SMS, IN): "SMS reçu",
    (MMS, OUT): "MMS",
    (MMS, IN): "MMS reçu",
    (DATA, OUT): "Session data",
}
_WHERE = {
    FRANCE: "",
    ZONE1: " en Europe",
    USA_CANADA: " en itinérance USA/Canada",
    MAGHREB_TURQUIE: " en itinérance Maghreb/Turquie",
    RESTE_DU_MONDE: " en itinérance Reste du monde",
}
_TO = {
    ZONE1: " vers l'Europe",
    USA_CANADA: " vers USA/Canada",
    MAGHREB_TURQUIE: " vers Maghreb/Turquie",
    RESTE_DU_MONDE: " vers l'international",
}


def label(service: str, direction: str, usage_zone: str, dest_zone: str, premium: bool) -> str:
    """The French « Désignation » of a record in the journal."""
    if premium:
        return "Appel vers numéro spécial (SVA)"
    text = _LABELS.get((service, direction), service)
    text += _WHERE.get(usage_zone, "")
    if direction == OUT and service != DATA and dest_zone not in ("", FRANCE, usage_zone):
        text += _TO.get(dest_zone, "")
    return text


def classify(
    profile: Profile,
    *,
    service: str,
    direction: str,
    usage_zone: str,
    dest_zone: str = "",
    premium: bool = False,
    premium_billable: bool = False,
) -> Rating:
    """How a record counts for a line of ``profile`` (R-ROA-1, R-CAT-4..8, R-CAT-11, R-OPT-4/5, R-ROA-3/4).

    ``metered`` records are out of plan for their whole quantity, priced by the catalog rate ``rate``;
    records drawing on an ``allowance`` are out of plan only beyond it (``allowance_split``)."""
    net, rng = profile.network, profile.range
    text = label(service, direction, usage_zone, dest_zone, premium)
    roaming_out = usage_zone in OUTSIDE_EUROPE

    if service == DATA:
        return _classify_data(profile, usage_zone, text)

    if premium:
        # R-SC-5 « numéros spéciaux et surtaxés » — not billable (the SVA costs the call only) or billed (its
        # surcharge comes priced in the operator's record).
        return Rating("voice_sva", "voice_sva", "", premium_billable, "", "R-SC-5", text)

    category = "voice" if service == VOICE else "sms_mms"
    metric = "voice" if service == VOICE else "sms_mms"
    if rng in DATA_RANGES or rng == COMPTEUR_DATA:
        # R-CAT-5/6/8: no voice, SMS or MMS on these plans; a record the operator still sends is metered.
        rate = {VOICE: "cpt_voice", SMS: "cpt_sms", MMS: "cpt_mms"}[service]
        return Rating(category, metric, "", True, rate, "R-CAT-5", text)
    if rng == COMPTEUR:
        # R-CAT-7: priced per minute, SMS and MMS; received calls and messages in France/Europe are free.
        if direction == IN and not roaming_out:
            return Rating(category, metric, "", False, "", "R-CAT-7", text)
        if roaming_out:
            return Rating(
                category, metric, usage_zone, True, _roaming_rate(service, usage_zone), "R-CAT-7", text
            )
        rate = {VOICE: "cpt_voice", SMS: "cpt_sms", MMS: "cpt_mms"}[service]
        return Rating(category, metric, "", True, rate, "R-CAT-7", text)

    # Illimité and Travel (R-ROA-1, R-CAT-4, R-CAT-11)
    if rng == "travel" and usage_zone == USA_CANADA:
        # R-CAT-4: in the USA/Canada zone, calls in and out within the zone and to France, and 100 SMS sent,
        # count against the plan; SMS received are included; the rest is metered (cannot be blocked).
        if service == VOICE and dest_zone in ("", FRANCE, USA_CANADA):
            return Rating(
                category,
                metric,
                USA_CANADA,
                False,
                _roaming_rate(VOICE, USA_CANADA),
                "R-CAT-4",
                text,
                allowance="travel_usca_voice",
            )
        if service == SMS and direction == OUT and dest_zone in (FRANCE, USA_CANADA):
            return Rating(
                category,
                metric,
                USA_CANADA,
                False,
                _roaming_rate(SMS, USA_CANADA),
                "R-CAT-4",
                text,
                allowance="travel_usca_sms",
            )
        # Counted apart from the allowance (zone ""), so the zone's counter is the allowance used.
        if service == SMS and direction == IN:
            return Rating(category, metric, "", False, "", "R-ROA-1", text)
        return Rating(category, metric, "", True, _roaming_rate(service, USA_CANADA), "R-CAT-4", text)

    if roaming_out and profile.roaming_kind(usage_zone) == VSD:
        # R-OPT-5: a Travel Voix + SMS + Data option includes calls (made and received) and SMS sent in its
        # zone up to its allowance, metered beyond; SMS received are included, MMS metered (counted apart, so
        # the zone's counters are the allowance used).
        if service == VOICE:
            return Rating(
                category,
                metric,
                usage_zone,
                False,
                _roaming_rate(VOICE, usage_zone),
                "R-OPT-5",
                text,
                allowance="vsd_voice",
            )
        if service == SMS and direction == OUT:
            return Rating(
                category,
                metric,
                usage_zone,
                False,
                _roaming_rate(SMS, usage_zone),
                "R-OPT-5",
                text,
                allowance="vsd_sms",
            )
        if service == SMS:
            return Rating(category, metric, "", False, "", "R-ROA-1", text)
        return Rating(category, metric, "", True, _roaming_rate(service, usage_zone), "R-ROA-1", text)

    if roaming_out:
        # R-ROA-1 from any other zone: metered, except SMS received.
        if service == SMS and direction == IN:
            return Rating(category, metric, usage_zone, False, "", "R-ROA-1", text)
        return Rating(category, metric, usage_zone, True, _roaming_rate(service, usage_zone), "R-ROA-1", text)

    if direction == IN:
        # Received in France or from zone 1: included (R-ROA-1).
        return Rating(category, metric, "", False, "", "R-ROA-1", text)

    fair = "call" if service == VOICE else "msg"
    if service == VOICE:
        if dest_zone in (FRANCE, ZONE1):  # R-ROA-1: France → zone 1/1B and zone 1 → zone 1 included
            return Rating(category, metric, "", False, "voice_fair_use", "R-ROA-1", text, fair_use=fair)
        return Rating(category, metric, "", True, f"intl_voice_{dest_zone}", "R-ROA-1", text)
    if service == SMS:
        if dest_zone == FRANCE or (dest_zone == ZONE1 and (usage_zone == ZONE1 or net == "orange")):
            # R-ROA-1: SMS from France to zone 1 included on Orange, metered on Bouygues; zone 1 → zone 1
            # included on both.
            return Rating(category, metric, "", False, "msg_fair_use", "R-ROA-1", text, fair_use=fair)
        return Rating(category, metric, "", True, "intl_sms", "R-ROA-1", text)
    # MMS: included from zone 1 and within France; from France to any other country metered (R-ROA-1).
    if dest_zone == FRANCE or usage_zone == ZONE1:
        return Rating(category, metric, "", False, "msg_fair_use", "R-ROA-1", text, fair_use=fair)
    return Rating(category, metric, "", True, "intl_mms", "R-ROA-1", text)


def _roaming_rate(service: str, zone: str) -> str:
    return {VOICE: "roam_voice_", SMS: "roam_sms_", MMS: "roam_mms_"}[service] + zone


def _classify_data(profile: Profile, usage_zone: str, text: str) -> Rating:
    net, rng = profile.network, profile.range
    if rng == COMPTEUR:
        if usage_zone in OUTSIDE_EUROPE:
            return Rating(
                "data",
                "roaming_data",
                usage_zone,
                True,
                f"roam_data_{usage_zone}" if net == "orange" else "roam_data_monde",
                "R-CAT-7",
                text,
            )
        return Rating("data", "data", "", True, "cpt_data", "R-CAT-7", text)
    if rng == COMPTEUR_DATA:
        # R-CAT-8: no roaming; 500 Mo included then tiers (priced for the month, ``compteur_data_amount``).
        if usage_zone in OUTSIDE_EUROPE:
            return Rating("data", "roaming_data", usage_zone, True, "", "R-CAT-8", text)
        return Rating("data", "data", "", False, "", "R-CAT-8", text, allowance="cptd_data")
    if usage_zone in (FRANCE, ZONE1):
        if net == "bouygues" and usage_zone == ZONE1 and rng not in DATA_RANGES:
            # R-ROA-1: included, counted in the envelope (metric ``data``, every zone); R-ROA-4: kept apart in
            # zone « europe » and valued in euros at the Europe rate against the Europe cut-off (the counter's
            # ``valued_ht``) — not out of plan, not billed.
            return Rating("data", "data", BOUYGUES_EUROPE, False, "roam_data_europe", "R-ROA-4", text)
        # R-ROA-1 / R-CAT-3/5/6: France and Europe draw on the envelope; beyond it the plan is blocked or
        # slowed, never surcharged in France (R-ALR-1/2).
        return Rating("data", "data", "", False, "", "R-ROA-1", text)
    # Outside Europe.
    if rng in DATA_RANGES:  # R-CAT-5/6: no roaming — a record the operator still sends is metered
        return Rating("data", "roaming_data", usage_zone, True, "", "R-CAT-5", text)
    if net == "bouygues":  # R-ROA-4: World cut-off in euros, metered
        return Rating("data", "roaming_data", BOUYGUES_MONDE, True, "roam_data_monde", "R-ROA-4", text)
    if rng == "travel" and usage_zone == USA_CANADA:  # R-CAT-4: in the plan, blocked beyond
        return Rating("data", "roaming_data", USA_CANADA, False, "", "R-CAT-4", text)
    if profile.roaming_kind(usage_zone) in (OPTION, VSD):  # R-OPT-4/5: included up to the option's envelope
        return Rating("data", "roaming_data", usage_zone, False, "", "R-OPT-4", text)
    # R-ROA-3 / R-OPT-5: a metered cut-off (0 Mo: blocked at once)
    return Rating("data", "roaming_data", usage_zone, True, f"roam_data_{usage_zone}", "R-ROA-3", text)


def case_key(
    service: str, direction: str, usage_zone: str, dest_zone: str, premium: bool, billable: bool
) -> str:
    """The key of a kind of record in the rating matrix (data and received records have no destination zone
    unless their format gives one: data never does)."""
    return (
        f"{service}|{direction}|{usage_zone}|{dest_zone}|{'t' if premium else 'f'}{'t' if billable else 'f'}"
    )


def rating_matrix(profiles: Iterable[Profile]) -> list[tuple]:
    """Every (profile key, case key) → ``Rating`` row the SQL joins records to (``usage/ingestion.py``): each
    service, direction, usage zone, destination zone and premium kind, for each profile."""
    rows = []
    for profile in profiles:
        for service in (VOICE, SMS, MMS, DATA):
            for direction in (OUT, IN) if service != DATA else (OUT,):
                for usage_zone in ZONES:
                    dests = ("",) if service == DATA else ("", *ZONES)
                    for dest_zone in dests:
                        for premium, billable in ((False, False), (True, False), (True, True)):
                            if premium and service != VOICE:
                                continue
                            r = classify(
                                profile,
                                service=service,
                                direction=direction,
                                usage_zone=usage_zone,
                                dest_zone=dest_zone,
                                premium=premium,
                                premium_billable=billable,
                            )
                            rows.append(
                                (
                                    profile.key,
                                    case_key(service, direction, usage_zone, dest_zone, premium, billable),
                                    r.category,
                                    r.metric,
                                    r.zone,
                                    r.metered,
                                    r.rate,
                                    r.rule,
                                    r.label,
                                    r.allowance,
                                    r.fair_use,
                                )
                            )
    return rows


# --- month-dependent rules (the SQL applies them with window functions) ----------------------------------

FAIR_USE_MAX_PARTIES = 250  # R-CAT-11: distinct called numbers / SMS-MMS recipients per month
FAIR_USE_MAX_CALL_SECONDS = 7200  # R-CAT-11: 2 h per call
ORANGE_MAX_SMS_PER_HOUR = 500  # R-CAT-11: beyond, SMS sending suspended 3 days
ORANGE_SMS_BAR_DAYS = 3
CPTD_INCLUDED_BYTES = 500 * 10**6  # R-CAT-8


def fair_use_oop(*, quantity: int, service: str, party_rank: int | None) -> int:
    """R-CAT-11: the out-of-plan part of an included call or message — the whole record when its party is
    beyond the 250th distinct one of the month, else for a call the part beyond 2 h."""
    if party_rank is not None and party_rank > FAIR_USE_MAX_PARTIES:
        return quantity
    if service == VOICE:
        return max(0, quantity - FAIR_USE_MAX_CALL_SECONDS)
    return 0


def allowance_split(*, used_before: int, quantities: Sequence[int], allowance: int) -> list[int]:
    """For records in time order drawing on a monthly ``allowance`` already used by ``used_before``: the
    out-of-plan part of each (the part beyond the allowance)."""
    out, total = [], used_before
    for q in quantities:
        total += q
        out.append(max(0, min(q, total - allowance)))
    return out


def amount_ht(quantity: int, unit: str, price: Decimal | None) -> Decimal | None:
    """The amount HT of a metered quantity at a catalog per-unit price; ``None`` when the price is missing
    (« à tarifer », never 0). Minutes are charged by the second, Mo by the byte (1 Mo = 10^6 bytes)."""
    if price is None:
        return None
    per = {"minute": Decimal(60), "mo": Decimal(10**6)}.get(unit, Decimal(1))
    return (Decimal(quantity) * price / per).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def compteur_data_amount(total_bytes: int, tiers: Sequence[dict] | None) -> Decimal | None:
    """R-CAT-8: beyond the 500 Mo included, the price per Mo of the tier reached applies to every Mo beyond
    500 Mo. ``tiers``: ``[{"up_to_bytes": int | None, "price_per_mo_ht": "0.01"}, …]`` in ascending order (the
    catalog's ``details.tiers_ht``; the seed gives none: ``None`` → « à tarifer »)."""
    beyond = max(0, total_bytes - CPTD_INCLUDED_BYTES)
    if beyond == 0:
        return Decimal("0.0000")
    if not tiers:
        return None
    for tier in tiers:
        if tier.get("up_to_bytes") is None or total_bytes <= int(tier["up_to_bytes"]):
            price = Decimal(str(tier["price_per_mo_ht"]))
            return (Decimal(math.ceil(beyond / 10**6)) * price).quantize(Decimal("0.0001"))
    return None


# --- alerts (R-ALR-1..3) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watch:
    """One thing to watch on a line for a month: ``limit`` (bytes, or euros for Bouygues cut-offs), the
    thresholds that alert, and whether reaching 100 % blocks data."""

    scope: str  # data / roaming / threshold
    zone: str
    limit: int
    unit: str  # bytes / eur
    thresholds: tuple[int, ...]
    blocks: bool
    rule: str


def data_watch(*, network: str, range_: str, blocked: bool | None, envelope: int | None) -> Watch | None:
    """The France + Europe envelope (with the month's top-ups): R-ALR-1 Orange 80 % and 100 %; R-ALR-2
    Bouygues non-blocked 80 %, blocked 100 %; data cut at 100 % on blocked plans (Data only and M2M follow
    the same rule — a reading: the seed's table names the unlimited plans). Travel is never blocked in
    France + Europe (R-CAT-4)."""
    if envelope is None or range_ in (COMPTEUR, COMPTEUR_DATA):
        return None
    blocks = bool(blocked) and range_ != "travel"
    if network == "orange":
        thresholds: tuple[int, ...] = (80, 100)
        rule = "R-ALR-1"
    else:
        thresholds = (100,) if blocked else (80,)
        rule = "R-ALR-2"
    return Watch("data", "", envelope, "bytes", thresholds, blocks, rule)


def roaming_watch(*, zone: str, limit: int, unit: str) -> Watch:
    """R-ALR-3: a roaming cut-off or option (Orange, in bytes) or a Bouygues cut-off (in euros): 80 % and
    100 %, data blocked at 100 %. R-CAT-4: the Travel USA/Canada data allowance likewise."""
    return Watch("roaming", zone, limit, unit, (80, 100), True, "R-ALR-3")


def threshold_watch(*, limit: int) -> Watch:
    """R-CAT-7/8: the data threshold a partner set on a compteur line: 80 % and 100 %, blocked at 100 %."""
    return Watch("threshold", "", limit, "bytes", (80, 100), True, "R-CAT-7")


def reached(used: int | Decimal, limit: int, threshold: int) -> bool:
    """``used`` has reached ``threshold`` % of ``limit`` (a limit of 0 is reached by any use)."""
    if limit <= 0:
        return used > 0
    return used * 100 >= limit * threshold
