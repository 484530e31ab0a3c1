"""Back-office client pages (R-BO-1): searchable list, create, detail, edit — and the staff API token page.

No business rule here: the form checks input shape, ``partners.services`` decides, and its ``RuleViolation``
is shown next to the field it names (STYLE 3, 20).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import RuleViolation
from partners.hosts import selfcare_url
from partners.models import ClientAccount
from partners.selectors import (
    api_token_get_for_user_or_404,
    api_token_list,
    client_get_for_partner_or_404,
    client_list,
    site_list,
)
from partners.selfcare import client_create_with_selfcare
from partners.services import api_token_create, api_token_revoke, client_update

from .access import partner_required
from .forms import ApiTokenForm, ClientCreateForm, ClientForm

PAGE_SIZE = 25


@dataclass(frozen=True)
class ClientSection:
    """One block of the client detail page contributed by another area (lines, contracts, SIMs…)."""

    title: str
    template: str
    context: dict = field(default_factory=dict)


# Later areas add their blocks to the client page here, without touching this module's views:
#     from backoffice.clients_views import CLIENT_DETAIL_SECTIONS, ClientSection
#     CLIENT_DETAIL_SECTIONS.append(lambda request, client: ClientSection(
#         _("Lignes"), "backoffice/contracts/_client_lines.html",
#         {"contracts": contract_list(request.staff_partner, client=client)}))
# Each callable gets the request (``request.staff_partner`` is set) and the client, and returns a
# ClientSection or None (nothing to show). Scope every read with ``request.staff_partner``.
CLIENT_DETAIL_SECTIONS: list[Callable[[HttpRequest, ClientAccount], ClientSection | None]] = []


@partner_required
@require_GET
def client_list_view(request: HttpRequest) -> HttpResponse:
    """R-BO-1 searchable list. htmx search-as-you-type swaps only the ``results`` partial."""
    search = request.GET.get("q", "").strip()
    clients = client_list(request.staff_partner, search=search)
    page = Paginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "clients": page.object_list, "search": search}
    template = "backoffice/clients/list.html"
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        template += "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@partner_required
@require_http_methods(["GET", "POST"])
def client_create_view(request: HttpRequest) -> HttpResponse:
    """R-BO-1 a new client; with « Ouvrir l'accès selfcare » filled, its self-care user and the set-password
    email too (R-SC-1) — all in one transaction: a refusal anywhere saves nothing."""
    form = ClientCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client = client_create_with_selfcare(
                partner=request.staff_partner,
                client_data=form.client_data(),
                selfcare_email=data["selfcare_email"],
                selfcare_username=data["selfcare_username"],
                esim_swap_allowed=data["selfcare_esim_swap_allowed"],
                selfcare_root_url=selfcare_url(request.staff_partner.slug, request),
            )
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("Le client « %(name)s » a été créé.") % {"name": client.company_name})
            if data["selfcare_username"]:
                messages.success(
                    request,
                    _("Un lien pour choisir le mot de passe de « %(login)s » a été envoyé à %(email)s.")
                    % {"login": data["selfcare_username"].strip(), "email": data["selfcare_email"]},
                )
            return redirect("backoffice:client_detail", client_id=client.pk)
    return render(request, "backoffice/clients/form.html", {"form": form, "client": None})


@partner_required
@require_GET
def client_detail_view(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_get_for_partner_or_404(request.staff_partner, client_id)
    sections = [s for s in (build(request, client) for build in CLIENT_DETAIL_SECTIONS) if s is not None]
    context = {
        "client": client,
        "sites": site_list(request.staff_partner, client=client),
        "sections": sections,
    }
    return render(request, "backoffice/clients/detail.html", context)


@partner_required
@require_http_methods(["GET", "POST"])
def client_edit_view(request: HttpRequest, client_id: int) -> HttpResponse:
    client = client_get_for_partner_or_404(request.staff_partner, client_id)
    if request.method == "POST":
        form = ClientForm(request.POST)
        if form.is_valid():
            try:
                client = client_update(client=client, **form.cleaned_data)
            except RuleViolation as exc:
                form.add_rule_violation(exc)
            else:
                messages.success(
                    request, _("Le client « %(name)s » a été modifié.") % {"name": client.company_name}
                )
                return redirect("backoffice:client_detail", client_id=client.pk)
    else:
        form = ClientForm(initial=ClientForm.initial_from(client))
    return render(request, "backoffice/clients/form.html", {"form": form, "client": client})


@partner_required
@require_http_methods(["GET", "POST"])
def api_token_view(request: HttpRequest) -> HttpResponse:
    """A partner integrator's API tokens (issue 10 item 6): the list (name, start of the token, dates) and a
    form to create one. The secret of a new token is in the answer to the creation only — rendered here rather
    than after a redirect, so it is never stored anywhere to be shown again (``Cache-Control: no-store``)."""
    secret = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, secret = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except RuleViolation as exc:
                form.add_rule_violation(exc)
            else:
                form = ApiTokenForm()
    else:
        form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": list(api_token_list(request.user)),
        "secret": secret,
        "now": timezone.now(),
    }
    response = render(request, "backoffice/clients/api_token.html", context)
    response["Cache-Control"] = "no-store"
    return response


@partner_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the user's own tokens (404 for anyone else's); it stops working at once."""
    token = api_token_revoke(token=api_token_get_for_user_or_404(request.user, token_id))
    messages.success(
        request, _("Le jeton « %(name)s » est révoqué : il ne fonctionne plus.") % {"name": token.name}
    )
    return redirect("backoffice:api_token")
