"""Django admin for platform staff: the operator files and the quarantine of bad records (issue 7), and the
alerts sent. Read-only: records come from the operators' files only."""

from django.contrib import admin

from .models import CdrFile, CdrQuarantine, UsageAlert


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class QuarantineInline(admin.TabularInline):
    model = CdrQuarantine
    fields = ("line_no", "reason", "detail", "raw")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(CdrFile)
class CdrFileAdmin(ReadOnlyAdmin):
    list_display = ("name", "network", "state", "lines", "taken", "duplicates", "quarantined", "received_at")
    list_filter = ("network", "state")
    search_fields = ("name", "sha256")
    inlines = [QuarantineInline]


@admin.register(CdrQuarantine)
class CdrQuarantineAdmin(ReadOnlyAdmin):
    list_display = ("file", "line_no", "reason", "detail", "created_at")
    list_filter = ("reason", "file__network")
    search_fields = ("file__name", "raw", "detail")
    list_select_related = ("file",)


@admin.register(UsageAlert)
class UsageAlertAdmin(ReadOnlyAdmin):
    list_display = (
        "contract",
        "month",
        "scope",
        "zone",
        "threshold",
        "used",
        "limit",
        "unit",
        "blocks",
        "created_at",
    )
    list_filter = ("scope", "threshold", "blocks", "month")
    search_fields = ("contract__number", "contract__msisdn")
    list_select_related = ("contract",)
