"""Pure billing rules over plain values (no ORM): the reference the SQL of ``billing.charges`` is tested against.

What an invoice of month M holds (``invoice_horizon``): the subscriptions (plan fees of Illimité, Travel, Data
only and M2M, monthly option fees) of month M — billed **à échoir** — plus those of earlier months not invoiced
yet (a line delivered on 16 November after the 1 November run pays its 15/30 at the 1 December run); and
everything billed **à terme échu** for month M−1 and before: one-off fees (FAS, eSIM), confirmed top-ups,
out-of-plan usage, the compteur minimum (R-CAT-7), the Compteur Data fee and its tiers (R-CAT-8).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from core.clock import add_months

CENT = Decimal("0.01")
VAT_RATE = Decimal("20.00")  # percent, every line (B2B telecom services in France)
COMPTEUR_DATA_INCLUDED_BYTES = 500 * 10**6  # R-CAT-8


def cents(value: Decimal) -> Decimal:
    """Round half-up to the cent (every charge, every line, the VAT)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def days_in_month(month: dt.date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def plan_fee(price: Decimal | None, *, live_from: dt.date, month: dt.date) -> tuple[Decimal, Decimal | None]:
    """R-CON-4: (quantity, amount) of a plan fee for ``month``. A line live before the month pays the whole
    month (every month started is due, whenever it ends); a line live from day d of the month pays
    (days left, d included) / days in month, e.g. 16 November on 8 € → 15/30 × 8 = 4.00. ``None`` price →
    unpriced (amount ``None``)."""
    first = month.replace(day=1)
    if live_from <= first:
        quantity = Decimal(1)
        days = None
    else:
        total = days_in_month(first)
        days = (add_months(first, 1) - live_from).days
        quantity = (Decimal(days) / Decimal(total)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if price is None:
        return quantity, None
    if days is None:
        return quantity, cents(price)
    return quantity, cents(price * days / days_in_month(first))


def compteur_minimum(minimum: Decimal | None, usage_amounts: Iterable[Decimal]) -> Decimal | None:
    """R-CAT-7: the complement that brings a compteur line's month to its minimum (2.50 €): minimum − the
    month's usage charges (each already rounded to the cent), never below 0. ``None`` minimum → unpriced."""
    if minimum is None:
        return None
    return max(Decimal("0.00"), cents(minimum) - sum((cents(a) for a in usage_amounts), Decimal("0")))


def compteur_data_tiers(
    total_bytes: int, tiers: Sequence[dict] | None
) -> tuple[int, Decimal | None, Decimal | None]:
    """R-CAT-8: (Mo beyond 500 Mo, price per Mo of the tier reached, amount). The price of the tier the month's
    total reaches applies to every Mo beyond 500 Mo (started Mo counted). ``tiers``: the offer's
    ``details.tiers_ht`` ``[{"up_to_bytes": int | None, "price_per_mo_ht": "0.02"}, …]`` ascending; empty
    (the seed gives none) → price and amount ``None`` (unpriced) as soon as a Mo is beyond."""
    beyond = max(0, total_bytes - COMPTEUR_DATA_INCLUDED_BYTES)
    mo = math.ceil(beyond / 10**6)
    if mo == 0:
        return 0, None, Decimal("0.00")
    for tier in tiers or ():
        if tier.get("up_to_bytes") is None or total_bytes <= int(tier["up_to_bytes"]):
            price = Decimal(str(tier["price_per_mo_ht"]))
            return mo, price, cents(price * mo)
    return mo, None, None


def invoice_horizon(month: dt.date) -> tuple[dt.date, dt.date]:
    """(last month of à-échoir charges, last month of à-terme-échu charges) an invoice of ``month`` holds."""
    first = month.replace(day=1)
    return first, add_months(first, -1)


def vat(total_ht: Decimal, rate: Decimal = VAT_RATE) -> Decimal:
    """VAT of one rate on the sum of the lines (EN 16931 BR-CO-17), half-up to the cent."""
    return cents(total_ht * rate / 100)


def invoice_totals(amounts: Iterable[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(HT, VAT, TTC): HT is the sum of the printed lines (each already to the cent), so the invoice adds up."""
    total_ht = sum((cents(a) for a in amounts), Decimal("0.00"))
    total_vat = vat(total_ht)
    return total_ht, total_vat, total_ht + total_vat


def invoice_number(prefix: str, year: int, sequence: int) -> str:
    """``FA-2026-000042``: the issuer's prefix, the year and the rank in the issuer's yearly sequence."""
    return f"{prefix}-{year}-{sequence:06d}"


UNIT = Decimal("0.0001")
MARGIN_MIN, MARGIN_MAX = Decimal("-100"), Decimal("1000")


def resale_unit_price(
    *, wholesale_unit: Decimal | None, explicit: Decimal | None, margin_percent: Decimal
) -> Decimal | None:
    """The unit price HT a partner bills its client (« facturation revendeur »): its explicit resale price when
    it set one, else AlphaLink's unit price × (1 + margin), half-up to 4 places; ``None`` (unpriced: the draft
    is blocked) when neither exists. The line amount is ``cents(quantity × unit)``, as for every line."""
    if explicit is not None:
        return Decimal(explicit).quantize(UNIT, rounding=ROUND_HALF_UP)
    if wholesale_unit is None:
        return None
    return (Decimal(wholesale_unit) * (100 + Decimal(margin_percent)) / 100).quantize(
        UNIT, rounding=ROUND_HALF_UP
    )
