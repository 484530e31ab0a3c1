"""French display of usage quantities (R-SC-5 month totals and consumption journal), pure functions shared by the
back-office and the self-care: seconds as ``HH:MM:SS``, bytes in French units (Mo, Go), SMS/MMS in « unité(s) »,
amounts HT in euros with a decimal comma, « à tarifer » when the catalog has no price yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from contracts.rules import msisdn_display
from core.clock import paris
from core.money import GB, MB, TB, format_bytes

from .models import Cdr, Service, UsageZone


def format_duration(seconds: int | None) -> str:
    """``3725`` → ``01:02:05``; hours go beyond 24 (``90000`` → ``25:00:00``)."""
    seconds = max(int(seconds or 0), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def format_volume(value: int | None) -> str:
    """A consumed volume in its largest French unit: ``0 Mo``, ``500 Mo``, ``10 Go``, ``2,40 Go`` (where
    ``core.money.format_bytes``, made for catalog volumes, would say ``2400 Mo``)."""
    if value is None:
        return "—"
    if not value:
        return "0 Mo"
    for unit, size in (("To", TB), ("Go", GB), ("Mo", MB)):
        if value >= size:
            if value % size == 0:
                return format_bytes(value)
            return f"{value / size:.2f}".replace(".", ",") + f" {unit}"
    return format_bytes(value)


def format_units(count: int | None) -> str:
    """SMS/MMS events: ``0 unité``, ``1 unité``, ``3 unités`` (French: singular up to 1)."""
    count = int(count or 0)
    return (_("%(n)s unité") if count <= 1 else _("%(n)s unités")) % {"n": formats.number_format(count)}


def format_amount(amount: Decimal | None) -> str:
    """``Decimal("0.8000")`` → ``0,80 €``; sub-cent rates keep their digits (``0,0125 €``)."""
    if amount is None:
        return "—"
    value = Decimal(amount).quantize(Decimal("0.0001"))
    places = min(4, max(2, -int(value.normalize().as_tuple().exponent)))
    return f"{value:.{places}f}".replace(".", ",") + " €"


def format_month(month: dt.date) -> str:
    """``2024-02-01`` → ``Février 2024`` (the month selector of the totals)."""
    text = formats.date_format(month, "F Y")
    return text[:1].upper() + text[1:]


def zone_label(zone: str) -> str:
    return str(UsageZone(zone).label) if zone in UsageZone.values else ""


def quantity_display(service: str, quantity: int | None) -> str:
    """A record's or counter's quantity in its unit: voice seconds, data bytes, SMS/MMS events."""
    if service == Service.VOICE:
        return format_duration(quantity)
    if service == Service.DATA:
        return format_volume(quantity)
    return format_units(quantity)


def quantity_unit(service: str) -> str:
    """The unit of a record's quantities (API): ``seconds``, ``bytes`` or ``count``."""
    return {Service.VOICE: "seconds", Service.DATA: "bytes"}.get(service, "count")


@dataclass(frozen=True)
class JournalRow:
    """One line of the consumption journal as shown (« N° appelé | Désignation | Destination | Date | Quantité |
    Hors forfait | Montant HT »). Never carries the record's rule id or any internal code."""

    number: str
    label: str
    destination: str
    at: dt.datetime
    quantity: str
    out_of_plan: bool
    out_of_plan_quantity: str
    amount: str
    unpriced: bool


def journal_row(cdr: Cdr) -> JournalRow:
    # Data has no called party: its destination is where it was used.
    zone = cdr.dest_zone or (cdr.usage_zone if cdr.service == Service.DATA else "")
    if cdr.unpriced:
        amount = _("à tarifer")
    elif cdr.oop_quantity > 0 and cdr.amount_ht is not None:
        amount = format_amount(cdr.amount_ht)
    else:
        amount = "—"
    return JournalRow(
        number=msisdn_display(cdr.destination) if cdr.destination else "—",
        label=cdr.label,
        destination=zone_label(zone) or "—",
        at=paris(cdr.event_at),
        quantity=quantity_display(cdr.service, cdr.quantity),
        out_of_plan=cdr.oop_quantity > 0,
        out_of_plan_quantity=quantity_display(cdr.service, cdr.oop_quantity) if cdr.oop_quantity else "",
        amount=amount,
        unpriced=cdr.unpriced,
    )


@dataclass(frozen=True)
class RoamingLine:
    zone: str
    used: str
    out_of_plan: str
    amount: str


@dataclass(frozen=True)
class TotalsDisplay:
    """R-SC-5 month totals as shown: « Data — Consommé / Recharge / Hors forfait », « Voix — Consommé / Hors
    forfait », « Nombres spéciaux et surtaxés — Non facturable / Facturé », « Total SMS / MMS — Consommé / Hors
    forfait », with the roaming zones and the out-of-plan amount HT."""

    month: str
    data_used: str
    data_envelope: str
    data_topup_used: str
    data_topup: str
    data_oop: str
    roaming: tuple[RoamingLine, ...]
    voice_used: str
    voice_oop: str
    premium_not_billable: str
    premium_billed: str
    sms_mms_used: str
    sms_mms_oop: str
    amount: str
    unpriced: bool


def _amount_with_unpriced(amount: Decimal, unpriced_quantity: int) -> str:
    """« à tarifer » when nothing is priced yet, « 1,20 € + à tarifer » when only a part is."""
    if unpriced_quantity <= 0:
        return format_amount(amount)
    if not amount:
        return _("à tarifer")
    return _("%(amount)s + à tarifer") % {"amount": format_amount(amount)}


def totals_display(totals) -> TotalsDisplay:
    """The strings of a :class:`usage.selectors.UsageTotals`."""
    return TotalsDisplay(
        month=format_month(totals.month),
        data_used=format_volume(totals.data_used),
        data_envelope=format_volume(totals.data_envelope) if totals.data_envelope is not None else "",
        data_topup_used=format_volume(totals.data_topup_used),
        data_topup=format_volume(totals.data_topup),
        data_oop=format_volume(totals.data_oop),
        roaming=tuple(
            RoamingLine(
                zone=r.zone_label,
                used=format_volume(r.quantity),
                out_of_plan=format_volume(r.oop_quantity),
                amount=_amount_with_unpriced(r.amount_ht, r.unpriced_quantity),
            )
            for r in totals.roaming
        ),
        voice_used=format_duration(totals.voice_used),
        voice_oop=format_duration(totals.voice_oop),
        premium_not_billable=format_duration(totals.premium_not_billable),
        premium_billed=format_duration(totals.premium_billed),
        sms_mms_used=format_units(totals.sms_mms_used),
        sms_mms_oop=format_units(totals.sms_mms_oop),
        amount=format_amount(totals.amount_ht),
        unpriced=totals.unpriced,
    )
