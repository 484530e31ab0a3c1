"""Self-care orders in the Django admin (platform staff): read-only — an order is a record of what a client
asked, it is never written by hand (R-SC-6)."""

from django.contrib import admin

from .models import SelfcareOrder


@admin.register(SelfcareOrder)
class SelfcareOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "created_at", "partner", "client", "contract", "action", "created_by")
    list_filter = ("action", "partner")
    search_fields = ("number", "client__company_name", "contract__number", "contract__msisdn")
    list_select_related = ("partner", "client", "contract", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in SelfcareOrder._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
