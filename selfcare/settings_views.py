"""Self-care « Mon compte »: the client's own settings — its logo (same checks as the partner's, R-SC-2), its
contact details, the fleet manager's password.

One URL, no identifier in it or in the form: the client is ``request.client_account`` (set by
``selfcare_login_required`` from the caller's own access), so another client's settings cannot even be named.
Each form posts a ``section``; a success redirects back to the page, a refusal re-renders it with the French
message next to the field (422). Nothing is notified: R-SC-8's « Commande selfcare » covers line actions only.
Rules live in ``partners.services`` and ``partners.selfcare``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core.errors import RuleViolation
from partners.selfcare import selfcare_password_change
from partners.services import LOGO_SIZE, client_contact_update, client_logo_remove, client_logo_set

from .access import selfcare_login_required
from .forms import ClientContactForm, ClientLogoForm, PasswordChangeForm


def _add_violation(form, exc: RuleViolation) -> None:
    """A service's refusal next to the field it names (or on top of the form)."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))


def _logo(request: HttpRequest, forms: dict) -> str | None:
    form = forms["logo_form"] = ClientLogoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            client_logo_set(client=request.client_account, file=form.cleaned_data["logo"])
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            return _("Votre logo est enregistré.")
    return None


def _logo_remove(request: HttpRequest, forms: dict) -> str | None:
    client_logo_remove(client=request.client_account)
    return _("Votre logo est supprimé.")


def _contact(request: HttpRequest, forms: dict) -> str | None:
    form = forms["contact_form"] = ClientContactForm(request.POST)
    if form.is_valid():
        try:
            client_contact_update(client=request.client_account, **form.cleaned_data)
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            return _("Vos coordonnées sont enregistrées.")
    return None


def _password(request: HttpRequest, forms: dict) -> str | None:
    form = forms["password_form"] = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        try:
            user = selfcare_password_change(
                access=request.selfcare_access,
                current_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except RuleViolation as exc:
            _add_violation(form, exc)
        else:
            update_session_auth_hash(request, user)  # this session stays open; the others end
            return _("Votre mot de passe est modifié.")
    return None


SECTIONS = {"logo": _logo, "logo_remove": _logo_remove, "contact": _contact, "password": _password}


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@selfcare_login_required
@require_http_methods(["GET", "POST"])
def account_view(request: HttpRequest) -> HttpResponse:
    client = request.client_account
    forms: dict = {}
    status = 200
    if request.method == "POST":
        handler = SECTIONS.get(request.POST.get("section", ""))
        if handler is None:
            return HttpResponse(status=400)
        done = handler(request, forms)
        if done:
            messages.success(request, done)
            return redirect("selfcare:account")
        status = 422
    forms.setdefault("logo_form", ClientLogoForm())
    forms.setdefault("contact_form", ClientContactForm(initial=ClientContactForm.initial_from(client)))
    forms.setdefault("password_form", PasswordChangeForm(request.user))
    context = {"partner": request.partner, "client": client, "logo_size": LOGO_SIZE, **forms}
    return render(request, "selfcare/account.html", context, status=status)
