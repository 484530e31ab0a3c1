"""Back-office forms: they validate input shape only; services enforce the rules (STYLE 3)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.errors import RuleViolation
from partners.models import ClientAccount


def _label(field: str) -> str:
    name = str(ClientAccount._meta.get_field(field).verbose_name)
    return name[:1].upper() + name[1:]


class ClientForm(forms.Form):
    """R-BO-1 client account fields. SIRET, phones, postal code and duplicates are checked by
    ``partners.services.client_create/client_update``; their ``RuleViolation`` lands on the field
    through :meth:`add_rule_violation`."""

    account_type = forms.ChoiceField(label=_label("account_type"), choices=ClientAccount.AccountType.choices)
    company_name = forms.CharField(label=_label("company_name"), max_length=200)
    siret = forms.CharField(
        label=_label("siret"),
        max_length=20,
        help_text=_("14 chiffres, espaces acceptés."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    last_name = forms.CharField(label=_label("last_name"), max_length=100, required=False)
    first_name = forms.CharField(label=_label("first_name"), max_length=100, required=False)
    email = forms.EmailField(label=_label("email"), max_length=254)
    mobile = forms.CharField(
        label=_label("mobile"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "06 12 34 56 78"}),
    )
    landline = forms.CharField(
        label=_label("landline"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "01 23 45 67 89"}),
    )
    address = forms.CharField(label=_label("address"), max_length=255, required=False)
    postal_code = forms.CharField(label=_label("postal_code"), max_length=10, required=False)
    city = forms.CharField(label=_label("city"), max_length=100, required=False)
    country = forms.CharField(
        label=_label("country"),
        max_length=2,
        min_length=2,
        initial="FR",
        help_text=_("Code ISO à deux lettres (FR, BE, CH…)."),
    )

    @classmethod
    def initial_from(cls, client: ClientAccount) -> dict:
        initial = {name: getattr(client, name) for name in cls.base_fields}
        initial["mobile"] = client.mobile_display
        initial["landline"] = client.landline_display
        return initial

    def add_rule_violation(self, exc: RuleViolation) -> None:
        """Put a service's refusal next to the field it names (or on top of the form)."""
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, str(exc.message))


class ClientCreateForm(ClientForm):
    """R-BO-1 client fields plus the optional « Ouvrir l'accès selfcare » block (R-SC-1): filling the email or
    the login opens the access — both are then required (checked by ``partners.selfcare``)."""

    selfcare_email = forms.EmailField(label=_("E-mail selfcare"), max_length=254, required=False)
    selfcare_username = forms.CharField(
        label=_("Identifiant selfcare"),
        max_length=150,
        required=False,
        help_text=_("Unique sur la plateforme, par exemple flotte@societe."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    selfcare_esim_swap_allowed = forms.BooleanField(
        label=_("Autoriser l'action SIM Swap vers eSIM"), required=False
    )

    SELFCARE_FIELDS = ("selfcare_email", "selfcare_username", "selfcare_esim_swap_allowed")

    def client_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in self.SELFCARE_FIELDS}


class SelfcareAccessForm(forms.Form):
    """R-SC-1 a self-care user: email and login (both required; uniqueness is checked by the service)."""

    email = forms.EmailField(label=_("E-mail"), max_length=254)
    username = forms.CharField(
        label=_("Identifiant selfcare"),
        max_length=150,
        help_text=_("Unique sur la plateforme, par exemple flotte@societe."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def add_rule_violation(self, exc: RuleViolation) -> None:
        self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))


class SelfcareOptionsForm(forms.Form):
    esim_swap_allowed = forms.TypedChoiceField(
        label=_("Autoriser l'action SIM Swap vers eSIM"),
        choices=[
            ("0", _("Non")),
            ("1", _("Oui")),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )


class ApiTokenForm(forms.Form):
    """« Jeton API »: the name of a new token (the service checks it)."""

    name = forms.CharField(
        label=_("Nom du jeton"),
        max_length=100,
        help_text=_("Par exemple le logiciel qui l'utilisera : « ERP », « Intégration facturation »."),
    )

    def add_rule_violation(self, exc: RuleViolation) -> None:
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, str(exc.message))
