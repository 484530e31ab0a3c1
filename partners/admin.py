from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ClientAccount, Partner, PartnerMembership, Site, User


class MembershipInline(admin.StackedInline):
    model = PartnerMembership
    extra = 0


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    inlines = [MembershipInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_init_sys", "is_rezocean", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("is_init_sys", "is_rezocean")


@admin.register(ClientAccount)
class ClientAccountAdmin(admin.ModelAdmin):
    list_display = ("company_name", "siret", "partner", "email", "created_at")
    search_fields = ("company_name", "siret", "email")
    list_filter = ("partner", "account_type")
    list_select_related = ("partner",)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "client", "partner")
    list_select_related = ("client", "partner")
