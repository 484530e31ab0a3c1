"""The charges of a month, set-based (STYLE 34): one ``INSERT … SELECT`` per kind of fact, no ORM call per line.

``charges_compute(month=M)`` writes, for the Europe/Paris calendar month M (see ``billing.rules`` for what an
invoice holds):

- à échoir, for M and M−1 (M−1 catches lines and options that went live after the previous run): plan fees of
  Illimité, Travel, Data only and M2M lines (R-CON-4 pro rata of the first month, every month started due,
  R-CON-5 suspended lines billed — the state is not read, only the delivery and termination dates), monthly
  option fees (R-OPT-4: every option live during the month, so both roaming options of a change);
- à terme échu, for M−1: one-off fees (R-OPT-2 eSIM FAS, option FAS), confirmed top-ups (R-CAT-10), out-of-plan
  usage from the rated counters, the compteur minimum (R-CAT-7), the Compteur Data fee and tiers (R-CAT-8).

Each (contract, month, kind, source) is one row (unique key). Charges not invoiced yet are recomputed from the
facts at each run (deleted then inserted in one transaction, so a price set since, a late top-up or an option
added later shows up); invoiced charges are never touched (``ON CONFLICT DO NOTHING`` keeps them). A price the
catalog leaves empty gives an unpriced charge (amount NULL, ``missing_price`` says what to price).
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import add_months, month_bounds, month_start
from usage.models import Metric

from .rules import days_in_month

_COLUMNS = (
    "partner_id, client_id, contract_id, month, kind, source, mode, label, quantity, unit_code, unit_price_ht,"
    " amount_ht, missing_price, rule, created_at"
)
_INSERT = f"INSERT INTO billing_charge ({_COLUMNS}) "
_ON_CONFLICT = " ON CONFLICT (contract_id, month, kind, source) DO NOTHING"

# The offer a contract has for the month: the contractual date of a scheduled change counts (R-CON-1/2,
# ``ScheduledChange.effective_at``), not the operator's confirmation.
_OFFER_OF_MONTH = """
    LEFT JOIN LATERAL (
        SELECT sc.to_offer_id FROM contracts_scheduledchange sc
        WHERE sc.contract_id = c.id AND sc.state IN ('scheduled', 'applied', 'failed') AND sc.effective_at <= %(s0)s
        ORDER BY sc.effective_at DESC, sc.id DESC LIMIT 1
    ) prev ON true
    LEFT JOIN LATERAL (
        SELECT sc.from_offer_id FROM contracts_scheduledchange sc
        WHERE sc.contract_id = c.id AND sc.state = 'applied' AND sc.effective_at > %(s0)s
        ORDER BY sc.effective_at, sc.id LIMIT 1
    ) nxt ON true
    JOIN catalog_offer o ON o.id = COALESCE(prev.to_offer_id, nxt.from_offer_id, c.offer_id)
"""
# A line live at some point of the month (delivered before its end and by now, not terminated before it).
_LIVE = """
    c.delivered_at IS NOT NULL AND c.delivered_at < %(s1)s AND c.delivered_at <= %(now)s
    AND (c.terminated_at IS NULL OR c.terminated_at > %(s0)s)
"""
_NETWORK = "(CASE o.network WHEN 'orange' THEN 'Orange' ELSE 'Bouygues Telecom' END)"

# A pro rata line prints days/month × monthly price when that product rounds to the amount, else 1 × amount
# (every printed line is quantity × unit price, to the cent).
_PLAN = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'plan', 'plan', %(mode)s,
    left(%(l_plan)s || ' ' || o.label || CASE WHEN x.live > %(d0)s THEN ' — ' || %(l_from)s || ' '
        || to_char(x.live, 'DD/MM/YYYY') || ' (' || x.days || '/' || %(dim)s || ' ' || %(l_days)s || ')'
        ELSE '' END, 255),
    CASE WHEN x.live <= %(d0)s THEN 1 WHEN round(pr.q * o.monthly_price_ht, 2) = pr.a OR pr.a IS NULL THEN pr.q
        ELSE 1 END,
    'MON',
    CASE WHEN x.live <= %(d0)s OR round(pr.q * o.monthly_price_ht, 2) = pr.a OR pr.a IS NULL
        THEN o.monthly_price_ht ELSE pr.a END,
    CASE WHEN x.live > %(d0)s THEN pr.a ELSE o.monthly_price_ht END,
    CASE WHEN o.monthly_price_ht IS NULL
        THEN left(%(l_offer)s || ' « ' || o.label || ' » (' || {_NETWORK} || ') : ' || %(l_monthly)s, 255)
        ELSE '' END,
    %(rule)s, %(now)s
FROM contracts_contract c
CROSS JOIN LATERAL (
    SELECT (c.delivered_at AT TIME ZONE 'Europe/Paris')::date AS live,
        %(d1)s::date - (c.delivered_at AT TIME ZONE 'Europe/Paris')::date AS days
) x
{_OFFER_OF_MONTH}
CROSS JOIN LATERAL (
    SELECT round(x.days::numeric / %(dim)s, 4) AS q, round(o.monthly_price_ht * x.days / %(dim)s, 2) AS a
) pr
WHERE {_LIVE} AND o.range = ANY(%(ranges)s)
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

_OPTIONS = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'option', 'co:' || co.id, 'advance',
    left(CASE WHEN co.label ILIKE 'option%%' THEN co.label ELSE %(l_option)s || ' ' || co.label END, 255),
    1, 'MON', f.fee, f.fee,
    CASE WHEN f.fee IS NULL
        THEN left(%(l_option)s || ' « ' || co.label || ' » (' || {_NETWORK} || ') : ' || %(l_monthly)s, 255)
        ELSE '' END,
    CASE WHEN co.roaming_choice_id IS NOT NULL THEN 'R-OPT-4' ELSE 'R-ORD-6' END, %(now)s
FROM contracts_contractoption co
JOIN contracts_contract c ON c.id = co.contract_id
JOIN catalog_offer o ON o.id = c.offer_id
LEFT JOIN catalog_roamingchoice rc ON rc.id = co.roaming_choice_id
LEFT JOIN catalog_option opt ON opt.id = co.option_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN rc.id IS NOT NULL THEN COALESCE(NULLIF(co.monthly_fee_ht, 0), rc.price_ht)
        ELSE COALESCE(co.monthly_fee_ht, opt.monthly_price_ht) END AS fee
) f
WHERE {_LIVE}
    AND co.activated_at IS NOT NULL AND co.activated_at < %(s1)s AND co.activated_at <= %(now)s
    AND (co.ended_at IS NULL OR co.ended_at > %(s0)s)
    AND (rc.id IS NULL OR rc.kind = 'option')
    AND (f.fee IS NULL OR f.fee > 0)
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

# A fee is billed for the month it became billable: its date, or the line's delivery if later.
_FEES = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'fee', 'fee:' || f.id, 'arrears', left(f.label, 255), 1, 'C62',
    f.amount_ht, f.amount_ht, '',
    COALESCE(NULLIF(f.rule, ''), CASE f.kind WHEN 'esim' THEN 'R-OPT-2' ELSE 'R-ORD-6' END), %(now)s
FROM contracts_oneofffee f
JOIN contracts_contract c ON c.id = f.contract_id
WHERE f.amount_ht > 0 AND f.created_at < %(s1)s
    AND c.delivered_at IS NOT NULL AND c.delivered_at < %(s1)s AND c.delivered_at <= %(now)s
    AND GREATEST(f.created_at, c.delivered_at) >= %(s0)s
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

_VOLUME = (
    "(CASE WHEN t.volume_bytes %% 1000000000 = 0 THEN (t.volume_bytes / 1000000000) || ' Go'"
    " ELSE (t.volume_bytes / 1000000) || ' Mo' END)"
)
_TOPUPS = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'topup', 'topup:' || t.id, 'arrears',
    left(%(l_topup)s || ' ' || {_VOLUME} || ' — ' || to_char(t.confirmed_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY'), 255),
    1, 'C62', p.price, p.price,
    CASE WHEN p.price IS NULL
        THEN left(%(l_topup)s || ' ' || {_VOLUME} || ' (' || {_NETWORK} || ') : ' || %(l_price)s, 255) ELSE '' END,
    CASE WHEN o.range = 'm2m' THEN 'R-CAT-6' WHEN o.range IN ('compteur', 'compteur_data') THEN 'R-CAT-7'
        ELSE 'R-CAT-10' END,
    %(now)s
FROM contracts_contracttopup t
JOIN contracts_contract c ON c.id = t.contract_id
JOIN catalog_offer o ON o.id = c.offer_id
LEFT JOIN catalog_topup ct ON ct.id = t.topup_id
CROSS JOIN LATERAL (SELECT COALESCE(t.price_ht, ct.price_ht) AS price) p
WHERE t.state = 'confirmed' AND t.month = %(d0)s
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

_WHAT = "(%(metrics)s::jsonb ->> u.metric) || CASE WHEN u.zone <> '' THEN ' — ' || COALESCE(%(zones)s::jsonb ->> u.zone, u.zone) ELSE '' END"


def _natural(column: str) -> str:
    return (
        f"(CASE WHEN u.metric IN ('data', 'roaming_data') THEN ceil({column} / 1000000.0) || ' Mo'"
        f" WHEN u.metric IN ('voice', 'voice_sva') THEN ceil({column} / 60.0) || ' min'"
        f" ELSE {column} || ' SMS/MMS' END)"
    )


_USAGE_RULE = "CASE WHEN o.range = 'compteur' THEN 'R-CAT-7' WHEN o.range = 'compteur_data' THEN 'R-CAT-8' ELSE 'R-ROA-1' END"
_USAGE_PRICED = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'usage', 'usage:' || u.metric || ':' || u.zone, 'arrears',
    left(%(l_usage)s || ' ' || {_WHAT} || ' (' || {_natural("u.oop_quantity")} || ')', 255),
    1, 'C62', round(u.amount_ht, 2), round(u.amount_ht, 2), '', {_USAGE_RULE}, %(now)s
FROM usage_counter u
JOIN contracts_contract c ON c.id = u.contract_id
JOIN catalog_offer o ON o.id = c.offer_id
WHERE u.month = %(d0)s AND round(u.amount_ht, 2) > 0
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters
_USAGE_UNPRICED = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'usage', 'unpriced:' || u.metric || ':' || u.zone, 'arrears',
    left(%(l_usage)s || ' ' || {_WHAT} || ' (' || {_natural("u.unpriced_quantity")} || ') — ' || %(l_price)s, 255),
    1, 'C62', NULL, NULL,
    left(%(l_rate)s || ' ' || {_WHAT} || ' (' || {_NETWORK} || ')', 255), {_USAGE_RULE}, %(now)s
FROM usage_counter u
JOIN contracts_contract c ON c.id = u.contract_id
JOIN catalog_offer o ON o.id = c.offer_id
WHERE u.month = %(d0)s AND u.unpriced_quantity > 0
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

# R-CAT-7: the complement up to the monthly minimum, against the month's usage charges (each to the cent).
_COMPTEUR_MIN = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'compteur_min', 'minimum', 'arrears',
    left(%(l_minimum)s || ' ' || o.label || ' (' || COALESCE(replace(o.monthly_price_ht::text, '.', ','), '?')
        || ' € HT)', 255),
    1, 'MON', m.amount, m.amount,
    CASE WHEN o.monthly_price_ht IS NULL
        THEN left(%(l_offer)s || ' « ' || o.label || ' » (' || {_NETWORK} || ') : ' || %(l_minimum_price)s, 255)
        ELSE '' END,
    'R-CAT-7', %(now)s
FROM contracts_contract c
{_OFFER_OF_MONTH}
LEFT JOIN LATERAL (
    SELECT sum(round(u.amount_ht, 2)) AS total FROM usage_counter u WHERE u.contract_id = c.id AND u.month = %(d0)s
) us ON true
CROSS JOIN LATERAL (SELECT o.monthly_price_ht - COALESCE(us.total, 0) AS amount) m
WHERE {_LIVE} AND o.range = 'compteur' AND (m.amount IS NULL OR m.amount > 0)
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

# R-CAT-8: the price per Mo of the tier the month's total reaches, on every Mo beyond the 500 Mo included.
_COMPTEUR_DATA = f"""
{_INSERT}
SELECT c.partner_id, c.client_id, c.id, %(d0)s, 'compteur_data', 'tiers', 'arrears',
    left(%(l_tiers)s || ' (' || b.mo || ' Mo)', 255),
    b.mo, '4L', tier.price, round(b.mo * tier.price, 2),
    CASE WHEN tier.price IS NULL
        THEN left(%(l_offer)s || ' « ' || o.label || ' » (' || {_NETWORK} || ') : ' || %(l_tiers_price)s, 255)
        ELSE '' END,
    'R-CAT-8', %(now)s
FROM contracts_contract c
{_OFFER_OF_MONTH}
JOIN usage_counter u ON u.contract_id = c.id AND u.month = %(d0)s AND u.metric = 'data' AND u.zone = ''
CROSS JOIN LATERAL (
    SELECT ceil(GREATEST(0, u.quantity - COALESCE((o.details ->> 'included_bytes')::bigint, 500000000))
        / 1000000.0)::bigint AS mo
) b
LEFT JOIN LATERAL (
    SELECT (t ->> 'price_per_mo_ht')::numeric AS price
    FROM jsonb_array_elements(CASE WHEN jsonb_typeof(o.details -> 'tiers_ht') = 'array'
        THEN o.details -> 'tiers_ht' ELSE '[]'::jsonb END) WITH ORDINALITY AS x(t, n)
    WHERE (t ->> 'up_to_bytes') IS NULL OR u.quantity <= (t ->> 'up_to_bytes')::bigint
    ORDER BY n LIMIT 1
) tier ON true
WHERE {_LIVE} AND o.range = 'compteur_data' AND b.mo > 0
{_ON_CONFLICT}
"""  # noqa: S608 — module constants; values are query parameters

ADVANCE_RANGES = ["illimite", "travel", "data_only", "m2m"]


def _params(month: dt.date, now: dt.datetime) -> dict:
    s0, s1 = month_bounds(month)
    return {
        "s0": s0,
        "s1": s1,
        "d0": month,
        "d1": add_months(month, 1),
        "dim": days_in_month(month),
        "now": now,
        "l_plan": _("Abonnement"),
        "l_from": _("prorata à partir du"),
        "l_days": _("jours"),
        "l_offer": _("Offre"),
        "l_monthly": _("prix mensuel à définir"),
        "l_option": _("Option"),
        "l_topup": _("Recharge"),
        "l_price": _("prix à définir"),
        "l_usage": _("Hors forfait"),
        "l_rate": _("Tarif à l'usage"),
        "l_minimum": _("Complément au minimum de facturation"),
        "l_minimum_price": _("minimum de facturation à définir"),
        "l_tiers": _("Data au-delà de 500 Mo, au prix du palier atteint"),
        "l_tiers_price": _("paliers data à définir"),
        "metrics": json.dumps({m.value: str(m.label) for m in Metric}),
        "zones": json.dumps(_zone_labels()),
    }


def _zone_labels() -> dict[str, str]:
    from catalog.models import Zone
    from usage.models import UsageZone

    return {**{z.value: str(z.label) for z in UsageZone}, **{z.value: str(z.label) for z in Zone}}


def _run(cursor, sql: str, params: dict) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def charges_compute(*, month: dt.date, now: dt.datetime | None = None) -> dict[str, int]:
    """Compute the charges an invoice of ``month`` needs (idempotent; see the module docstring). Returns the
    rows written per kind. One transaction, serialised per month by an advisory lock (two runs at once)."""
    month = month_start(month)
    now = now or timezone.now()
    previous = add_months(month, -1)
    written: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('billing.charges'), %s)", [month.year * 12 + month.month]
        )
        # Not invoiced yet = recomputed from today's facts (a price set since, an option added late…).
        cursor.execute(
            "DELETE FROM billing_charge WHERE invoice_id IS NULL"
            " AND ((mode = 'advance' AND month IN (%s, %s)) OR (mode = 'arrears' AND month = %s))",
            [previous, month, previous],
        )
        for served in (previous, month):  # à échoir
            p = _params(served, now)
            written["plan"] = written.get("plan", 0) + _run(
                cursor, _PLAN, {**p, "mode": "advance", "ranges": ADVANCE_RANGES, "rule": "R-CON-4"}
            )
            written["option"] = written.get("option", 0) + _run(cursor, _OPTIONS, p)
        p = _params(previous, now)  # à terme échu
        written["plan"] += _run(
            cursor, _PLAN, {**p, "mode": "arrears", "ranges": ["compteur_data"], "rule": "R-CAT-8"}
        )
        written["fee"] = _run(cursor, _FEES, p)
        written["topup"] = _run(cursor, _TOPUPS, p)
        written["usage"] = _run(cursor, _USAGE_PRICED, p) + _run(cursor, _USAGE_UNPRICED, p)
        written["compteur_min"] = _run(cursor, _COMPTEUR_MIN, p)
        written["compteur_data"] = _run(cursor, _COMPTEUR_DATA, p)
    return written
