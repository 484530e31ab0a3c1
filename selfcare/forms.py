"""Self-care forms: input shape only (STYLE 3)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Identifiant selfcare"), max_length=150)
    password = forms.CharField(label=_("Mot de passe"), strip=False, widget=forms.PasswordInput)


class PasswordForgottenForm(forms.Form):
    username = forms.CharField(label=_("Identifiant selfcare"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)


class PasswordSetForm(SetPasswordForm):
    """Django's two-field form (same password twice, the password validators), without its ``save()``: the
    service sets the password."""
