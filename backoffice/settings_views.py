"""Back-office "Paramètres" (R-BO-3): Mon entreprise, Mes fichiers et images (the self-care logo, R-SC-2),
Contacts (the partner's staff and their roles).

Every staff member may read the settings; only the partner's admins change them: each write is its own
POST-only view behind ``admin_required`` (403 for a collaborator). No URL here takes a parameter: the
partner is the one of the logged-in user, and a member picked for a role change comes from the POST body
through a scoped selector (404 for another partner's member). Rules live in ``partners.services``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.models import PartnerBillingProfile
from billing.services import partner_billing_profile_set
from core.errors import RuleViolation, ValidationFailed
from partners.hosts import selfcare_url
from partners.models import Partner, PartnerMembership
from partners.selectors import partner_membership_get_for_partner_or_404, partner_staff_list
from partners.services import (
    LOGO_SIZE,
    partner_logo_remove,
    partner_logo_set,
    partner_settings_update,
    partner_staff_add,
    partner_staff_notifications_set,
    partner_staff_role_set,
)

from .access import admin_required, partner_required

TABS = (
    ("company", gettext_lazy("Mon entreprise"), "backoffice:settings_company"),
    ("files", gettext_lazy("Mes fichiers et images"), "backoffice:settings_files"),
    ("contacts", gettext_lazy("Contacts"), "backoffice:settings_contacts"),
    ("notifications", gettext_lazy("Notifications email"), "backoffice:settings_notifications"),
    ("billing", gettext_lazy("Facturation"), "backoffice:settings_billing"),
    ("reseller", gettext_lazy("Facturation revendeur"), "backoffice:settings_reseller"),
)


class RuleViolationFormMixin:
    def add_rule_violation(self, exc: RuleViolation) -> None:
        """A service's refusal next to the field it names (or on top of the form)."""
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, str(exc.message))


class CompanyForm(RuleViolationFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Raison sociale"), max_length=200)
    notification_email = forms.EmailField(
        label=gettext_lazy("E-mail des notifications"),
        required=False,
        help_text=gettext_lazy(
            "Reçoit les notifications (actions selfcare, alertes). Vide : les e-mails des administrateurs."
        ),
    )
    notify_selfcare_orders = forms.BooleanField(
        label=gettext_lazy("Notification e-mail « Commande selfcare »"),
        required=False,
        help_text=gettext_lazy(
            "Un e-mail à chaque action d'un client dans son espace client : suspension, réactivation, "
            "recharge, changement de SIM, renommage de l'utilisateur (R-SC-8)."
        ),
    )

    @classmethod
    def initial_from(cls, partner: Partner) -> dict:
        return {
            "name": partner.name,
            "notification_email": partner.notification_email,
            "notify_selfcare_orders": partner.notify_selfcare_orders,
        }


class LogoForm(RuleViolationFormMixin, forms.Form):
    # A plain FileField: partners.services.logo_fit is the one judge of what an acceptable image is.
    logo = forms.FileField(
        label=gettext_lazy("Logo"),
        help_text=gettext_lazy("PNG, JPEG ou WebP, 1 Mo au plus. Il est ajusté en 120 × 60 px."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )


class StaffAddForm(RuleViolationFormMixin, forms.Form):
    username = forms.CharField(label=gettext_lazy("Identifiant"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    first_name = forms.CharField(label=gettext_lazy("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=gettext_lazy("Rôle"),
        choices=PartnerMembership.Role.choices,
        initial=PartnerMembership.Role.STAFF,
    )
    password = forms.CharField(
        label=gettext_lazy("Mot de passe initial"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Laissez vide pour en générer un (affiché une seule fois)."),
    )


class RoleForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=gettext_lazy("Rôle"), choices=PartnerMembership.Role.choices)


def _is_admin(request: HttpRequest) -> bool:
    return request.user.membership.is_admin


def _render(request: HttpRequest, tab: str, context: dict, status: int = 200) -> HttpResponse:
    partner = request.staff_partner
    context = {
        "tabs": TABS,
        "tab": tab,
        "partner": partner,
        "is_admin": _is_admin(request),
        **context,
    }
    return render(request, f"backoffice/settings/{tab}.html", context, status=status)


# --- Mon entreprise --------------------------------------------------------------------------------------


def _company_page(request: HttpRequest, form: CompanyForm | None = None, status: int = 200) -> HttpResponse:
    partner = request.staff_partner
    if form is None and _is_admin(request):
        form = CompanyForm(initial=CompanyForm.initial_from(partner))
    return _render(
        request,
        "company",
        {"form": form, "selfcare_url": selfcare_url(partner.slug, request)},
        status=status,
    )


@require_GET
@partner_required
def settings_company_view(request: HttpRequest) -> HttpResponse:
    return _company_page(request)


@admin_required
@require_POST
def settings_company_update_view(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST)
    if form.is_valid():
        try:
            partner_settings_update(partner=request.staff_partner, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("Les informations de votre société ont été enregistrées."))
            return redirect("backoffice:settings_company")
    return _company_page(request, form, status=422)


# --- Mes fichiers et images ------------------------------------------------------------------------------


def _files_page(request: HttpRequest, form: LogoForm | None = None, status: int = 200) -> HttpResponse:
    partner = request.staff_partner
    return _render(
        request,
        "files",
        {
            "form": form or (LogoForm() if _is_admin(request) else None),
            "logo_size": LOGO_SIZE,
            "selfcare_url": selfcare_url(partner.slug, request),
        },
        status=status,
    )


@require_GET
@partner_required
def settings_files_view(request: HttpRequest) -> HttpResponse:
    return _files_page(request)


@admin_required
@require_POST
def settings_logo_upload_view(request: HttpRequest) -> HttpResponse:
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            partner_logo_set(partner=request.staff_partner, file=form.cleaned_data["logo"])
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("Le logo a été enregistré ; il s'affiche sur votre espace client."))
            return redirect("backoffice:settings_files")
    return _files_page(request, form, status=422)


@admin_required
@require_POST
def settings_logo_remove_view(request: HttpRequest) -> HttpResponse:
    partner_logo_remove(partner=request.staff_partner)
    messages.success(request, _("Le logo a été supprimé."))
    return redirect("backoffice:settings_files")


# --- Contacts --------------------------------------------------------------------------------------------


def _contacts_page(
    request: HttpRequest,
    *,
    add_form: StaffAddForm | None = None,
    role_error: tuple[int, str] | None = None,
    created: tuple | None = None,
    status: int = 200,
) -> HttpResponse:
    members = list(partner_staff_list(request.staff_partner))
    is_admin = _is_admin(request)
    if add_form is None and is_admin:
        add_form = StaffAddForm()
    return _render(
        request,
        "contacts",
        {
            "members": members,
            "roles": PartnerMembership.Role.choices,
            "add_form": add_form,
            "role_error": role_error,
            "created": created,
        },
        status=status,
    )


@require_GET
@partner_required
def settings_contacts_view(request: HttpRequest) -> HttpResponse:
    return _contacts_page(request)


@admin_required
@require_POST
def settings_contact_add_view(request: HttpRequest) -> HttpResponse:
    """Adds a staff member. On success the page is rendered directly (no redirect): a generated initial
    password is shown once in this response and never stored in a message cookie or the session."""
    form = StaffAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            user, password = partner_staff_add(partner=request.staff_partner, **data)
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            generated = password if not data["password"] else None
            return _contacts_page(request, add_form=StaffAddForm(), created=(user, generated))
    return _contacts_page(request, add_form=form, status=422)


@admin_required
@require_POST
def settings_contact_role_view(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _contacts_page(request, role_error=(None, _("Choisissez un rôle valide.")), status=422)
    membership = partner_membership_get_for_partner_or_404(request.staff_partner, form.cleaned_data["member"])
    try:
        membership = partner_staff_role_set(membership=membership, role=form.cleaned_data["role"])
    except RuleViolation as exc:
        return _contacts_page(request, role_error=(membership.pk, str(exc.message)), status=422)
    messages.success(
        request,
        _("Le rôle de %(user)s est maintenant « %(role)s ».")
        % {"user": membership.user.get_username(), "role": membership.get_role_display()},
    )
    return redirect("backoffice:settings_contacts")


# --- Notifications email (R-SC-8, R-ALR-4) -----------------------------------------------------------------


class NotificationsForm(forms.Form):
    notify_selfcare_orders = forms.BooleanField(
        label=gettext_lazy("Commande selfcare"),
        required=False,
        help_text=gettext_lazy("Un e-mail à chaque action d'un client depuis son espace client."),
    )
    notify_usage_alerts = forms.BooleanField(
        label=gettext_lazy("Alertes de consommation"),
        required=False,
        help_text=gettext_lazy("Un e-mail quand une ligne atteint 80 % ou 100 % de sa limite."),
    )


@require_http_methods(["GET", "POST"])
@partner_required
def settings_notifications_view(request: HttpRequest) -> HttpResponse:
    """Each staff user (admin or not) chooses their own notification emails; admins also see everyone's."""
    membership = request.user.membership
    form = NotificationsForm(
        request.POST or None,
        initial={
            "notify_selfcare_orders": membership.notify_selfcare_orders,
            "notify_usage_alerts": membership.notify_usage_alerts,
        },
    )
    if request.method == "POST" and form.is_valid():
        partner_staff_notifications_set(membership=membership, **form.cleaned_data)
        messages.success(request, _("Vos notifications email sont enregistrées."))
        return redirect("backoffice:settings_notifications")
    members = list(partner_staff_list(request.staff_partner)) if _is_admin(request) else []
    return _render(request, "notifications", {"form": form, "members": members})


# --- Facturation: the legal identity AlphaLink invoices the partner under (issue 9) --------------------------


class BillingProfileForm(forms.ModelForm):
    """Input shape only: ``billing.services.partner_billing_profile_set`` checks the SIRET, the VAT number and
    that they belong to the same SIREN."""

    siret = forms.CharField(label=gettext_lazy("SIRET"), max_length=20)
    vat_number = forms.CharField(label=gettext_lazy("N° de TVA intracommunautaire"), max_length=20)

    class Meta:
        model = PartnerBillingProfile
        fields = ["legal_name", "siret", "vat_number", "address", "postcode", "city", "email"]
        help_texts = {
            "siret": gettext_lazy("14 chiffres."),
            "vat_number": gettext_lazy("FR + clé + SIREN, ex. FR40303265045."),
            "email": gettext_lazy("Reçoit les factures d'AlphaLink (facultatif)."),
        }

    def _post_clean(self):
        """No model validation here: the service judges (and reports every error at once)."""


def _billing_page(
    request: HttpRequest, form: BillingProfileForm | None = None, status: int = 200
) -> HttpResponse:
    profile = PartnerBillingProfile.objects.filter(partner=request.staff_partner).first()
    if form is None and _is_admin(request):
        form = BillingProfileForm(instance=profile)
    return _render(request, "billing", {"form": form, "profile": profile}, status=status)


@require_GET
@partner_required
def settings_billing_view(request: HttpRequest) -> HttpResponse:
    return _billing_page(request)


@admin_required
@require_POST
def settings_billing_update_view(request: HttpRequest) -> HttpResponse:
    form = BillingProfileForm(request.POST)
    if form.is_valid():
        try:
            partner_billing_profile_set(partner=request.staff_partner, **form.cleaned_data)
        except ValidationFailed as exc:
            for error in exc.errors:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
        else:
            messages.success(
                request,
                _("Votre identité de facturation est enregistrée : elle figurera sur la prochaine facture."),
            )
            return redirect("backoffice:settings_billing")
    return _billing_page(request, form, status=422)


# --- Facturation revendeur: the partner's resale prices to its own clients (R-BO-3, issue 9 item 3) ---------


def _reseller_page(
    request: HttpRequest, *, posted: dict | None = None, errors: dict | None = None, status: int = 200
) -> HttpResponse:
    """The switch, the margin and one row per catalog item (AlphaLink's price, the explicit resale price). On a
    refused save the posted values come back with every error beside its field."""
    from billing.models import ResalePolicy, ResalePrice
    from billing.reseller import resale_items

    partner = request.staff_partner
    policy = ResalePolicy.objects.filter(partner=partner).first()
    explicit = dict(ResalePrice.objects.filter(partner=partner).values_list("item", "unit_price_ht"))
    errors = errors or {}
    rows = []
    for item, group, label, wholesale in resale_items():
        if posted is not None:
            value = posted.get(f"price_{item}", "")
        else:
            value = format(explicit[item].normalize(), "f") if item in explicit else ""
        rows.append(
            {
                "item": item,
                "group": group,
                "label": label,
                "wholesale": wholesale,
                "value": value,
                "errors": errors.get(f"price_{item}", []),
            }
        )
    context = {
        "policy": policy,
        "enabled": (posted.get("enabled") == "on") if posted is not None else bool(policy and policy.enabled),
        "margin": posted.get("margin_percent", "")
        if posted is not None
        else (format(policy.margin_percent.normalize(), "f") if policy else "0"),
        "margin_errors": errors.get("margin_percent", []),
        "other_errors": errors.get(None, []),
        "rows": rows,
        "explicit_count": len(explicit),
    }
    return _render(request, "reseller", context, status=status)


@require_GET
@partner_required
def settings_reseller_view(request: HttpRequest) -> HttpResponse:
    return _reseller_page(request)


@admin_required
@require_POST
def settings_reseller_update_view(request: HttpRequest) -> HttpResponse:
    """Save everything or nothing (``billing.reseller.resale_policy_set`` reports every error at once)."""
    from billing.reseller import resale_policy_set

    prices = {key[len("price_") :]: value for key, value in request.POST.items() if key.startswith("price_")}
    try:
        resale_policy_set(
            partner=request.staff_partner,
            enabled=request.POST.get("enabled") == "on",
            margin_percent=request.POST.get("margin_percent", ""),
            prices=prices,
        )
    except ValidationFailed as exc:
        errors: dict = {}
        for error in exc.errors:
            errors.setdefault(error.field, []).append(str(error.message))
        return _reseller_page(request, posted=request.POST, errors=errors, status=422)
    messages.success(
        request, _("Vos prix de revente sont enregistrés : ils s'appliquent aux prochains brouillons.")
    )
    return redirect("backoffice:settings_reseller")
