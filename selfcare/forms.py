"""Self-care forms: input shape only (STYLE 3)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from partners.models import ClientAccount


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Identifiant selfcare"), max_length=150)
    password = forms.CharField(label=_("Mot de passe"), strip=False, widget=forms.PasswordInput)


class PasswordForgottenForm(forms.Form):
    username = forms.CharField(label=_("Identifiant selfcare"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)


class PasswordSetForm(SetPasswordForm):
    """Django's two-field form (same password twice, the password validators), without its ``save()``: the
    service sets the password."""


# --- « Mon compte »: the client's own settings ---------------------------------------------------------------


class ClientLogoForm(forms.Form):
    # A plain FileField: partners.services.logo_fit is the one judge of an acceptable image (R-SC-2).
    logo = forms.FileField(
        label=_("Cliquez pour importer votre logo client"),
        help_text=_("PNG, JPEG ou WebP, 1 Mo au plus. Il est ajusté en 120 × 60 px."),
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )


def _label(name: str):
    return capfirst(ClientAccount._meta.get_field(name).verbose_name)  # lazy: translated when rendered


class ClientContactForm(forms.Form):
    """The client's contact details (not its company name, SIRET, type or country: the partner's). Phones,
    postal code and the e-mail are checked by ``partners.services.client_contact_update``, like the
    back-office client form."""

    first_name = forms.CharField(label=_label("first_name"), max_length=100, required=False)
    last_name = forms.CharField(label=_label("last_name"), max_length=100, required=False)
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

    @classmethod
    def initial_from(cls, client: ClientAccount) -> dict:
        initial = {name: getattr(client, name) for name in cls.base_fields}
        initial["mobile"] = client.mobile_display
        initial["landline"] = client.landline_display
        return initial


class PasswordChangeForm(PasswordSetForm):
    """Current password, then the new one twice (Django's validators). The service checks the current one."""

    old_password = forms.CharField(
        label=_("Mot de passe actuel"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password1", "new_password2"]
