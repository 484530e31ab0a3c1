"""The contract's Resources tab action "Renvoyer les informations" of an eSIM (R-ORD-4). The rule lives in
``contracts.esim.contract_esim_resend``; this view only reads the form and shows the outcome."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contracts import selectors
from contracts.esim import contract_esim_resend
from core.errors import RuleViolation

from .access import partner_required
from .contracts_views import _render, _tab_context

TAB = "ressources"


@partner_required
@require_POST
def contract_esim_resend_view(request: HttpRequest, contract_id: int) -> HttpResponse:
    """POST email + mobile: the eSIM details are sent again (email with QR code, SMS with the code). A refusal
    re-renders the Resources tab with the French error next to its field (422)."""
    contract = selectors.contract_get_for_partner_or_404(request.staff_partner, contract_id)
    email = request.POST.get("email", "")
    mobile = request.POST.get("mobile", "")
    try:
        delivery = contract_esim_resend(contract=contract, email=email, mobile=mobile, actor=request.user)
    except RuleViolation as exc:
        context = _tab_context(request, contract, TAB)
        field = exc.field if exc.field in ("email", "mobile") else "other"
        context["esim_resend_errors"] = {field: [exc.message]}
        context["esim_resend_values"] = {"email": email, "mobile": mobile}
        response = _render(request, "backoffice/contracts/detail.html", context, "tab_panel")
        response.status_code = 422
        return response
    messages.success(
        request,
        _("Informations eSIM renvoyées : e-mail à %(email)s, SMS au %(mobile)s.")
        % {"email": delivery.email.to, "mobile": delivery.sms.to},
    )
    return redirect("backoffice:contract_tab", contract_id=contract.pk, tab=TAB)
