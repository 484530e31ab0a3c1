"""Platform admin views of the stock: read-mostly (writes go through ``inventory.services``)."""

from django.contrib import admin

from .models import EsimProfile, PhoneNumber, RetiredIdentifier, SimCard


class NoDeleteAdmin(admin.ModelAdmin):
    """Stock rows are never deleted: R-CON-6 keeps retired identifiers forever."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SimCard)
class SimCardAdmin(NoDeleteAdmin):
    list_display = ("iccid", "network", "state", "partner", "client", "updated_at")
    list_filter = ("network", "state", "partner")
    search_fields = ("iccid",)
    list_select_related = ("partner", "client")
    readonly_fields = ("state", "client", "created_at", "updated_at")
    raw_id_fields = ("partner",)


@admin.register(EsimProfile)
class EsimProfileAdmin(NoDeleteAdmin):
    list_display = ("iccid", "matching_id", "state", "partner", "client", "created_at")
    list_filter = ("state", "partner")
    search_fields = ("iccid", "matching_id")
    list_select_related = ("partner", "client")
    readonly_fields = [f.name for f in EsimProfile._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PhoneNumber)
class PhoneNumberAdmin(NoDeleteAdmin):
    list_display = ("msisdn", "network", "kind", "state", "partner", "client")
    list_filter = ("network", "kind", "state", "partner")
    search_fields = ("msisdn",)
    list_select_related = ("partner", "client")
    readonly_fields = ("state", "client", "created_at", "updated_at")
    raw_id_fields = ("partner",)


@admin.register(RetiredIdentifier)
class RetiredIdentifierAdmin(NoDeleteAdmin):
    list_display = ("kind", "value", "partner", "reason", "retired_at")
    list_filter = ("kind", "partner")
    search_fields = ("value",)
    readonly_fields = [f.name for f in RetiredIdentifier._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
