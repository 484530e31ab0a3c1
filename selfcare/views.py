"""Self-care pages on ``<slug>.espaceclient.<domain>`` (R-SC-1..3). ``request.partner`` is the host's partner
(partners.middleware); every page after login goes through ``selfcare_login_required``.
No business rule here: partners.selfcare and partners.selectors decide."""

from __future__ import annotations

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import RuleViolation
from partners.hosts import selfcare_url
from partners.selectors import selfcare_user_for_link
from partners.selfcare import SelfcareLinkInvalid, selfcare_password_set
from partners.throttle import selfcare_password_reset_request_throttled

from .access import SESSION_PARTNER_KEY, selfcare_session_access
from .forms import LoginForm, PasswordForgottenForm, PasswordSetForm


def _refused() -> str:
    # R-SC-2: one message for a wrong password, an unknown login, another partner's client, a partner staff user
    return _("Identifiant ou mot de passe incorrect.")


@sensitive_post_parameters("password")
@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """The partner's branded login page (R-SC-2). Only this partner's clients get in (partners.auth)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    if request.method == "GET" and selfcare_session_access(request) is not None:
        return redirect(next_url or "selfcare:home")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST":
        user = None
        if form.is_valid():
            user = authenticate(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        if user is None:
            error = _refused()
        else:
            login(request, user)
            request.session[SESSION_PARTNER_KEY] = request.partner.pk
            return redirect(next_url or "selfcare:home")
    context = {"partner": request.partner, "form": form, "error": error, "next": next_url}
    return render(request, "selfcare/login.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("Vous êtes déconnecté."))
    return redirect("selfcare:login")


@require_http_methods(["GET", "POST"])
def password_forgotten_view(request: HttpRequest) -> HttpResponse:
    """R-SC-3: login + email → a link by email. The same answer whether the account exists or not."""
    form = PasswordForgottenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        selfcare_password_reset_request_throttled(  # R-SC-3: within its budget, else silently nothing
            partner=request.partner,
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            ip_address=get_client_ip_address(request),
            selfcare_root_url=selfcare_url(request.partner.slug, request),
        )
        messages.info(
            request,
            _(
                "Si un compte correspond à cet identifiant et à cette adresse e-mail, un message avec un lien "
                "pour choisir un nouveau mot de passe vient d'y être envoyé."
            ),
        )
        return redirect("selfcare:login")
    return render(request, "selfcare/password_forgotten.html", {"partner": request.partner, "form": form})


@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_set_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """R-SC-1/R-SC-3: the single-use set-password page. An unknown, foreign, used or outdated link: 404 page."""
    user = selfcare_user_for_link(request.partner, uidb64, token)
    if user is None:
        return _link_invalid(request)
    form = PasswordSetForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            selfcare_password_set(
                partner=request.partner,
                uidb64=uidb64,
                token=token,
                password=form.cleaned_data["new_password1"],
            )
        except SelfcareLinkInvalid:
            return _link_invalid(request)
        except RuleViolation as exc:
            form.add_error("new_password1", str(exc.message))
        else:
            messages.success(request, _("Votre mot de passe est enregistré : connectez-vous."))
            return redirect("selfcare:login")
    return render(
        request, "selfcare/password_set.html", {"partner": request.partner, "form": form, "user": user}
    )


def _link_invalid(request: HttpRequest) -> HttpResponse:
    context = {"partner": request.partner, "forgotten_url": reverse("selfcare:password_forgotten")}
    return render(request, "selfcare/link_invalid.html", context, status=404)
