"""Reads of the usage domain for the doors: month totals and the consumption journal (R-SC-5, R-ORD-6).

Scoping. These selectors operate on a contract **the caller already fetched through a scoped selector** —
``contracts.selectors.contract_get_for_partner_or_404(partner, id)`` in the back-office and the API, the
client-scoped equivalent in the self-care — so the contract argument says who looks: holding it proves the
caller may see it. They never take a bare contract id. Every query is still filtered on the contract's own
partner as well as its id (STYLE 13: belt and braces against a contract object built by hand).

Partitions. ``usage_cdr`` is partitioned by month of ``event_at``; every journal query is bounded on
``event_at`` (the partition key, so PostgreSQL prunes the partitions outside the window) and on ``contract_id``
(index ``usage_cdr_contract_time_idx (contract_id, event_at)``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from catalog.labels import zone_label as catalog_zone_label
from catalog.models import Zone
from contracts import selectors as contract_selectors
from contracts.models import Contract
from contracts.rules import msisdn_from_any
from core.clock import PARIS, add_months, month_bounds, month_start

from .models import Category, Cdr, Metric, Service, UsageCounter, UsageZone

#: R-SC-5 « journal des consommations des 3 derniers mois »: the current month and the two before.
JOURNAL_MONTHS = 3

#: The journal tabs (R-SC-5: Toutes / Voix / Voix SVA / SMS & MMS / Data) → the ``Cdr.category`` they show.
TAB_ALL = "all"
TABS: dict[str, str | None] = {
    TAB_ALL: None,
    Category.VOICE: Category.VOICE,
    Category.VOICE_SVA: Category.VOICE_SVA,
    Category.SMS_MMS: Category.SMS_MMS,
    Category.DATA: Category.DATA,
}

_DIGITS = re.compile(r"\D")
_COUNTRY = re.compile(r"^[A-Za-z]{3}$")


def journal_months(now: dt.datetime | None = None) -> list[dt.date]:
    """R-SC-5: the months the journal and the month totals cover — the current Europe/Paris month first, then
    the two before (``date`` = the 1st of the month)."""
    current = month_start(now)
    return [add_months(current, -i) for i in range(JOURNAL_MONTHS)]


# --------------------------------------------------------------------------------------------------------
# Month totals (R-SC-5)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoamingTotal:
    """Data used in one roaming zone in the month (bytes) and its out-of-plan part and amount HT."""

    zone: str
    quantity: int = 0
    oop_quantity: int = 0
    amount_ht: Decimal = Decimal("0")
    #: Out-of-plan bytes with no rate in the catalog yet (« à tarifer »).
    unpriced_quantity: int = 0

    @property
    def zone_label(self) -> str:
        """« USA/Canada », « Europe », « Monde »… (usage zones, or the Bouygues cut-off zones of R-ROA-4)."""
        if self.zone in UsageZone.values:
            return str(UsageZone(self.zone).label)
        return catalog_zone_label(self.zone)


@dataclass(frozen=True)
class UsageTotals:
    """R-SC-5 « Totaux des consommations » of one contract for one month.

    Data volumes are bytes, durations seconds, SMS/MMS events; amounts are Decimal euros HT."""

    month: dt.date
    #: Data France + Europe used (metric ``data``, every zone: ``""`` and Bouygues' ``europe``).
    data_used: int = 0
    #: The plan's data envelope; ``None`` for an offer with no data envelope (sans data, compteur).
    data_envelope: int | None = None
    #: Top-up volume bought for the month (« Recharge »).
    data_topup: int = 0
    #: The part of the data used beyond the envelope taken out of the top-ups: min(max(used - envelope, 0), top-up).
    data_topup_used: int = 0
    #: Data out of plan: France + Europe and roaming (metrics ``data`` and ``roaming_data``).
    data_oop: int = 0
    roaming: tuple[RoamingTotal, ...] = ()
    voice_used: int = 0
    voice_oop: int = 0
    #: Premium-rate numbers (SVA): seconds not billable / billed.
    premium_not_billable: int = 0
    premium_billed: int = 0
    sms_mms_used: int = 0
    sms_mms_oop: int = 0
    #: Every out-of-plan amount of the month, HT.
    amount_ht: Decimal = Decimal("0")
    #: Quantity out of plan with no price in the catalog yet (« à tarifer »).
    unpriced_quantity: int = 0

    @property
    def unpriced(self) -> bool:
        return self.unpriced_quantity > 0


def _topup_volume(contract: Contract, month: dt.date) -> int:
    """Top-up volume confirmed for ``month`` (« Recharge »), read from the contracts domain (one query)."""
    return contract_selectors.topup_volume_for_month([contract.pk], month).get(contract.pk, 0)


def contract_usage_totals(contract: Contract, month: dt.date | None = None) -> UsageTotals:
    """R-SC-5 month totals of a contract (default: the current month), from its ``UsageCounter`` rows in one
    query, plus one for the top-ups confirmed that month (``contracts.selectors.topup_volume_for_month``).
    ``contract`` must come from a scoped selector (module docstring)."""
    month = month_start(month)
    rows = UsageCounter.objects.filter(
        partner_id=contract.partner_id, contract_id=contract.pk, month=month
    ).values_list("metric", "zone", "quantity", "oop_quantity", "amount_ht", "unpriced_quantity")

    data_used = data_oop = voice_used = voice_oop = sva_used = sva_oop = sms_used = sms_oop = unpriced = 0
    amount = Decimal("0")
    roaming: dict[str, RoamingTotal] = {}
    for metric, zone, quantity, oop, amount_ht, unpriced_quantity in rows:
        amount += amount_ht or 0
        unpriced += unpriced_quantity or 0
        if metric == Metric.DATA:
            # The envelope's data: France and Europe — zone "" and, for Bouygues, zone « europe » (kept apart
            # to be valued against the Europe cut-off in euros, R-ROA-4).
            data_used += quantity
            data_oop += oop
        elif metric == Metric.ROAMING_DATA:
            data_oop += oop
            previous = roaming.get(zone) or RoamingTotal(zone=zone)
            roaming[zone] = RoamingTotal(
                zone=zone,
                quantity=previous.quantity + quantity,
                oop_quantity=previous.oop_quantity + oop,
                amount_ht=previous.amount_ht + (amount_ht or 0),
                unpriced_quantity=previous.unpriced_quantity + (unpriced_quantity or 0),
            )
        elif metric == Metric.VOICE:
            voice_used += quantity
            voice_oop += oop
        elif metric == Metric.VOICE_SVA:
            sva_used += quantity
            sva_oop += oop
        elif metric == Metric.SMS_MMS:
            sms_used += quantity
            sms_oop += oop

    envelope = contract.offer.data_bytes
    topup = _topup_volume(contract, month)
    topup_used = min(max(data_used - envelope, 0), topup) if envelope is not None else 0
    zone_order = {z: i for i, z in enumerate(dict.fromkeys([*UsageZone.values, *Zone.values]))}
    return UsageTotals(
        month=month,
        data_used=data_used,
        data_envelope=envelope,
        data_topup=topup,
        data_topup_used=topup_used,
        data_oop=data_oop,
        roaming=tuple(sorted(roaming.values(), key=lambda r: (zone_order.get(r.zone, 99), r.zone))),
        voice_used=voice_used,
        voice_oop=voice_oop,
        premium_not_billable=sva_used - sva_oop,
        premium_billed=sva_oop,
        sms_mms_used=sms_used,
        sms_mms_oop=sms_oop,
        amount_ht=amount,
        unpriced_quantity=unpriced,
    )


# --------------------------------------------------------------------------------------------------------
# The consumption journal (R-SC-5)
# --------------------------------------------------------------------------------------------------------


def number_search_digits(value: str | None) -> str:
    """The digits a « N° appelé » search looks for: the platform's national form first (``+33 6 12 34`` and
    ``0033612…`` → ``0612…``, ``33612345678`` → ``0612345678``), then digits only (``+34 911`` → ``34911``)."""
    value = (value or "").strip()
    if not value:
        return ""
    return _DIGITS.sub("", msisdn_from_any(value))


def _paris_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=PARIS)


def journal_window(
    months: Sequence[dt.date] | None = None,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the journal: the months shown (default :func:`journal_months`), narrowed by the
    inclusive Europe/Paris days ``date_from``/``date_to``. ``start >= end`` means nothing to show."""
    months = sorted(month_start(m) for m in (months or journal_months()))
    start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    if date_from is not None:
        start = max(start, _paris_midnight(date_from))
    if date_to is not None:
        end = min(end, _paris_midnight(date_to + dt.timedelta(days=1)))
    return start, end


def contract_consumptions(
    contract: Contract,
    *,
    tab: str = TAB_ALL,
    number: str = "",
    label: str = "",
    destination: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    out_of_plan: bool | None = None,
    months: Iterable[dt.date] | None = None,
) -> QuerySet[Cdr]:
    """R-SC-5 consumption journal of a contract: its records of the last 3 months (``months``, default
    :func:`journal_months`), newest first (``-event_at, -id``). ``contract`` must come from a scoped
    selector (module docstring).

    - ``tab``: ``all`` | ``voice`` | ``voice_sva`` | ``sms_mms`` | ``data`` (``Cdr.category``). Data records
      show only when out of plan (R-SC-5 « Data : hors forfait uniquement »), in the Data tab and in « Toutes »
      alike: the journal lists what the plan did not cover, never every data session.
    - ``number``: the called number contains these digits (:func:`number_search_digits`).
    - ``label``: the « Désignation » contains this text (case-insensitive).
    - ``destination``: a zone (``france``, ``zone1``, ``usa_canada``, ``maghreb_turquie``, ``reste_du_monde``)
      — where a call or message went, or where data was used — or an ISO 3166 alpha-3 country (``ESP``).
    - ``date_from``/``date_to``: inclusive Europe/Paris days.
    - ``out_of_plan``: ``True`` only out of plan, ``False`` only within the plan, ``None`` both.

    An unknown ``tab`` raises ``ValueError`` (the doors validate it first)."""
    if tab not in TABS:
        raise ValueError(f"unknown journal tab {tab!r}")
    start, end = journal_window(
        list(months) if months is not None else None, date_from=date_from, date_to=date_to
    )
    qs = Cdr.objects.filter(
        contract_id=contract.pk, partner_id=contract.partner_id, event_at__gte=start, event_at__lt=end
    )
    if start >= end:
        return qs.none()
    category = TABS[tab]
    if category is not None:
        qs = qs.filter(category=category)
    # R-SC-5: data shows only its out-of-plan usage.
    qs = qs.exclude(category=Category.DATA, oop_quantity=0)
    number = (number or "").strip()
    if number:
        digits = number_search_digits(number)
        qs = qs.filter(destination__contains=digits) if digits else qs.filter(destination__icontains=number)
    label = (label or "").strip()
    if label:
        qs = qs.filter(label__icontains=label)
    destination = (destination or "").strip()
    if destination:
        if destination in UsageZone.values:
            qs = qs.filter(
                Q(dest_zone=destination) | Q(service=Service.DATA, dest_zone="", usage_zone=destination)
            )
        elif _COUNTRY.match(destination):
            qs = qs.filter(country=destination.upper())
        else:
            qs = qs.none()
    if out_of_plan is True:
        qs = qs.filter(oop_quantity__gt=0)
    elif out_of_plan is False:
        qs = qs.filter(oop_quantity=0)
    return qs.order_by("-event_at", "-id")
