"""Django admin for platform staff: the catalog, with price editing (kept by ``load_catalog``)."""

from django.contrib import admin

from .models import CatalogVersion, Offer, Option, RoamingChoice, Topup, UsageRate
from .services import catalog_item_admin_save


class PriceEditAdmin(admin.ModelAdmin):
    """Saving through the catalog service: an edited price sets ``price_overridden`` so a reload keeps it."""

    readonly_fields = ("price_overridden", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        catalog_item_admin_save(item=obj, changed_fields=list(form.changed_data))


@admin.register(Offer)
class OfferAdmin(PriceEditAdmin):
    list_display = (
        "code",
        "label",
        "network",
        "range",
        "blocked",
        "monthly_price_ht",
        "five_g_included",
        "price_overridden",
        "active",
    )
    list_editable = ("monthly_price_ht",)
    list_filter = ("network", "range", "blocked", "active", "price_overridden")
    search_fields = ("code", "label")
    ordering = ("network", "sort_order")


@admin.register(Option)
class OptionAdmin(PriceEditAdmin):
    list_display = (
        "code",
        "label",
        "network",
        "kind",
        "monthly_price_ht",
        "fas_ht",
        "requires_init_sys",
        "price_overridden",
        "active",
    )
    list_editable = ("monthly_price_ht", "fas_ht")
    list_filter = ("network", "kind", "active")
    search_fields = ("code", "label")


@admin.register(Topup)
class TopupAdmin(PriceEditAdmin):
    list_display = ("code", "network", "family", "data_bytes", "price_ht", "price_overridden", "active")
    list_editable = ("price_ht",)
    list_filter = ("network", "family", "active")
    search_fields = ("code",)


@admin.register(RoamingChoice)
class RoamingChoiceAdmin(PriceEditAdmin):
    list_display = ("code", "network", "zone", "kind", "option_type", "limit", "unit", "price_ht", "active")
    list_editable = ("price_ht",)
    list_filter = ("network", "zone", "kind", "option_type", "active")
    search_fields = ("code",)


@admin.register(CatalogVersion)
class CatalogVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "checksum", "loaded_at")
    readonly_fields = ("version", "checksum", "loaded_at")

    def has_add_permission(self, request):
        return False


@admin.register(UsageRate)
class UsageRateAdmin(PriceEditAdmin):
    """Per-unit prices of metered usage (issue 7): empty = « à tarifer »."""

    list_display = ("code", "label", "network", "unit", "price_ht", "price_overridden", "active")
    list_editable = ("price_ht",)
    list_filter = ("network", "unit", "active", "price_overridden")
    search_fields = ("code", "label")
