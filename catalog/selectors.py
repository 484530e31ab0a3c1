"""Reads on the catalog, joined with the eligibility rules of ``catalog/rules.py``.

The catalog is shared by every partner (not tenant-owned); what depends on the partner is only whether it is
flagged *Init Sys* (partner-platform delivery, R-OPT-3): pass ``partner_is_init_sys``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import QuerySet
from django.http import Http404

from . import rules
from .loader import DATA_FILE, read_catalog_file
from .models import CatalogVersion, Offer, Option, RoamingChoice, Topup


def offer_list(
    *, network: str | None = None, range_: str | None = None, active: bool | None = True
) -> QuerySet:
    qs = Offer.objects.all()
    if network:
        qs = qs.filter(network=network)
    if range_:
        qs = qs.filter(range=range_)
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("network", "sort_order", "code")


def offer_get(*, code: str, active_only: bool = True) -> Offer:
    """The offer with ``code``; 404 when unknown (or inactive when ``active_only``)."""
    qs = Offer.objects.filter(code=code)
    if active_only:
        qs = qs.filter(active=True)
    offer = qs.first()
    if offer is None:
        raise Http404("offre inconnue")
    return offer


def option_get(*, network: str, code: str) -> Option:
    option = Option.objects.filter(network=network, code=code, active=True).first()
    if option is None:
        raise Http404("option inconnue")
    return option


def catalog_current_version() -> CatalogVersion | None:
    return CatalogVersion.objects.order_by("-loaded_at", "-id").first()


def partner_is_init_sys(partner) -> bool:
    return bool(partner is not None and getattr(partner, "is_init_sys", False))


@dataclass(frozen=True)
class Verdict:
    """A catalog row and the rule's decision about it, for pages that show what is allowed and why not."""

    item: object
    decision: rules.Decision


class CatalogIndex:
    """Every active option, top-up, roaming choice and offer, loaded once (4 queries), to answer for many offers
    without N+1 (export, API list, catalog browser)."""

    def __init__(self) -> None:
        self.options: dict[str, list[Option]] = defaultdict(list)
        for o in Option.objects.filter(active=True).order_by("sort_order", "code"):
            self.options[o.network].append(o)
        self.topups: dict[tuple[str, str], list[Topup]] = defaultdict(list)
        for t in Topup.objects.filter(active=True).order_by("data_bytes"):
            self.topups[(t.network, t.family)].append(t)
        self.roaming: dict[str, list[RoamingChoice]] = defaultdict(list)
        for r in RoamingChoice.objects.filter(active=True).order_by("zone", "sort_order", "code"):
            self.roaming[r.network].append(r)
        self.offers: dict[str, list[Offer]] = defaultdict(list)
        for o in Offer.objects.filter(active=True).order_by("sort_order", "code"):
            self.offers[o.network].append(o)

    # options (R-OPT-1..7, R-CAT-9)
    def option_verdicts(self, offer: Offer, *, partner_is_init_sys: bool) -> list[Verdict]:
        return [
            Verdict(o, rules.option_eligibility(offer, o.code, partner_is_init_sys))
            for o in self.options[offer.network]
        ]

    def allowed_options(self, offer: Offer, *, partner_is_init_sys: bool) -> list[Option]:
        return [
            v.item for v in self.option_verdicts(offer, partner_is_init_sys=partner_is_init_sys) if v.decision
        ]

    # top-ups (R-CAT-10, R-CAT-6, R-CAT-4)
    def topup_verdicts(self, offer: Offer) -> list[Verdict]:
        family = rules.topup_family(offer.range)
        if family is None:
            return []
        return [
            Verdict(t, rules.topup_eligibility(offer, t.data_bytes))
            for t in self.topups[(offer.network, family)]
        ]

    def allowed_topups(self, offer: Offer) -> list[Topup]:
        return [v.item for v in self.topup_verdicts(offer) if v.decision]

    # roaming (R-OPT-4/5, R-ROA-3/4)
    def roaming_choices(self, offer: Offer) -> list[rules.RoamingChoiceFacts]:
        return rules.roaming_choices(offer, self.roaming[offer.network])

    # offer changes (R-CON-1..3)
    def change_verdicts(self, offer: Offer) -> list[Verdict]:
        return [
            Verdict(o, rules.offer_change(offer, o))
            for o in self.offers[offer.network]
            if o.code != offer.code
        ]

    def change_targets(self, offer: Offer) -> list[Offer]:
        return [v.item for v in self.change_verdicts(offer) if v.decision]

    def export(self, offer: Offer, *, partner_is_init_sys: bool = True) -> dict:
        """The JSON shape of ``export_catalog`` and of the API (issue 2 item 3)."""
        return {
            "code": offer.code,
            "network": offer.network,
            "range": offer.range,
            "data_bytes": offer.data_bytes,
            "blocked": offer.blocked,
            "monthly_price_ht": None if offer.monthly_price_ht is None else str(offer.monthly_price_ht),
            "five_g_included": offer.five_g_included,
            "topups": [t.data_bytes for t in self.allowed_topups(offer)],
            "options": [o.code for o in self.allowed_options(offer, partner_is_init_sys=partner_is_init_sys)],
            "roaming_choices": [c.as_export() for c in self.roaming_choices(offer)],
            "offer_changes": [o.code for o in self.change_targets(offer)],
        }


def catalog_export(*, partner_is_init_sys: bool = True) -> list[dict]:
    """Every active offer in export shape. By default options are those an *Init Sys* partner may order (the
    whole catalog); pass ``partner_is_init_sys=False`` for an ordinary partner."""
    index = CatalogIndex()
    return [index.export(o, partner_is_init_sys=partner_is_init_sys) for o in offer_list()]


# Single-offer helpers for other apps (contracts, selfcare): each builds what it needs.


def offer_allowed_options(offer: Offer, *, partner_is_init_sys: bool = False) -> list[Option]:
    return [
        o
        for o in Option.objects.filter(network=offer.network, active=True).order_by("sort_order", "code")
        if rules.option_eligibility(offer, o.code, partner_is_init_sys).allowed
    ]


def offer_allowed_topups(offer: Offer) -> list[Topup]:
    family = rules.topup_family(offer.range)
    if family is None:
        return []
    qs = Topup.objects.filter(network=offer.network, family=family, active=True).order_by("data_bytes")
    return [t for t in qs if rules.topup_eligibility(offer, t.data_bytes).allowed]


def offer_roaming_choices(offer: Offer) -> list[rules.RoamingChoiceFacts]:
    return rules.roaming_choices(offer, RoamingChoice.objects.filter(network=offer.network, active=True))


def offer_change_targets(offer: Offer) -> list[Offer]:
    qs = offer_list(network=offer.network).exclude(code=offer.code)
    return [o for o in qs if rules.offer_change(offer, o).allowed]


# R-ROA-1: the "inclus / compteur" table of unlimited plans. It is reference data with no price, so it is not
# copied into the database: it is read from the versioned data file (checked by the loader) and cached until
# the file changes.


def roaming_inclusion_table(path=None) -> rules.InclusionTable | None:
    """The R-ROA-1 table of the catalog data file, or None when the file has none."""
    path = str(path or DATA_FILE)
    return _roaming_inclusion_table_cached(path, os.stat(path).st_mtime_ns)


@lru_cache(maxsize=4)
def _roaming_inclusion_table_cached(path: str, mtime_ns: int) -> rules.InclusionTable | None:
    data, _checksum = read_catalog_file(path)
    section = data.get("roaming_inclusions")
    return None if section is None else rules.roaming_inclusion_table(section)


def offer_roaming_inclusions(offer: Offer) -> list[rules.InclusionLine]:
    """R-ROA-1 for one offer (empty unless the table describes its range)."""
    return rules.roaming_inclusions(offer, roaming_inclusion_table())
