"""Back-office « Configuration selfcare » of a client (R-SC-1, R-BO-1): the self-care address, the eSIM swap
option, the client's self-care users, and « (Ré)générer le mot de passe et envoyer les informations par mail ».

No business rule here: ``partners.selfcare`` decides; its ``RuleViolation`` lands next to the field."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import RuleViolation
from partners.hosts import selfcare_url
from partners.selectors import (
    client_get_for_partner_or_404,
    selfcare_access_get_for_partner_or_404,
    selfcare_access_list,
)
from partners.selfcare import (
    client_selfcare_options_set,
    selfcare_access_create,
    selfcare_access_update,
    selfcare_password_link_send,
)

from .access import partner_required
from .forms import SelfcareAccessForm, SelfcareOptionsForm


def _sent(request, access) -> None:
    messages.success(
        request,
        _("Un lien pour choisir le mot de passe de « %(login)s » a été envoyé à %(email)s.")
        % {"login": access.user.username, "email": access.user.email},
    )


@partner_required
@require_http_methods(["GET", "POST"])
def client_selfcare_view(request: HttpRequest, client_id: int) -> HttpResponse:
    """The page; POST ``action=options`` saves the eSIM option, ``action=create`` adds a self-care user and
    sends them the set-password link."""
    partner = request.staff_partner
    client = client_get_for_partner_or_404(partner, client_id)
    root_url = selfcare_url(partner.slug, request)
    action = request.POST.get("action") if request.method == "POST" else None
    options_form = SelfcareOptionsForm(
        request.POST if action == "options" else None,
        initial={"esim_swap_allowed": "1" if client.selfcare_esim_swap_allowed else "0"},
    )
    access_form = SelfcareAccessForm(request.POST if action == "create" else None)
    if action == "options" and options_form.is_valid():
        client_selfcare_options_set(
            client=client, esim_swap_allowed=options_form.cleaned_data["esim_swap_allowed"]
        )
        messages.success(request, _("La configuration selfcare a été enregistrée."))
        return redirect("backoffice:client_selfcare", client_id=client.pk)
    if action == "create" and access_form.is_valid():
        try:
            access = selfcare_access_create(client=client, **access_form.cleaned_data)
            selfcare_password_link_send(access=access, selfcare_root_url=root_url)
        except RuleViolation as exc:
            access_form.add_rule_violation(exc)
        else:
            _sent(request, access)
            return redirect("backoffice:client_selfcare", client_id=client.pk)
    context = {
        "client": client,
        "accesses": selfcare_access_list(partner, client),
        "selfcare_url": root_url,
        "options_form": options_form,
        "access_form": access_form,
    }
    return render(
        request, "backoffice/clients/selfcare.html", context, status=422 if access_form.errors else 200
    )


@partner_required
@require_http_methods(["GET", "POST"])
def client_selfcare_access_view(request: HttpRequest, client_id: int, access_id: int) -> HttpResponse:
    """Edit a self-care user's email and login."""
    partner = request.staff_partner
    client = client_get_for_partner_or_404(partner, client_id)
    access = selfcare_access_get_for_partner_or_404(partner, client, access_id)
    if request.method == "POST":
        form = SelfcareAccessForm(request.POST)
        if form.is_valid():
            try:
                access = selfcare_access_update(access=access, **form.cleaned_data)
            except RuleViolation as exc:
                form.add_rule_violation(exc)
            else:
                messages.success(request, _("L'accès selfcare a été modifié."))
                return redirect("backoffice:client_selfcare", client_id=client.pk)
    else:
        form = SelfcareAccessForm(initial={"email": access.user.email, "username": access.user.username})
    context = {"client": client, "access": access, "form": form}
    return render(request, "backoffice/clients/selfcare_access.html", context)


@partner_required
@require_POST
def client_selfcare_send_view(request: HttpRequest, client_id: int, access_id: int) -> HttpResponse:
    """« (Ré)générer le mot de passe et envoyer les informations par mail »."""
    partner = request.staff_partner
    client = client_get_for_partner_or_404(partner, client_id)
    access = selfcare_access_get_for_partner_or_404(partner, client, access_id)
    selfcare_password_link_send(access=access, selfcare_root_url=selfcare_url(partner.slug, request))
    _sent(request, access)
    return redirect("backoffice:client_selfcare", client_id=client.pk)
