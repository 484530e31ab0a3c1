import secrets

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from core.errors import RuleViolation

from .models import ClientAccount, Partner, PartnerMembership, Site, User
from .services import logo_fit


class MembershipInline(admin.StackedInline):
    model = PartnerMembership
    extra = 0


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    inlines = [MembershipInline]


class PartnerAdminForm(forms.ModelForm):
    """Platform staff upload logos through the same checks and 120×60 fitting as the partner's own settings
    page (R-SC-2)."""

    class Meta:
        model = Partner
        fields = [
            "name",
            "slug",
            "is_init_sys",
            "is_rezocean",
            "logo",
            "notify_selfcare_orders",
            "notification_email",
        ]

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if not logo or "logo" not in self.changed_data or not hasattr(logo, "content_type"):
            return logo  # unchanged or cleared
        try:
            data = logo_fit(logo)
        except RuleViolation as exc:
            raise ValidationError(str(exc.message)) from None
        return ContentFile(data, name=f"{self.instance.slug or 'partenaire'}-{secrets.token_hex(4)}.png")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    form = PartnerAdminForm
    list_display = ("name", "slug", "is_init_sys", "is_rezocean", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("is_init_sys", "is_rezocean")


@admin.register(ClientAccount)
class ClientAccountAdmin(admin.ModelAdmin):
    list_display = ("company_name", "siret", "partner", "email", "created_at")
    search_fields = ("company_name", "siret", "email")
    list_filter = ("partner", "account_type")
    list_select_related = ("partner",)
    readonly_fields = ("logo",)  # the client uploads it from self-care, through logo_fit (R-SC-2's checks)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "partner")
    list_select_related = ("client", "partner")
