"""Billing writes (STYLE 1): the monthly run, wholesale invoices AlphaLink → partner, issue and numbering,
credit notes.

Safe runs (issue 9 item 7):
- ``billing_run(month=M)`` computes the charges (one transaction, idempotent), then invoices each partner in its
  own transaction; the ``BillingRun`` row records who was invoiced and who is blocked. A crash mid-run leaves
  the invoices already committed; the next run skips them (one wholesale invoice per partner and month: a
  unique constraint) and goes on with the others.
- Two runs at once: the charges of a month are computed under an exclusive advisory lock, each partner's
  invoice under a per-partner advisory lock (and the shared month lock); the second run finds the invoice made.
- Numbers are drawn from ``InvoiceSequence`` (row locked FOR UPDATE) in the issuing transaction, never for a
  draft: a rollback gives the number back, so the sequence has no gap.
- An issued invoice never changes (``_ensure_draft`` here, triggers in the database); a correction is a credit
  note (``credit_note_create``). A contract changed after the run shows up at the next run: its charges are
  computed then, and the charges already invoiced are frozen.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.broker import wake_task
from core.clock import add_months, month_start, paris
from core.errors import RuleViolation
from partners.models import Partner

from . import identity, rules
from .charges import charges_compute
from .models import BillingRun, Charge, Invoice, InvoiceLine, InvoiceSequence, PartnerBillingProfile

logger = logging.getLogger(__name__)

RENDER_PDF_TASK = "billing.render_invoice_pdf"
_KIND_ORDER = (
    "array_position(ARRAY['plan','option','fee','topup','usage','compteur_min','compteur_data'], ch.kind)"
)
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


@dataclass(frozen=True)
class PartnerOutcome:
    partner_id: int
    status: str  # issued / exists / blocked / empty
    invoice: Invoice | None = None
    message: str = ""


def _month_key(month: dt.date) -> int:
    return month.year * 12 + month.month


def _open_charges(partner_id: int, month: dt.date):
    advance_until, arrears_until = rules.invoice_horizon(month)
    return Charge.objects.filter(partner_id=partner_id, invoice__isnull=True).filter(
        Q(mode=Charge.Mode.ADVANCE, month__lte=advance_until)
        | Q(mode=Charge.Mode.ARREARS, month__lte=arrears_until)
    )


def blocking_message(partner: Partner, month: dt.date, missing: list[tuple[str, int]]) -> str:
    """The French list of what must be priced before the partner's invoice of ``month`` can be issued."""
    head = _("Facture de %(partner)s pour %(month)s bloquée : des prix sont à définir dans le catalogue.") % {
        "partner": partner.name,
        "month": f"{_MONTHS_FR[month.month - 1]} {month.year}",
    }
    items = [
        _("%(what)s — %(n)d élément(s)") % {"what": what, "n": n} if n > 1 else what for what, n in missing
    ]
    return "\n".join([head, *(f"• {item}" for item in items)])


def _next_number(issuer_partner_id: int | None, year: int) -> tuple[str, int]:
    """Draw the next number of the issuer's yearly sequence, row locked until the issuing transaction ends."""
    key = "alphalink" if issuer_partner_id is None else f"partner-{issuer_partner_id}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_invoicesequence (issuer_key, year, last) VALUES (%s, %s, 0)"
            " ON CONFLICT (issuer_key, year) DO NOTHING",
            [key, year],
        )
    seq = InvoiceSequence.objects.select_for_update().get(issuer_key=key, year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    prefix = settings.BILLING_INVOICE_PREFIX if issuer_partner_id is None else f"P{issuer_partner_id}"
    return rules.invoice_number(prefix, year, seq.last), seq.last


def _ensure_draft(invoice: Invoice) -> None:
    if invoice.state != Invoice.State.DRAFT:
        raise RuleViolation(
            _("La facture %(number)s est émise : elle ne se modifie plus. Corrigez-la par un avoir.")
            % {"number": invoice.number},
            field="invoice",
        )


def _enqueue_pdf(invoice_id: int) -> None:
    if not getattr(settings, "BILLING_RENDER_PDF_ON_ISSUE", True):
        return
    # a broker outage never undoes an issued invoice (one bounded attempt, logged); the PDF can be made later
    wake_task(RENDER_PDF_TASK, args=[invoice_id])


def invoice_issue(*, invoice: Invoice, now: dt.datetime | None = None) -> Invoice:
    """Issue a draft: totals from its printed lines (HT = sum of lines, VAT 20 % half-up, TTC = HT + VAT), a
    number from the issuer's sequence, issue and due dates. Must run inside the caller's transaction or opens
    its own; refuses an invoice already issued."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        _ensure_draft(invoice)
        total_ht = invoice.lines.aggregate(total=Sum("amount_ht"))["total"] or rules.cents(0)
        invoice.total_ht, invoice.total_vat, invoice.total_ttc = rules.invoice_totals([total_ht])
        issue_date = paris(now).date()
        invoice.number, invoice.sequence = _next_number(invoice.issuer_partner_id, issue_date.year)
        invoice.issue_date = issue_date
        invoice.due_date = issue_date + dt.timedelta(days=settings.BILLING_PAYMENT_DAYS)
        invoice.state = Invoice.State.ISSUED
        invoice.save(
            update_fields=[
                "total_ht",
                "total_vat",
                "total_ttc",
                "number",
                "sequence",
                "issue_date",
                "due_date",
                "state",
            ]
        )
        transaction.on_commit(lambda: _enqueue_pdf(invoice.pk))
    return invoice


_LINES_FROM_CHARGES = f"""
INSERT INTO billing_invoiceline
    (invoice_id, partner_id, position, "group", label, quantity, unit_code, unit_price_ht, amount_ht, vat_rate, rule,
     charge_id)
SELECT %(invoice)s, ch.partner_id,
    row_number() OVER (ORDER BY cl.company_name, cl.id, ct.number, ct.id, ch.month, {_KIND_ORDER}, ch.id),
    left(cl.company_name || ' — ' || %(l_contract)s || ' ' || ct.number
        || COALESCE(' (' || ct.msisdn || ')', ''), 255),
    left((%(months)s::text[])[extract(month FROM ch.month)::int] || ' ' || extract(year FROM ch.month)::int
        || ' : ' || ch.label, 255),
    ch.quantity, ch.unit_code, ch.unit_price_ht, ch.amount_ht, %(vat)s, ch.rule, ch.id
FROM billing_charge ch
JOIN partners_clientaccount cl ON cl.id = ch.client_id
JOIN contracts_contract ct ON ct.id = ch.contract_id
WHERE ch.invoice_id = %(invoice)s
"""  # noqa: S608 — module constants; values are query parameters


def wholesale_invoice_make(
    *, partner_id: int, month: dt.date, now: dt.datetime | None = None
) -> PartnerOutcome:
    """The invoice AlphaLink → partner of ``month`` (one transaction): every open charge up to the horizon
    (``rules.invoice_horizon``), one line per charge grouped by client and contract, issued at once. Blocked —
    nothing written — while a charge is unpriced or the partner's legal identity is missing."""
    month = month_start(month)
    now = now or timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock_shared(hashtext('billing.charges'), %s)", [_month_key(month)]
        )
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.invoice'), %s)", [partner_id])
        existing = Invoice.objects.filter(
            kind=Invoice.Kind.INVOICE,
            issuer_partner__isnull=True,
            customer_client__isnull=True,
            customer_partner_id=partner_id,
            period_month=month,
        ).first()
        if existing is not None:
            return PartnerOutcome(partner_id, "exists", existing)
        partner = Partner.objects.get(pk=partner_id)
        open_charges = _open_charges(partner_id, month)
        missing = list(
            open_charges.filter(amount_ht__isnull=True)
            .values_list("missing_price")
            .annotate(n=Count("id"))
            .order_by("missing_price")
        )
        if missing:
            return PartnerOutcome(partner_id, "blocked", message=blocking_message(partner, month, missing))
        first = open_charges.aggregate(first=Min("month"))["first"]
        if first is None:
            return PartnerOutcome(partner_id, "empty")
        profile = PartnerBillingProfile.objects.filter(partner_id=partner_id).first()
        if profile is None:
            return PartnerOutcome(
                partner_id,
                "blocked",
                message=_(
                    "Facture de %(partner)s bloquée : identité de facturation à compléter (raison sociale, SIRET,"
                    " n° de TVA, adresse)."
                )
                % {"partner": partner.name},
            )
        invoice = Invoice.objects.create(
            kind=Invoice.Kind.INVOICE,
            customer_partner_id=partner_id,
            period_month=month,
            period_start=first,
            period_end=add_months(month, 1) - dt.timedelta(days=1),
            issuer=identity.alphalink_party(),
            customer=identity.partner_party(profile),
            payment_terms=identity.payment_terms(),
            iban=settings.ALPHALINK_LEGAL["iban"],
            created_at=now,
        )
        open_charges.update(invoice=invoice)
        cursor.execute(
            _LINES_FROM_CHARGES,
            {
                "invoice": invoice.pk,
                "l_contract": _("contrat"),
                "months": [m.capitalize() for m in _MONTHS_FR],
                "vat": rules.VAT_RATE,
            },
        )
        invoice = invoice_issue(invoice=invoice, now=now)
    return PartnerOutcome(partner_id, "issued", invoice)


def _record(run: BillingRun, outcome: PartnerOutcome) -> None:
    key = str(outcome.partner_id)
    with connection.cursor() as cursor:
        if outcome.status in ("issued", "exists"):
            cursor.execute(
                "UPDATE billing_billingrun SET invoiced = invoiced || jsonb_build_object(%s::text, %s::text),"
                " blocked = blocked - %s::text WHERE id = %s",
                [key, outcome.invoice.number, key, run.pk],
            )
        elif outcome.status == "blocked":
            cursor.execute(
                "UPDATE billing_billingrun SET blocked = blocked || jsonb_build_object(%s::text, %s::text) WHERE id = %s",
                [key, outcome.message, run.pk],
            )


def billing_run(*, month: dt.date, now: dt.datetime | None = None) -> BillingRun:
    """The monthly run of ``month`` (beat on the 1st at 06:00 Paris, ``manage.py billing_run``): charges, then
    one wholesale invoice per partner, each in its own transaction. Safe to run again, at once, or after a
    crash (see the module docstring)."""
    month = month_start(month)
    now = now or timezone.now()
    run, _created = BillingRun.objects.get_or_create(month=month, defaults={"started_at": now})
    BillingRun.objects.filter(pk=run.pk).update(state=BillingRun.State.RUNNING, attempts=run.attempts + 1)
    charges_compute(month=month, now=now)
    BillingRun.objects.filter(pk=run.pk).update(charges_at=timezone.now())
    advance_until, arrears_until = rules.invoice_horizon(month)
    partner_ids = sorted(
        set(
            Charge.objects.filter(invoice__isnull=True)
            .filter(Q(mode="advance", month__lte=advance_until) | Q(mode="arrears", month__lte=arrears_until))
            .values_list("partner_id", flat=True)
            .distinct()
        )
        | set(int(k) for k in BillingRun.objects.get(pk=run.pk).blocked)
    )
    for partner_id in partner_ids:
        outcome = wholesale_invoice_make(partner_id=partner_id, month=month, now=now)
        _record(run, outcome)
        if outcome.status == "blocked":
            logger.warning("billing %s: partner %s blocked: %s", month, partner_id, outcome.message)
    BillingRun.objects.filter(pk=run.pk).update(state=BillingRun.State.DONE, finished_at=timezone.now())
    run.refresh_from_db()
    return run


def credit_note_create(
    *, invoice: Invoice, reason: str, line_ids: list[int] | None = None, now: dt.datetime | None = None
) -> Invoice:
    """An avoir for an issued invoice (all its lines, or ``line_ids``), numbered in the same sequence. A line is
    credited at most once (unique constraint); the invoice itself is never touched."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.state != Invoice.State.ISSUED or invoice.kind != Invoice.Kind.INVOICE:
            raise RuleViolation(_("Seule une facture émise peut faire l'objet d'un avoir."), field="invoice")
        if not reason.strip():
            raise RuleViolation(_("Indiquez le motif de l'avoir."), field="reason")
        lines = invoice.lines.exclude(
            pk__in=InvoiceLine.objects.filter(credits_line__invoice=invoice).values("credits_line")
        ).order_by("position")
        if line_ids is not None:
            lines = lines.filter(pk__in=line_ids)
        lines = list(lines)
        if not lines:
            raise RuleViolation(
                _("Rien à créditer : ces lignes ont déjà fait l'objet d'un avoir."), field="lines"
            )
        note = Invoice.objects.create(
            kind=Invoice.Kind.CREDIT_NOTE,
            credit_note_of=invoice,
            issuer_partner=invoice.issuer_partner,
            customer_partner=invoice.customer_partner,
            customer_client=invoice.customer_client,
            period_month=invoice.period_month,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            reason=reason,
            issuer=invoice.issuer,
            customer=invoice.customer,
            payment_terms=invoice.payment_terms,
            iban=invoice.iban,
            created_at=now,
        )
        InvoiceLine.objects.bulk_create(
            InvoiceLine(
                invoice=note,
                partner_id=line.partner_id,
                position=i,
                group=line.group,
                label=line.label,
                quantity=line.quantity,
                unit_code=line.unit_code,
                unit_price_ht=line.unit_price_ht,
                amount_ht=line.amount_ht,
                vat_rate=line.vat_rate,
                rule=line.rule,
                charge_id=line.charge_id,
                credits_line=line,
            )
            for i, line in enumerate(lines, start=1)
        )
        return invoice_issue(invoice=note, now=now)


def partner_billing_profile_set(
    *,
    partner: Partner,
    legal_name: str,
    siret: str,
    vat_number: str,
    address: str,
    postcode: str,
    city: str,
    country: str = "FR",
    email: str = "",
) -> PartnerBillingProfile:
    """The legal identity ``partner`` is invoiced under (« Paramètres › Facturation »): SIRET and French VAT
    number checked by python-stdnum, the VAT number of the same SIREN. Already issued invoices keep the identity
    they printed (copied at issue); the next invoice prints this one. Every error is reported at once."""
    from django.core.exceptions import ValidationError

    from core.errors import ValidationFailed
    from partners.validators import normalize_siret

    profile = PartnerBillingProfile(
        partner=partner,
        legal_name=(legal_name or "").strip(),
        siret=normalize_siret(siret),
        vat_number=(vat_number or "").replace(" ", "").upper(),
        address=(address or "").strip(),
        postcode=(postcode or "").strip(),
        city=(city or "").strip(),
        country=(country or "FR").strip().upper(),
        email=(email or "").strip(),
    )
    errors: list[RuleViolation] = []
    try:
        profile.full_clean(exclude=["partner"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.extend(RuleViolation(message, field=field) for message in messages)
    fields_with_errors = {e.field for e in errors}
    if not fields_with_errors & {"siret", "vat_number"} and profile.vat_number[4:] != profile.siret[:9]:
        errors.append(
            RuleViolation(
                _("Le n° de TVA intracommunautaire ne correspond pas au SIREN du SIRET (%(siren)s).")
                % {"siren": profile.siret[:9]},
                field="vat_number",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    values = {
        f.name: getattr(profile, f.name)
        for f in PartnerBillingProfile._meta.concrete_fields
        if f.name not in ("id", "partner")
    }
    with transaction.atomic():
        profile, _created = PartnerBillingProfile.objects.update_or_create(partner=partner, defaults=values)
    return profile
