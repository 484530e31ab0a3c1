"""Catalog browser (issue 2 item 5): offers by network and range with prices ("à définir" when unknown), and one
offer with what it allows and why the rest is refused — every answer comes from ``catalog.rules`` with its rule id.
"""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from catalog import rules
from catalog.models import Range, Zone
from catalog.selectors import (
    CatalogIndex,
    catalog_current_version,
    offer_get,
    offer_list,
    offer_roaming_inclusions,
    partner_is_init_sys,
)
from core.money import format_bytes
from core.networks import Network

from .access import partner_required


@require_GET
@partner_required
def catalog_index_view(request: HttpRequest) -> HttpResponse:
    network = request.GET.get("network") or Network.ORANGE
    if network not in Network.values:
        network = Network.ORANGE
    range_ = request.GET.get("range") or ""
    if range_ not in Range.values:
        range_ = ""
    offers = list(offer_list(network=network, range_=range_ or None))
    labels = dict(Range.choices)
    groups = [
        {"range": key, "label": labels[key], "offers": list(items)}
        for key, items in groupby(
            sorted(offers, key=lambda o: (list(labels).index(o.range), o.sort_order)), key=lambda o: o.range
        )
    ]
    context = {
        "networks": Network.choices,
        "ranges": Range.choices,
        "network": network,
        "range": range_,
        "groups": groups,
        "version": catalog_current_version(),
    }
    template = "backoffice/catalog/index.html"
    if getattr(request, "htmx", False):
        template += "#offers"
    return render(request, template, context)


def _limit_display(choice: rules.RoamingChoiceFacts) -> str:
    if choice.unit == "eur":
        return f"{choice.limit} €"
    return format_bytes(choice.limit) if choice.limit else "0 Mo"


@require_GET
@partner_required
def catalog_offer_view(request: HttpRequest, code: str) -> HttpResponse:
    offer = offer_get(code=code)
    init_sys = partner_is_init_sys(request.staff_partner)
    index = CatalogIndex()
    roaming_by_zone: dict[str, list] = {}
    for choice in index.roaming_choices(offer):
        roaming_by_zone.setdefault(choice.zone, []).append(choice)
    zone_labels = dict(Zone.choices)
    zones = [
        {
            "decision": z,
            "label": zone_labels[z.zone],
            "choices": [{"facts": c, "limit": _limit_display(c)} for c in roaming_by_zone.get(z.zone, [])],
        }
        for z in rules.roaming_zones(offer)
    ]
    option_verdicts = index.option_verdicts(offer, partner_is_init_sys=init_sys)
    context = {
        "offer": offer,
        "envelope": format_bytes(offer.data_bytes) if offer.data_bytes else None,
        "partner_is_init_sys": init_sys,
        "option_verdicts": option_verdicts,
        "topup_verdicts": [
            {"verdict": v, "volume": format_bytes(v.item.data_bytes)} for v in index.topup_verdicts(offer)
        ],
        "topup_refusal": None if rules.topup_family(offer.range) else rules.topup_eligibility(offer, 0),
        "five_g": rules.five_g(offer),
        "esim": rules.esim_eligibility(offer.network),
        "zones": zones,
        "change_verdicts": index.change_verdicts(offer),
        "change_effective_at": rules.offer_change_effective_at(timezone.now()),
        # R-ROA-1 "inclus / compteur" matrix (unlimited plans) and R-ROA-2 blocking (offers with calls/SMS)
        "roaming_inclusions": offer_roaming_inclusions(offer),
        "networks": Network.choices,
        "international_blocking": (
            rules.international_blocking(offer.network) if offer.range in rules.VOICE_RANGES else None
        ),
        "blocking_option_verdicts": [
            v for v in option_verdicts if v.item.code in rules.INTERNATIONAL_BLOCKING_OPTIONS
        ],
    }
    return render(request, "backoffice/catalog/offer.html", context)
