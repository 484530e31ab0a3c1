"""Reseller billing writes (R-BO-3 « Génération facturation revendeur », issue 9 item 3): a partner's resale
prices, its clients' monthly drafts, their issue.

Kept beside ``services.py`` (same conventions, STYLE 1) so the wholesale run stays readable; it reuses its
numbering (``invoice_issue``) and credit notes (``credit_note_create``).

- ``resale_policy_set``: the on/off switch, the default margin and the explicit prices, validated together and
  saved in one transaction (nothing half-saved).
- ``reseller_drafts_make(partner=, month=M)``: after the wholesale run of M, one draft per client holding the
  client's charges of M — the very ``Charge`` rows of the partner's wholesale invoice of M (or, while that
  invoice is blocked, the open charges it will hold), never re-priced by the catalog rules — at the partner's
  resale prices (``rules.resale_unit_price``: explicit price, else AlphaLink's × (1 + margin)), grouped by
  contract. Set-based: one ``INSERT … SELECT`` for every line. Drafts are replaced at each call; an issued
  client invoice stays. A charge with no resale price and no wholesale price blocks its client's draft
  (``Invoice.blocked``, in French).
- ``reseller_invoice_issue``: number from the partner's own gapless sequence (issuer ``partner-<id>``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.clock import add_months, month_start
from core.errors import RuleViolation, ValidationFailed
from partners.models import ClientAccount, Partner

from . import identity, rules
from .charges import _OFFER_OF_MONTH
from .models import Invoice, InvoiceLine, PartnerBillingProfile, ResalePolicy, ResalePrice
from .services import _KIND_ORDER, _MONTHS_FR, invoice_issue

# The catalog item a charge sells (explicit resale prices are per item), and AlphaLink's unit price.
_OFFER_OF_CHARGE_MONTH = _OFFER_OF_MONTH.replace(
    "%(s0)s", "(ch.month::timestamp AT TIME ZONE 'Europe/Paris')"
)
_PRICED = f"""
WITH whole AS (
    SELECT id FROM billing_invoice
    WHERE kind = 'invoice' AND issuer_partner_id IS NULL AND customer_client_id IS NULL
        AND customer_partner_id = %(partner)s AND period_month = %(month)s
), ch AS (
    SELECT ch.* FROM billing_charge ch
    WHERE ch.partner_id = %(partner)s
        AND (ch.invoice_id IN (SELECT id FROM whole)
            OR (ch.invoice_id IS NULL AND NOT EXISTS (SELECT 1 FROM whole)
                AND ((ch.mode = 'advance' AND ch.month <= %(advance)s)
                    OR (ch.mode = 'arrears' AND ch.month <= %(arrears)s))))
        AND NOT EXISTS (
            SELECT 1 FROM billing_invoiceline l JOIN billing_invoice i ON i.id = l.invoice_id
            WHERE l.charge_id = ch.id AND i.issuer_partner_id = %(partner)s AND i.kind = 'invoice'
                AND i.state = 'issued')
), priced AS (
    SELECT ch.id, ch.client_id, ch.contract_id, ch.month, ch.kind, ch.label, ch.quantity, ch.unit_code, ch.rule,
        ch.missing_price, c.number AS contract_number, c.msisdn,
        CASE
            WHEN rp.unit_price_ht IS NOT NULL AND ch.kind = 'plan' AND ch.amount_ht IS NOT NULL
                AND ch.quantity = 1 AND ch.unit_price_ht IS DISTINCT FROM o.monthly_price_ht AND o.monthly_price_ht > 0
                -- a first month printed as 1 × its pro rata amount: the same share of the resale price
                THEN round(rp.unit_price_ht * ch.amount_ht / o.monthly_price_ht, 4)
            WHEN rp.unit_price_ht IS NOT NULL THEN round(rp.unit_price_ht, 4)
            WHEN ch.amount_ht IS NULL THEN NULL
            ELSE round(COALESCE(ch.unit_price_ht, ch.amount_ht / NULLIF(ch.quantity, 0))
                * (100 + %(margin)s) / 100, 4)
        END AS unit
    FROM ch
    JOIN contracts_contract c ON c.id = ch.contract_id
{_OFFER_OF_CHARGE_MONTH}
    LEFT JOIN contracts_contractoption co
        ON co.id = CASE WHEN ch.kind = 'option' AND ch.source LIKE 'co:%%' THEN substr(ch.source, 4)::bigint END
    LEFT JOIN contracts_contracttopup tp
        ON tp.id = CASE WHEN ch.kind = 'topup' AND ch.source LIKE 'topup:%%' THEN substr(ch.source, 7)::bigint END
    LEFT JOIN billing_resaleprice rp ON rp.partner_id = %(partner)s AND rp.item = CASE ch.kind
        WHEN 'plan' THEN 'offer:' || o.id
        WHEN 'option' THEN CASE WHEN co.roaming_choice_id IS NOT NULL THEN 'roaming:' || co.roaming_choice_id
            ELSE 'option:' || co.option_id END
        WHEN 'topup' THEN 'topup:' || tp.topup_id
        END
)
"""  # noqa: S608 — module constants; values are query parameters

_LINES = f"""
{_PRICED}
INSERT INTO billing_invoiceline
    (invoice_id, partner_id, position, "group", label, quantity, unit_code, unit_price_ht, amount_ht, vat_rate, rule,
     charge_id)
SELECT inv.id, %(partner)s,
    row_number() OVER (PARTITION BY inv.id ORDER BY p.contract_number, p.contract_id, p.month, {_KIND_ORDER.replace("ch.", "p.")}, p.id),
    left(%(l_contract)s || ' ' || p.contract_number || COALESCE(' (' || p.msisdn || ')', ''), 255),
    left((%(months)s::text[])[extract(month FROM p.month)::int] || ' ' || extract(year FROM p.month)::int
        || ' : ' || p.label, 255),
    p.quantity, p.unit_code, p.unit, round(p.quantity * p.unit, 2), %(vat)s, p.rule, p.id
FROM priced p
JOIN billing_invoice inv ON inv.issuer_partner_id = %(partner)s AND inv.customer_client_id = p.client_id
    AND inv.period_month = %(month)s AND inv.kind = 'invoice' AND inv.state = 'draft'
WHERE p.unit IS NOT NULL
"""  # noqa: S608 — module constants; values are query parameters

_CLIENTS = f"{_PRICED} SELECT DISTINCT client_id FROM priced"  # noqa: S608
_UNPRICED = f"""{_PRICED}
SELECT client_id, COALESCE(NULLIF(missing_price, ''), label), count(*) FROM priced WHERE unit IS NULL
GROUP BY 1, 2 ORDER BY 1, 2
"""  # noqa: S608


def resale_items() -> list[tuple[str, str, str, Decimal | None]]:
    """The catalog items a partner may price explicitly: (item key, group label, item label, AlphaLink's price)."""
    from catalog.models import Offer, Option, RoamingChoice, Topup

    items: list[tuple[str, str, str, Decimal | None]] = []
    for offer in Offer.objects.filter(active=True).order_by("network", "range", "label"):
        items.append(
            (
                f"offer:{offer.pk}",
                _("Offres"),
                f"{offer.label} ({offer.get_network_display()})",
                offer.monthly_price_ht,
            )
        )
    for option in Option.objects.filter(active=True).order_by("network", "label"):
        items.append(
            (
                f"option:{option.pk}",
                _("Options"),
                f"{option.label} ({option.get_network_display()})",
                option.monthly_price_ht,
            )
        )
    for choice in RoamingChoice.objects.filter(active=True, kind="option").order_by(
        "network", "zone", "code"
    ):
        items.append(
            (
                f"roaming:{choice.pk}",
                _("Options roaming"),
                f"{choice} ({choice.get_network_display()})",
                choice.price_ht,
            )
        )
    for topup in Topup.objects.filter(active=True).order_by("network", "family", "code"):
        items.append(
            (f"topup:{topup.pk}", _("Recharges"), f"{topup} ({topup.get_network_display()})", topup.price_ht)
        )
    return items


def _decimal(value, field: str, errors: list[RuleViolation], message: str) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        errors.append(RuleViolation(message, field=field))
        return None
    if not number.is_finite():
        errors.append(RuleViolation(message, field=field))
        return None
    return number


def resale_policy_set(
    *,
    partner: Partner,
    enabled: bool,
    margin_percent,
    prices: dict[str, object],
    now: dt.datetime | None = None,
) -> ResalePolicy:
    """Save the partner's reseller billing settings at once: the switch, the margin (-100 to 1000 %) and the
    explicit prices (``{item: price or ""}``; empty = the margin applies). Every error is reported together
    (``ValidationFailed``, French messages by field ``margin_percent`` / ``price_<item>``); nothing is saved
    unless all pass."""
    errors: list[RuleViolation] = []
    margin = _decimal(
        margin_percent, "margin_percent", errors, _("Indiquez une marge en pourcentage, ex. 15.")
    )
    if margin is None and not any(e.field == "margin_percent" for e in errors):
        margin = Decimal("0")
    if margin is not None and not (rules.MARGIN_MIN <= margin <= rules.MARGIN_MAX):
        errors.append(
            RuleViolation(_("La marge doit être comprise entre -100 % et 1000 %."), field="margin_percent")
        )
    elif margin is not None and margin != margin.quantize(Decimal("0.01")):
        errors.append(RuleViolation(_("La marge a au plus 2 décimales."), field="margin_percent"))
    known = {key: label for key, _group, label, _price in resale_items()}
    explicit: dict[str, Decimal | None] = {}
    for item, value in prices.items():
        field = f"price_{item}"
        if item not in known:
            errors.append(RuleViolation(_("Article inconnu du catalogue."), field=field))
            continue
        price = _decimal(value, field, errors, _("« %(item)s » : prix invalide.") % {"item": known[item]})
        if price is not None and price < 0:
            errors.append(
                RuleViolation(
                    _("« %(item)s » : un prix ne peut pas être négatif.") % {"item": known[item]}, field=field
                )
            )
        elif price is not None and price != price.quantize(rules.UNIT):
            errors.append(
                RuleViolation(_("« %(item)s » : 4 décimales au plus.") % {"item": known[item]}, field=field)
            )
        elif price is not None and price >= Decimal("1e10"):
            errors.append(
                RuleViolation(_("« %(item)s » : prix trop élevé.") % {"item": known[item]}, field=field)
            )
        else:
            explicit[item] = price
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        policy, _created = ResalePolicy.objects.update_or_create(
            partner=partner,
            defaults={
                "enabled": bool(enabled),
                "margin_percent": margin,
                "updated_at": now or timezone.now(),
            },
        )
        ResalePrice.objects.filter(
            partner=partner, item__in=[item for item, price in explicit.items() if price is None]
        ).delete()
        for item, price in explicit.items():
            if price is not None:
                ResalePrice.objects.update_or_create(
                    partner=partner, item=item, defaults={"unit_price_ht": price}
                )
    return policy


def _month_label(month: dt.date) -> str:
    return f"{_MONTHS_FR[month.month - 1]} {month.year}"


def _blocked_message(client: ClientAccount, month: dt.date, missing: list[tuple[str, int]]) -> str:
    head = _(
        "Facture de %(client)s pour %(month)s bloquée : prix de revente à définir (ni prix de revente, ni prix"
        " AlphaLink)."
    ) % {"client": client.company_name, "month": _month_label(month)}
    items = [
        _("%(what)s — %(n)d élément(s)") % {"what": what, "n": n} if n > 1 else what for what, n in missing
    ]
    return "\n".join([head, *(f"• {item}" for item in items)])


def reseller_drafts_make(
    *, partner: Partner, month: dt.date, now: dt.datetime | None = None
) -> list[Invoice]:
    """(Re)make the drafts of ``month`` of every client of ``partner`` (see the module docstring). Nothing when
    reseller billing is off. Refused (``RuleViolation``) while the partner's billing identity is missing: it is
    the issuer. Returns the drafts made."""
    month = month_start(month)
    now = now or timezone.now()
    policy = ResalePolicy.objects.filter(partner=partner).first()
    if policy is None or not policy.enabled:
        return []
    profile = PartnerBillingProfile.objects.filter(partner=partner).first()
    if profile is None:
        raise RuleViolation(
            _(
                "Complétez votre identité de facturation (Paramètres › Facturation) : elle figure sur vos factures."
            ),
            field="profile",
        )
    advance_until, arrears_until = rules.invoice_horizon(month)
    params = {
        "partner": partner.pk,
        "month": month,
        "advance": advance_until,
        "arrears": arrears_until,
        "margin": policy.margin_percent,
        "l_contract": _("Contrat"),
        "months": [m.capitalize() for m in _MONTHS_FR],
        "vat": rules.VAT_RATE,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.reseller'), %s)", [partner.pk])
        drafts = Invoice.objects.filter(
            issuer_partner=partner, period_month=month, kind=Invoice.Kind.INVOICE, state=Invoice.State.DRAFT
        )
        InvoiceLine.objects.filter(invoice__in=drafts).delete()
        drafts.delete()
        issued = set(
            Invoice.objects.filter(
                issuer_partner=partner, period_month=month, kind=Invoice.Kind.INVOICE
            ).values_list("customer_client_id", flat=True)
        )
        cursor.execute(_CLIENTS, params)
        client_ids = sorted({row[0] for row in cursor.fetchall()} - issued)
        clients = ClientAccount.objects.filter(partner=partner, pk__in=client_ids).order_by(
            "company_name", "pk"
        )
        issuer = identity.partner_party(profile)
        period_end = add_months(month, 1) - dt.timedelta(days=1)
        made = Invoice.objects.bulk_create(
            Invoice(
                kind=Invoice.Kind.INVOICE,
                issuer_partner=partner,
                customer_partner=partner,
                customer_client=client,
                period_month=month,
                period_start=month,
                period_end=period_end,
                issuer=issuer,
                customer=identity.client_party(client),
                payment_terms=identity.payment_terms(),
                created_at=now,
            )
            for client in clients
        )
        if not made:
            return []
        cursor.execute(_LINES, params)
        cursor.execute(_UNPRICED, params)
        missing: dict[int, list[tuple[str, int]]] = {}
        for client_id, what, n in cursor.fetchall():
            missing.setdefault(client_id, []).append((what, n))
        sums = dict(
            InvoiceLine.objects.filter(invoice__in=made)
            .values_list("invoice_id")
            .annotate(total=Sum("amount_ht"))
            .values_list("invoice_id", "total")
        )
        starts = dict(
            InvoiceLine.objects.filter(invoice__in=made)
            .values_list("invoice_id")
            .annotate(first=Min("charge__month"))
            .values_list("invoice_id", "first")
        )
        by_client = {client.pk: client for client in clients}
        for invoice in made:
            invoice.total_ht, invoice.total_vat, invoice.total_ttc = rules.invoice_totals(
                [sums.get(invoice.pk) or Decimal("0")]
            )
            invoice.period_start = min(starts.get(invoice.pk) or month, month)
            if invoice.customer_client_id in missing:
                invoice.blocked = _blocked_message(
                    by_client[invoice.customer_client_id], month, missing[invoice.customer_client_id]
                )
        Invoice.objects.bulk_update(made, ["total_ht", "total_vat", "total_ttc", "period_start", "blocked"])
    return made


def reseller_drafts_make_all(*, month: dt.date, now: dt.datetime | None = None) -> dict[int, int | str]:
    """Drafts of ``month`` for every partner with reseller billing on (after the wholesale run); one partner's
    refusal (no billing identity) never stops the others. Returns {partner id: drafts made or the refusal}."""
    outcome: dict[int, int | str] = {}
    for partner in Partner.objects.filter(resale_policy__enabled=True).order_by("pk"):
        try:
            outcome[partner.pk] = len(reseller_drafts_make(partner=partner, month=month, now=now))
        except RuleViolation as exc:
            outcome[partner.pk] = str(exc.message)
    return outcome


def reseller_invoice_issue(*, partner: Partner, invoice: Invoice, now: dt.datetime | None = None) -> Invoice:
    """Issue a client's draft: refused while blocked or empty; the issuer's identity is taken again from the
    partner's billing profile (copied at issue), then ``invoice_issue`` numbers it in the partner's own
    gapless sequence and queues its Factur-X PDF. Immutable afterwards (database triggers)."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, issuer_partner=partner)
        if invoice.state != Invoice.State.DRAFT:
            return invoice  # idempotent: a double click issues once
        if invoice.blocked:
            raise RuleViolation(invoice.blocked, field="invoice")
        if not invoice.lines.exists():
            raise RuleViolation(_("Cette facture n'a aucune ligne : rien à émettre."), field="invoice")
        profile = PartnerBillingProfile.objects.filter(partner=partner).first()
        if profile is None:
            raise RuleViolation(
                _("Complétez votre identité de facturation (Paramètres › Facturation) avant d'émettre."),
                field="profile",
            )
        invoice.issuer = identity.partner_party(profile)
        invoice.customer = identity.client_party(invoice.customer_client)
        invoice.save(update_fields=["issuer", "customer"])
        return invoice_issue(invoice=invoice, now=now)


def reseller_invoices_issue_all(
    *, partner: Partner, month: dt.date, now: dt.datetime | None = None
) -> tuple[int, int]:
    """« Émettre tout » for ``month``: every issuable draft, each in its own transaction (numbers in order).
    Returns (issued, left blocked or empty)."""
    issued = left = 0
    drafts = Invoice.objects.filter(
        issuer_partner=partner,
        period_month=month_start(month),
        kind=Invoice.Kind.INVOICE,
        state=Invoice.State.DRAFT,
    ).order_by("customer_client__company_name", "pk")
    for draft in list(drafts.only("pk")):
        try:
            reseller_invoice_issue(partner=partner, invoice=draft, now=now)
            issued += 1
        except RuleViolation:
            left += 1
    return issued, left
