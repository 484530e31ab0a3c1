"""Platform admins see billing read-only: invoices, their lines, charges and runs are written by services only;
a partner's legal identity for invoicing is edited here."""

from django.contrib import admin

from .models import BillingRun, Charge, Invoice, InvoiceLine, PartnerBillingProfile


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("position", "group", "label", "quantity", "unit_price_ht", "amount_ht", "vat_rate", "rule")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "customer_partner",
        "period_month",
        "issue_date",
        "total_ht",
        "total_ttc",
        "state",
    )
    list_filter = ("kind", "state", "period_month")
    search_fields = ("number", "customer_partner__name")
    exclude = ("pdf",)
    inlines = [InvoiceLineInline]


@admin.register(Charge)
class ChargeAdmin(ReadOnlyAdmin):
    list_display = ("contract", "month", "kind", "label", "amount_ht", "rule", "invoice")
    list_filter = ("kind", "mode", "month")
    search_fields = ("contract__number", "label", "missing_price")
    raw_id_fields = ("partner", "client", "contract", "invoice")


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ("month", "state", "attempts", "started_at", "finished_at")


@admin.register(PartnerBillingProfile)
class PartnerBillingProfileAdmin(admin.ModelAdmin):
    list_display = ("partner", "legal_name", "siret", "vat_number", "city")
    search_fields = ("legal_name", "siret", "partner__name")
