"""Eligibility rules of the catalog — pure functions over plain values (no ORM).

Every function answers with a ``Decision`` (allowed, French reason, rule id) or a list built from decisions, so
that the back-office can show *why* something is refused and services can raise ``RuleViolation`` with the
same reason and rule. Build the facts from a model with ``OfferFacts.of(offer)`` (it only reads attributes).

Rules enforced here: R-CAT-4/7/9/10, R-OPT-1..7, R-ROA-1..4, R-CON-1..3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import RuleViolation
from core.money import GB, MB, TB

PARIS = ZoneInfo("Europe/Paris")

ORANGE = "orange"
BOUYGUES = "bouygues"

# Ranges (values of catalog.models.Range)
ILLIMITE = "illimite"
TRAVEL = "travel"
DATA_ONLY = "data_only"
M2M = "m2m"
COMPTEUR = "compteur"
COMPTEUR_DATA = "compteur_data"
PLAN_RANGES = frozenset({ILLIMITE, TRAVEL, DATA_ONLY, M2M})
COMPTEUR_RANGES = frozenset({COMPTEUR, COMPTEUR_DATA})
VOICE_RANGES = frozenset({ILLIMITE, TRAVEL, COMPTEUR})

# Zones (values of catalog.models.Zone)
EUROPE = "europe"
USA_CANADA = "usa_canada"
MAGHREB_TURQUIE = "maghreb_turquie"
RESTE_DU_MONDE = "reste_du_monde"
MONDE = "monde"

# Option codes shared with the data file (a test checks the file uses exactly these).
ESIM = "esim"
FIXED_IP = "fixed_ip"
PARTNER_PLATFORM = "partner_platform"
FIVE_G = "five_g"
VOLTE_VOWIFI = "volte_vowifi"
ORANGE_SERVICE_OPTIONS = ("conference", "visual_voicemail", "secret_number", "sva_calls")  # R-OPT-6
BOUYGUES_SERVICE_OPTIONS = (  # R-OPT-7
    "multi_conversation",
    "voicemail_callback",
    "visual_voicemail",
    "risky_destinations_unlock",
    "sva_block",
    "international_usage",
    "international_voice_block",
    "france_to_eea_block",
    "eea_to_international_block",
)
SERVICE_OPTIONS = {ORANGE: ORANGE_SERVICE_OPTIONS, BOUYGUES: BOUYGUES_SERVICE_OPTIONS}

# R-CAT-10 / R-CAT-6: top-up volumes per family.
TOPUP_VOLUMES: dict[str, tuple[int, ...]] = {
    ILLIMITE: tuple(v * GB for v in (1, 5, 10, 30, 50, 100, 250, 500)),
    DATA_ONLY: tuple(v * GB for v in (1, 10, 20, 50, 100, 150, 200, 500)) + (1 * TB,),
    M2M: tuple(v * MB for v in (10, 25, 50, 100, 250, 500)),
}
#: R-CAT-7: compteur offers take top-ups "when the data threshold is reached" (thresholds 1 to 100 Go); the
#: seed lists no volumes for them. Reading: the Illimité family's volumes up to the largest threshold, 100 Go
#: (1, 5, 10, 30, 50, 100 Go) — bought from the catalog's Illimité top-ups of the line's network.
COMPTEUR_TOPUP_FAMILY = ILLIMITE
COMPTEUR_TOPUP_VOLUMES: tuple[int, ...] = tuple(v for v in TOPUP_VOLUMES[ILLIMITE] if v <= 100 * GB)

FIVE_G_FREE_FROM_ORANGE = 50 * GB  # R-CAT-9


@dataclass(frozen=True)
class Decision:
    """One answer of a rule: allowed or not, why (French), which rule decided."""

    allowed: bool
    reason: str
    rule: str

    def __bool__(self) -> bool:
        return self.allowed

    def raise_if_refused(self, field: str | None = None) -> None:
        """For services: turn a refusal into the one domain error (STYLE 3)."""
        if not self.allowed:
            raise RuleViolation(self.reason, field=field, rule=self.rule)


@dataclass(frozen=True)
class ChangeDecision(Decision):
    """``offer_change`` answer; ``kind`` is ``upgrade``/``downgrade``/``migration`` when allowed, else ``""``."""

    kind: str = ""


@dataclass(frozen=True)
class OfferFacts:
    """What the rules need to know about an offer."""

    code: str
    network: str
    range: str
    data_bytes: int | None = None
    blocked: bool | None = None
    five_g_included: bool = False
    active: bool = True

    @classmethod
    def of(cls, offer: Any) -> OfferFacts:
        """From a ``catalog.models.Offer`` (or anything with the same attributes), or facts unchanged."""
        if isinstance(offer, OfferFacts):
            return offer
        return cls(
            code=offer.code,
            network=str(offer.network),
            range=str(offer.range),
            data_bytes=offer.data_bytes,
            blocked=offer.blocked,
            five_g_included=bool(offer.five_g_included),
            active=bool(getattr(offer, "active", True)),
        )

    @property
    def is_plan(self) -> bool:
        return self.range in PLAN_RANGES

    @property
    def is_compteur(self) -> bool:
        return self.range in COMPTEUR_RANGES

    @property
    def has_data_envelope(self) -> bool:
        return self.data_bytes is not None and self.range in PLAN_RANGES


@dataclass(frozen=True)
class RoamingChoiceFacts:
    """One roaming choice (a stored ``RoamingChoice`` row, or the derived Orange Europe cut-off)."""

    zone: str
    kind: str  # cutoff | option
    limit: int
    unit: str  # bytes | eur
    price_ht: Decimal | None = None
    network: str = ""
    ranges: tuple[str, ...] = ()
    option_type: str = ""
    code: str = ""
    derived: bool = False  # True for the Orange Europe cut-off equal to the envelope (R-ROA-3)

    @classmethod
    def of(cls, choice: Any) -> RoamingChoiceFacts:
        if isinstance(choice, RoamingChoiceFacts):
            return choice
        return cls(
            zone=str(choice.zone),
            kind=str(choice.kind),
            limit=int(choice.limit),
            unit=str(choice.unit),
            price_ht=choice.price_ht,
            network=str(choice.network),
            ranges=tuple(choice.ranges or ()),
            option_type=str(choice.option_type or ""),
            code=choice.code,
        )

    def as_export(self) -> dict:
        return {
            "zone": self.zone,
            "kind": self.kind,
            "limit": self.limit,
            "unit": self.unit,
            "price_ht": None if self.price_ht is None else str(self.price_ht),
        }


@dataclass(frozen=True)
class ZoneDecision(Decision):
    """``roaming_zones`` answer for one zone: which kinds of choice (``cutoff``/``option``) the line picks from."""

    zone: str = ""
    kinds: tuple[str, ...] = field(default_factory=tuple)
    unit: str = ""


def _yes(reason: str, rule: str) -> Decision:
    return Decision(True, reason, rule)


def _no(reason: str, rule: str) -> Decision:
    return Decision(False, reason, rule)


# --- 5G (R-CAT-9) -------------------------------------------------------------------------------------------


def five_g_included(network: str, range_: str, data_bytes: int | None) -> bool:
    """R-CAT-9 (+ R-CAT-4 Travel 5G offered, R-CAT-7 compteur on every network incl. 5G): is 5G in the offer?"""
    if range_ == TRAVEL:
        return True
    if network == BOUYGUES:
        return range_ != M2M  # R-CAT-9: Bouygues offers 5G on every plan (M2M is Orange only, 3G/4G)
    if range_ in (ILLIMITE, DATA_ONLY):
        return data_bytes is not None and data_bytes >= FIVE_G_FREE_FROM_ORANGE
    if range_ in COMPTEUR_RANGES:
        return True
    return False  # M2M: 3G/4G (R-CAT-6)


def five_g(offer: Any) -> Decision:
    """R-CAT-9: 5G included, optional (the ``five_g`` option, Orange below 50 Go), or not available (M2M)."""
    o = OfferFacts.of(offer)
    if o.five_g_included:
        return _yes(_("5G incluse dans l'offre."), "R-CAT-9")
    if o.range == M2M:
        return _no(_("Les offres M2M sont 3G/4G : pas de 5G."), "R-CAT-6")
    if o.network == ORANGE and o.range in (ILLIMITE, DATA_ONLY):
        if o.data_bytes is None:
            return _no(_("Forfait sans data : la 5G n'a pas d'objet."), "R-CAT-9")
        return _yes(
            _("5G en option : gratuite chez Orange seulement à partir des forfaits 50 Go."),
            "R-CAT-9",
        )
    return _no(_("5G non disponible sur cette offre."), "R-CAT-9")


def five_g_is_option(offer: Any) -> bool:
    o = OfferFacts.of(offer)
    return not o.five_g_included and five_g(o).allowed


# --- eSIM (R-OPT-2) -----------------------------------------------------------------------------------------


def esim_eligibility(network: str) -> Decision:
    """R-OPT-2: eSIM (FAS 1.50 €) is an Orange-only option."""
    if network == ORANGE:
        return _yes(_("eSIM disponible chez Orange (FAS 1,50 € HT)."), "R-OPT-2")
    return _no(_("L'eSIM n'est proposée que sur le réseau Orange."), "R-OPT-2")


# --- options (R-OPT-1..7) -----------------------------------------------------------------------------------


def _fixed_ip_decision(o: OfferFacts, what: str, rule: str) -> Decision:
    """R-OPT-3: Orange — blocked data plans and compteur offers; Bouygues — blocked/non-blocked plans and compteur."""
    if o.is_compteur:
        return _yes(_("%(what)s disponible sur les offres compteur.") % {"what": what}, rule)
    if not o.has_data_envelope:
        return _no(_("%(what)s : il faut un forfait avec data.") % {"what": what}, rule)
    if o.network == ORANGE and not o.blocked:
        return _no(
            _("%(what)s : chez Orange, uniquement sur les forfaits data bloqués et les offres compteur.")
            % {"what": what},
            rule,
        )
    return _yes(_("%(what)s disponible sur ce forfait.") % {"what": what}, rule)


def option_eligibility(offer: Any, option_code: str, partner_is_init_sys: bool = False) -> Decision:
    """May ``option_code`` be ordered on ``offer`` (by a partner flagged Init Sys or not)?"""
    o = OfferFacts.of(offer)
    if option_code == VOLTE_VOWIFI:
        return _no(
            _("VoLTE/VoWiFi : gratuit, rien à commander (l'utilisateur l'active sur son téléphone)."),
            "R-OPT-1",
        )
    if option_code == ESIM:
        return esim_eligibility(o.network)
    if option_code == FIXED_IP:
        return _fixed_ip_decision(o, _("IP fixe (internet only)"), "R-OPT-3")
    if option_code == PARTNER_PLATFORM:
        if not partner_is_init_sys:
            return _no(
                _("La livraison sur plateforme partenaire (L2TP) est réservée aux partenaires Init Sys."),
                "R-OPT-3",
            )
        return _fixed_ip_decision(o, _("Livraison plateforme partenaire"), "R-OPT-3")
    if option_code == FIVE_G:
        decision = five_g(o)
        if o.five_g_included:
            return _no(_("5G déjà incluse : rien à commander."), "R-CAT-9")
        return decision
    own_rule = "R-OPT-6" if o.network == ORANGE else "R-OPT-7"
    if option_code in SERVICE_OPTIONS.get(o.network, ()):
        if o.range not in VOICE_RANGES:
            return _no(_("Option de service voix/SMS : l'offre n'a ni appels ni SMS."), own_rule)
        return _yes(_("Option de service disponible."), own_rule)
    if o.network == ORANGE and option_code in INTERNATIONAL_BLOCKING_OPTIONS:
        return international_blocking(ORANGE)  # R-ROA-2: nothing to block on Orange
    if any(option_code in codes for codes in SERVICE_OPTIONS.values()):
        return _no(_("Option de service d'un autre réseau."), own_rule)
    return _no(_("Option inconnue pour ce réseau."), "R-CAT-1")


def allowed_options(offer: Any, option_codes: Iterable[str], partner_is_init_sys: bool = False) -> list[str]:
    """The codes among ``option_codes`` that may be ordered on ``offer`` (order kept)."""
    return [c for c in option_codes if option_eligibility(offer, c, partner_is_init_sys).allowed]


def option_termination_effective_at(network: str, now: dt.datetime) -> dt.datetime:
    """R-OPT-3: Orange options end on the 1st of next month; Bouygues options at once."""
    if network == ORANGE:
        return first_of_next_month(now)
    return now


# --- top-ups (R-CAT-4, R-CAT-6, R-CAT-10) -------------------------------------------------------------------


def topup_family(range_: str) -> str | None:
    """The top-up family of a range (the catalog's Topup rows of an offer), ``None`` when the range has none of
    its own. Compteur ranges buy Illimité top-ups, once the threshold is reached: ``topup_catalog_family``."""
    return range_ if range_ in TOPUP_VOLUMES else None


def topup_catalog_family(range_: str) -> str | None:
    """The catalog family a line of ``range_`` buys its top-ups from (compteur → Illimité, R-CAT-7 reading)."""
    if range_ in COMPTEUR_RANGES:
        return COMPTEUR_TOPUP_FAMILY
    return topup_family(range_)


def topup_eligibility(offer: Any, topup_bytes: int, *, threshold_reached: bool = False) -> Decision:
    """May a top-up of ``topup_bytes`` be bought on ``offer``?

    ``threshold_reached``: for a Compteur / Compteur Data line, its data threshold is reached (R-CAT-7: "top-ups
    when a threshold is reached") — the line has an open threshold block. Ignored for the other ranges."""
    o = OfferFacts.of(offer)
    if o.range == TRAVEL:
        return _no(
            _("Pas de recharge sur un forfait Travel (zone USA/Canada) : un upgrade est nécessaire."),
            "R-CAT-4",
        )
    if o.is_compteur:
        if not threshold_reached:
            return _no(
                _(
                    "Offre au compteur : une recharge se commande seulement quand le seuil data de la ligne "
                    "est atteint."
                ),
                "R-CAT-7",
            )
        if topup_bytes not in COMPTEUR_TOPUP_VOLUMES:
            return _no(_("Offre au compteur : recharges de 1 Go à 100 Go."), "R-CAT-7")
        return _yes(_("Recharge disponible (seuil data atteint)."), "R-CAT-7")
    family = topup_family(o.range)
    if family is None:
        return _no(_("Pas de recharge sur cette offre."), "R-CAT-10")
    if o.range == ILLIMITE and o.data_bytes is None:
        return _no(_("Forfait sans data : pas de recharge data."), "R-CAT-10")
    rule = "R-CAT-6" if family == M2M else "R-CAT-10"
    if topup_bytes not in TOPUP_VOLUMES[family]:
        return _no(_("Volume de recharge inexistant pour cette gamme."), rule)
    if o.network == BOUYGUES and not o.blocked and topup_bytes != o.data_bytes:
        return _no(
            _("Bouygues, forfait non bloqué : seule une recharge du volume du forfait est possible."),
            "R-CAT-10",
        )
    return _yes(_("Recharge disponible."), rule)


def allowed_topups(offer: Any, *, threshold_reached: bool = False) -> list[int]:
    """Volumes (bytes) of the top-ups allowed on ``offer``, ascending (``threshold_reached``: see
    ``topup_eligibility``; a compteur line below its threshold has none)."""
    o = OfferFacts.of(offer)
    volumes = COMPTEUR_TOPUP_VOLUMES if o.is_compteur else TOPUP_VOLUMES.get(topup_family(o.range) or "", ())
    return [v for v in volumes if topup_eligibility(o, v, threshold_reached=threshold_reached).allowed]


# --- roaming (R-OPT-4/5, R-ROA-3/4, R-CAT-5/6/8) ------------------------------------------------------------


def roaming_zones(offer: Any) -> list[ZoneDecision]:
    """Per zone, whether the line chooses a roaming cut-off/option at order, and between which kinds.

    Orange Illimité: Europe cut-off = the envelope (R-ROA-3); USA/Canada, Maghreb/Turquie, Reste du monde:
    a metered cut-off or a roaming option (R-OPT-5) — options only on voice + data plans (R-OPT-4).
    Orange Travel: France+Europe and USA/Canada are in the plan (R-CAT-4); Maghreb/Turquie and Reste du monde:
    cut-off or option (R-OPT-5). Bouygues Illimité: Europe and Monde cut-offs in euros (R-ROA-4).
    No roaming on Data only, M2M, Compteur Data (R-CAT-5/6/8); the seed gives no roaming choice for Compteur."""
    o = OfferFacts.of(offer)
    zones = _zones(o.network)
    if o.range in (DATA_ONLY, M2M, COMPTEUR_DATA):
        rule = {DATA_ONLY: "R-CAT-5", M2M: "R-CAT-6", COMPTEUR_DATA: "R-CAT-8"}[o.range]
        return [ZoneDecision(False, _("Pas d'itinérance sur cette gamme."), rule, zone=z) for z in zones]
    if o.range == COMPTEUR:
        reason = _("Le référentiel ne prévoit ni coupure ni option d'itinérance pour l'offre Compteur.")
        rule = "R-ROA-3" if o.network == ORANGE else "R-ROA-4"
        return [ZoneDecision(False, reason, rule, zone=z) for z in zones]
    if o.network == BOUYGUES:
        reason = _("Coupure data en euros (0, 50, 100 ou 200 €) choisie à la commande.")
        return [ZoneDecision(True, reason, "R-ROA-4", z, ("cutoff",), "eur") for z in zones]
    out: list[ZoneDecision] = []
    if o.range == TRAVEL:
        in_plan = _("Zone incluse dans le forfait Travel.")
        out.append(ZoneDecision(False, in_plan, "R-CAT-4", EUROPE))
        out.append(ZoneDecision(False, in_plan, "R-CAT-4", USA_CANADA))
        choose = _("Coupure au compteur, option roaming Data ou Voix + SMS + Data.")
        for z in (MAGHREB_TURQUIE, RESTE_DU_MONDE):
            out.append(ZoneDecision(True, choose, "R-OPT-5", z, ("cutoff", "option"), "bytes"))
        return out
    out.append(
        ZoneDecision(
            True,
            _("En Europe, la coupure data est l'enveloppe du forfait."),
            "R-ROA-3",
            EUROPE,
            ("cutoff",),
            "bytes",
        )
    )
    if o.data_bytes is None:
        reason, rule, kinds = (
            _(
                "Forfait sans data : coupure au compteur seulement (options roaming réservées aux forfaits voix + data)."
            ),
            "R-OPT-4",
            ("cutoff",),
        )
    else:
        reason, rule, kinds = _("Coupure au compteur ou option roaming."), "R-OPT-5", ("cutoff", "option")
    for z in (USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE):
        out.append(ZoneDecision(True, reason, rule, z, kinds, "bytes"))
    return out


def _zones(network: str) -> tuple[str, ...]:
    if network == BOUYGUES:
        return (EUROPE, MONDE)
    return (EUROPE, USA_CANADA, MAGHREB_TURQUIE, RESTE_DU_MONDE)


def roaming_choice_eligibility(offer: Any, choice: Any) -> Decision:
    """May the line pick ``choice`` (a ``RoamingChoice`` or ``RoamingChoiceFacts``) on ``offer``?"""
    o = OfferFacts.of(offer)
    c = RoamingChoiceFacts.of(choice)
    if c.network and c.network != o.network:
        return _no(_("Choix d'itinérance d'un autre réseau."), "R-CAT-1")
    zone = next((z for z in roaming_zones(o) if z.zone == c.zone), None)
    if zone is None:
        return _no(_("Zone inconnue pour ce réseau."), "R-CAT-1")
    if not zone.allowed:
        return Decision(False, zone.reason, zone.rule)
    if c.kind not in zone.kinds:
        return _no(_("Ce type de choix n'existe pas pour cette zone.") + " " + zone.reason, zone.rule)
    if o.network == ORANGE and c.zone == EUROPE:
        if c.limit != (o.data_bytes or 0):
            return _no(_("En Europe, la coupure Orange est l'enveloppe du forfait."), "R-ROA-3")
        return _yes(zone.reason, "R-ROA-3")
    if c.ranges and o.range not in c.ranges:
        rule = "R-OPT-5" if o.network == ORANGE else "R-ROA-4"
        return _no(_("Choix réservé à une autre gamme."), rule)
    return _yes(zone.reason, zone.rule)


def orange_europe_cutoff(offer: Any) -> RoamingChoiceFacts | None:
    """R-ROA-3: the Orange Europe cut-off of an Illimité plan equals its envelope (0 for a plan without data).

    Travel plans have no Europe cut-off: France + Europe is non-blocked in the plan (R-CAT-4)."""
    o = OfferFacts.of(offer)
    if o.network != ORANGE or o.range != ILLIMITE:
        return None
    return RoamingChoiceFacts(
        zone=EUROPE,
        kind="cutoff",
        limit=o.data_bytes or 0,
        unit="bytes",
        price_ht=None,
        network=ORANGE,
        ranges=(o.range,),
        code=f"{o.code}-europe-cutoff",
        derived=True,
    )


def roaming_choices(offer: Any, available: Iterable[Any] = ()) -> list[RoamingChoiceFacts]:
    """The roaming choices open to ``offer``: the derived Orange Europe cut-off (R-ROA-3) then, among
    ``available`` (``RoamingChoice`` rows of the catalog), those ``roaming_choice_eligibility`` allows."""
    o = OfferFacts.of(offer)
    out: list[RoamingChoiceFacts] = []
    europe = orange_europe_cutoff(o)
    if europe is not None:
        out.append(europe)
    for choice in available:
        c = RoamingChoiceFacts.of(choice)
        if roaming_choice_eligibility(o, c).allowed:
            out.append(c)
    return out


# --- offer changes (R-CON-1..3) -----------------------------------------------------------------------------


def offer_change(offer_from: Any, offer_to: Any) -> ChangeDecision:
    """May a line move from ``offer_from`` to ``offer_to``? Kind upgrade/downgrade (R-CON-1) or migration
    blocked ⇄ non-blocked (R-CON-2); refused across ranges, plan → compteur, Travel → Illimité (R-CON-3)."""
    a, b = OfferFacts.of(offer_from), OfferFacts.of(offer_to)
    if a.code == b.code:
        return ChangeDecision(False, _("C'est déjà l'offre de la ligne."), "R-CON-1")
    if a.network != b.network:
        return ChangeDecision(
            False, _("Changement de réseau impossible : c'est une nouvelle ligne."), "R-CAT-1"
        )
    if not b.active:
        return ChangeDecision(False, _("L'offre cible n'est plus commercialisée."), "R-CON-1")
    if a.is_plan and b.is_compteur:
        return ChangeDecision(False, _("Passage d'un forfait à une offre compteur refusé."), "R-CON-3")
    if a.range == TRAVEL and b.range == ILLIMITE:
        return ChangeDecision(
            False, _("Passage d'un forfait Travel à un forfait Illimité classique refusé."), "R-CON-3"
        )
    if a.range != b.range:
        return ChangeDecision(False, _("Changement de gamme refusé (ex. Data only → Illimité)."), "R-CON-3")
    if a.is_compteur:
        return ChangeDecision(False, _("Une seule offre compteur par réseau : rien à changer."), "R-CON-3")
    if a.blocked is not None and b.blocked is not None and a.blocked != b.blocked:
        return ChangeDecision(
            True,
            _("Migration bloqué ⇄ non bloqué, effective le 1er du mois suivant."),
            "R-CON-2",
            kind="migration",
        )
    if (b.data_bytes or 0) > (a.data_bytes or 0):
        return ChangeDecision(True, _("Upgrade, effectif le 1er du mois suivant."), "R-CON-1", kind="upgrade")
    return ChangeDecision(True, _("Downgrade, effectif le 1er du mois suivant."), "R-CON-1", kind="downgrade")


def allowed_offer_changes(offer: Any, candidates: Iterable[Any]) -> list[str]:
    """Codes among ``candidates`` that ``offer`` may change to (order kept)."""
    return [OfferFacts.of(c).code for c in candidates if offer_change(offer, c).allowed]


def first_of_next_month(now: dt.datetime) -> dt.datetime:
    """The 1st of the month after ``now`` (read in Europe/Paris), 00:00 Europe/Paris, aware."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local = now.astimezone(PARIS)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return dt.datetime(year, month, 1, tzinfo=PARIS)


def offer_change_effective_at(now: dt.datetime) -> dt.datetime:
    """R-CON-1/R-CON-2: an upgrade, downgrade or migration takes effect on the 1st of next month, 00:00 Paris."""
    return first_of_next_month(now)


# --- R-ROA-1: what unlimited plans include in roaming and towards international --------------------------------
#
# The table itself is data: the ``roaming_inclusions`` section of ``catalog/data/catalog.json`` (one row per
# situation × usage × origin × destination, with ``included``/``metered`` per network). These functions check it
# (the loader refuses a malformed table) and answer from it.

INCLUDED = "included"
METERED = "metered"
NOT_APPLICABLE = "not_applicable"
INCLUSION_STATUSES = (INCLUDED, METERED)
ROAMING = "roaming"  # the user is abroad
INTERNATIONAL = "international"  # the user is in France and calls/texts abroad
INCLUSION_SITUATIONS = (ROAMING, INTERNATIONAL)
INCLUSION_USAGES = ("data", "calls_out", "calls_in", "sms_out", "sms_in", "mms")
INCLUSION_PLACES = ("france", "zone1_1b", "zone1", "other", "any")
INCLUSION_NETWORKS = (ORANGE, BOUYGUES)

# Labels are marked for translation here and translated when shown (``_()`` at call time).

SITUATION_LABELS = {
    ROAMING: gettext_noop("En itinérance (à l'étranger)"),
    INTERNATIONAL: gettext_noop("Depuis la France vers l'international"),
}
USAGE_LABELS = {
    "data": gettext_noop("Data"),
    "calls_out": gettext_noop("Appels émis"),
    "calls_in": gettext_noop("Appels reçus"),
    "sms_out": gettext_noop("SMS émis"),
    "sms_in": gettext_noop("SMS reçus"),
    "mms": gettext_noop("MMS (émis et reçus)"),
}
PLACE_LABELS = {
    "france": gettext_noop("France"),
    "zone1_1b": gettext_noop("Zone 1/1B (UE/EEE)"),
    "zone1": gettext_noop("Zone 1 uniquement"),
    "other": gettext_noop("Autres zones"),
    "any": gettext_noop("Toutes les zones"),
}
STATUS_LABELS = {
    INCLUDED: gettext_noop("Inclus"),
    METERED: gettext_noop("Compteur"),
    NOT_APPLICABLE: gettext_noop("Sans objet"),
}


@dataclass(frozen=True)
class RoamingInclusion:
    """One row of the R-ROA-1 table: for a situation, a usage, where from and where to, what each network does."""

    situation: str
    usage: str
    origin: str
    destination: str | None
    statuses: tuple[tuple[str, str], ...]  # ((network, included|metered), …)

    def status(self, network: str) -> str:
        return dict(self.statuses)[network]

    @property
    def situation_label(self) -> str:
        return _(SITUATION_LABELS[self.situation])

    @property
    def usage_label(self) -> str:
        return _(USAGE_LABELS[self.usage])

    @property
    def origin_label(self) -> str:
        return _(PLACE_LABELS[self.origin])

    @property
    def destination_label(self) -> str:
        return _(PLACE_LABELS[self.destination]) if self.destination else "—"


@dataclass(frozen=True)
class InclusionTable:
    """The R-ROA-1 table: which ranges it describes (unlimited plans) and its rows, in file order."""

    ranges: tuple[str, ...]
    rows: tuple[RoamingInclusion, ...]
    rule: str = "R-ROA-1"


@dataclass(frozen=True)
class InclusionLine:
    """An R-ROA-1 row as it applies to one offer: ``status`` for the offer's network (``not_applicable`` for
    data on a plan without data), ``statuses`` per network for comparison."""

    row: RoamingInclusion
    network: str
    status: str
    rule: str = "R-ROA-1"

    @property
    def included(self) -> bool:
        return self.status == INCLUDED

    @property
    def status_label(self) -> str:
        return _(STATUS_LABELS[self.status])

    @property
    def per_network(self) -> list[tuple[str, str, str]]:
        """[(network, status, label), …] in the order of ``INCLUSION_NETWORKS``."""
        return [(n, s, _(STATUS_LABELS[s])) for n, s in self.row.statuses]


def roaming_inclusion_errors(section: Any) -> list[str]:
    """Every problem of the ``roaming_inclusions`` section of the data file (empty when it is loadable)."""
    if not isinstance(section, dict):
        return ["roaming_inclusions : objet attendu"]
    errors: list[str] = []
    if section.get("rule", "R-ROA-1") != "R-ROA-1":
        errors.append("roaming_inclusions : rule doit valoir « R-ROA-1 »")
    ranges = section.get("ranges")
    if not isinstance(ranges, list) or not ranges or not set(ranges) <= PLAN_RANGES | COMPTEUR_RANGES:
        errors.append("roaming_inclusions : ranges doit lister des gammes connues")
    rows = section.get("rows")
    if not isinstance(rows, list) or not rows:
        return [*errors, "roaming_inclusions : rows doit être une liste non vide"]
    seen: set[tuple] = set()
    for i, row in enumerate(rows):
        where = f"roaming_inclusions.rows[{i}]"
        if not isinstance(row, dict):
            errors.append(f"{where} : objet attendu")
            continue
        situation, usage, origin, to = row.get("situation"), row.get("usage"), row.get("from"), row.get("to")
        if situation not in INCLUSION_SITUATIONS:
            errors.append(f"{where} : situation={situation!r} inconnue")
        if usage not in INCLUSION_USAGES:
            errors.append(f"{where} : usage={usage!r} inconnu")
        if origin not in INCLUSION_PLACES:
            errors.append(f"{where} : from={origin!r} inconnu")
        if to is not None and to not in INCLUSION_PLACES:
            errors.append(f"{where} : to={to!r} inconnu")
        if situation == INTERNATIONAL and origin != "france":
            errors.append(f"{where} : l'international part de France (from=france)")
        if situation == ROAMING and origin == "france":
            errors.append(f"{where} : l'itinérance ne part pas de France")
        for network in INCLUSION_NETWORKS:
            if row.get(network) not in INCLUSION_STATUSES:
                errors.append(f"{where} : {network}={row.get(network)!r} (included ou metered attendu)")
        key = (situation, usage, origin, to)
        if key in seen:
            errors.append(f"{where} : doublon {key}")
        seen.add(key)
    return errors


def roaming_inclusion_table(section: Any) -> InclusionTable:
    """The R-ROA-1 table from the data file's ``roaming_inclusions`` section; ``ValueError`` when malformed."""
    errors = roaming_inclusion_errors(section)
    if errors:
        raise ValueError("; ".join(errors))
    return InclusionTable(
        ranges=tuple(section["ranges"]),
        rule=section.get("rule", "R-ROA-1"),
        rows=tuple(
            RoamingInclusion(
                situation=row["situation"],
                usage=row["usage"],
                origin=row["from"],
                destination=row.get("to"),
                statuses=tuple((n, row[n]) for n in INCLUSION_NETWORKS),
            )
            for row in section["rows"]
        ),
    )


def roaming_inclusions(offer: Any, table: InclusionTable | None) -> list[InclusionLine]:
    """R-ROA-1: the "inclus / compteur" matrix that applies to ``offer`` (empty when the table does not
    describe its range: only unlimited plans have one). Data rows are "sans objet" on a plan without data."""
    o = OfferFacts.of(offer)
    if table is None or o.range not in table.ranges:
        return []
    no_data = o.data_bytes is None
    return [
        InclusionLine(
            row=row,
            network=o.network,
            status=NOT_APPLICABLE if (no_data and row.usage == "data") else row.status(o.network),
            rule=table.rule,
        )
        for row in table.rows
    ]


def roaming_usage_status(
    table: InclusionTable,
    *,
    network: str,
    situation: str,
    usage: str,
    origin: str,
    destination: str | None = None,
) -> str | None:
    """R-ROA-1: ``included`` or ``metered`` for one usage on an unlimited plan of ``network``; None when the
    table has no such row. A row with destination ``any`` answers for every destination."""
    for row in table.rows:
        if (row.situation, row.usage, row.origin) != (situation, usage, origin):
            continue
        if row.destination in (destination, "any"):
            return row.status(network)
    return None


# --- R-ROA-2: blocking calls, SMS and MMS in roaming and towards international ----------------------------------

# R-OPT-7 options through which a live Bouygues contract blocks international / EEA usages.
INTERNATIONAL_BLOCKING_OPTIONS = (
    "international_voice_block",
    "france_to_eea_block",
    "eea_to_international_block",
)


@dataclass(frozen=True)
class BlockingDecision(Decision):
    """``international_blocking`` answer: ``at_order`` when the line can be ordered with international calls
    blocked, ``options`` the R-OPT-7 option codes that block usages on a live contract."""

    at_order: bool = False
    options: tuple[str, ...] = ()


def international_blocking(network: str) -> BlockingDecision:
    """R-ROA-2: Orange — calls, SMS and MMS in roaming and towards international cannot be blocked.
    Bouygues — international calls can be blocked at order, then through the R-OPT-7 blocking options."""
    if network == ORANGE:
        return BlockingDecision(
            False,
            _(
                "Orange : les appels, SMS et MMS en itinérance et vers l'international ne peuvent pas être "
                "bloqués."
            ),
            "R-ROA-2",
        )
    if network == BOUYGUES:
        return BlockingDecision(
            True,
            _(
                "Bouygues : les appels vers l'international peuvent être bloqués à la commande, puis en "
                "ajoutant au contrat les options de blocage (R-OPT-7)."
            ),
            "R-ROA-2",
            at_order=True,
            options=INTERNATIONAL_BLOCKING_OPTIONS,
        )
    return BlockingDecision(False, _("Réseau inconnu."), "R-CAT-1")
