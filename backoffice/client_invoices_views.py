"""Back-office « Factures clients » (R-BO-3 « Génération facturation revendeur », issue 9 item 3): the partner's
invoices to its own clients — the month's drafts to review, « Émettre » one or « Émettre tout », the issued
ones with their Factur-X PDF and their credit notes. Reads through ``billing.selectors`` scoped to
``request.staff_partner`` (another partner's invoice: 404); writes through ``billing.reseller`` and
``billing.services.credit_note_create``, POST only, admins only."""

from __future__ import annotations

import datetime as dt
import re
from itertools import groupby

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing import reseller, selectors
from billing.models import Invoice, ResalePolicy
from billing.services import credit_note_create
from core.clock import month_start
from core.errors import RuleViolation

from .access import admin_required, partner_required

PAGE_SIZE = 50
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Motif de l'avoir"), max_length=255)


def _month(value: str) -> dt.date | None:
    value = (value or "").strip()
    return dt.date.fromisoformat(f"{value}-01") if _MONTH.match(value) else None


def _list_url(month: dt.date | None) -> str:
    url = reverse("backoffice:client_invoice_list")
    return f"{url}?month={month:%Y-%m}" if month else url


@partner_required
@require_GET
def client_invoice_list_view(request: HttpRequest) -> HttpResponse:
    month = _month(request.GET.get("month", "")) or month_start()
    partner = request.staff_partner
    invoices = selectors.client_invoice_list(partner, month=month)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    policy = ResalePolicy.objects.filter(partner=partner).first()
    return render(
        request,
        "backoffice/billing/client_invoice_list.html",
        {
            "page": page,
            "invoices": page.object_list,
            "month": f"{month:%Y-%m}",
            "query": f"month={month:%Y-%m}",
            "enabled": bool(policy and policy.enabled),
            "drafts": invoices.filter(state=Invoice.State.DRAFT).count(),
            "is_admin": request.user.membership.is_admin,
        },
    )


@partner_required
@require_GET
def client_invoice_detail_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.client_invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    lines = list(selectors.invoice_lines(invoice))
    groups = [
        {"label": label, "lines": rows, "total_ht": sum((r.amount_ht for r in rows), start=0)}
        for label, rows in (
            (label, list(rows)) for label, rows in groupby(lines, key=lambda line: line.group)
        )
    ]
    credit_notes = selectors.client_invoice_list(request.staff_partner).filter(credit_note_of=invoice)
    return render(
        request,
        "backoffice/billing/client_invoice_detail.html",
        {
            "invoice": invoice,
            "groups": groups,
            "line_count": len(lines),
            "credit_notes": list(credit_notes),
            "is_admin": request.user.membership.is_admin,
            "credit_form": CreditNoteForm(),
        },
    )


@partner_required
@require_GET
def client_invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.client_invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    if invoice.pdf is None:
        messages.info(
            request,
            _("Le PDF de cette facture est en cours de production : réessayez dans quelques instants."),
        )
        return redirect("backoffice:client_invoice_detail", invoice_id=invoice.pk)
    response = HttpResponse(bytes(invoice.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@admin_required
@require_POST
def client_invoice_issue_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """« Émettre » a draft: numbered in the partner's own sequence, immutable afterwards; a double click issues
    once (the service returns an issued invoice as it is)."""
    invoice = selectors.client_invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    try:
        invoice = reseller.reseller_invoice_issue(partner=request.staff_partner, invoice=invoice)
    except RuleViolation as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Facture %(number)s émise.") % {"number": invoice.number})
    return redirect("backoffice:client_invoice_detail", invoice_id=invoice.pk)


@admin_required
@require_POST
def client_invoice_issue_all_view(request: HttpRequest) -> HttpResponse:
    month = _month(request.POST.get("month", ""))
    if month is None:
        messages.error(request, _("Mois invalide."))
        return redirect(_list_url(None))
    issued, left = reseller.reseller_invoices_issue_all(partner=request.staff_partner, month=month)
    messages.success(request, _("%(n)d facture(s) émise(s).") % {"n": issued})
    if left:
        messages.warning(
            request, _("%(n)d brouillon(s) restent à compléter (prix de revente à définir).") % {"n": left}
        )
    return redirect(_list_url(month))


@admin_required
@require_POST
def client_invoice_drafts_view(request: HttpRequest) -> HttpResponse:
    """Re-make the month's drafts now (after a price change): issued invoices stay as they are."""
    month = _month(request.POST.get("month", ""))
    if month is None:
        messages.error(request, _("Mois invalide."))
        return redirect(_list_url(None))
    try:
        drafts = reseller.reseller_drafts_make(partner=request.staff_partner, month=month)
    except RuleViolation as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(n)d brouillon(s) préparé(s).") % {"n": len(drafts)})
    return redirect(_list_url(month))


@admin_required
@require_POST
def client_invoice_credit_note_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.client_invoice_get_for_actor_or_404(request.staff_partner, invoice_id)
    form = CreditNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indiquez le motif de l'avoir."))
        return redirect("backoffice:client_invoice_detail", invoice_id=invoice.pk)
    try:
        note = credit_note_create(invoice=invoice, reason=form.cleaned_data["reason"])
    except RuleViolation as exc:
        messages.error(request, str(exc.message))
        return redirect("backoffice:client_invoice_detail", invoice_id=invoice.pk)
    messages.success(request, _("Avoir %(number)s émis.") % {"number": note.number})
    return redirect("backoffice:client_invoice_detail", invoice_id=note.pk)
