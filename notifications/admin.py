from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import OutboxAttachment, OutboxMessage, SimulatedSms


class OutboxAttachmentInline(admin.TabularInline):
    model = OutboxAttachment
    fields = ("filename", "mimetype", "content_id")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "partner",
        "channel",
        "to",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state", "channel", "partner")
    search_fields = ("to", "subject", "dedup_key", "ref_id")
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    inlines = [OutboxAttachmentInline]
    actions = ["requeue"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Remettre en file les messages en échec"))
    def requeue(self, request, queryset):
        count = 0
        for message in queryset.filter(state=OutboxMessage.State.FAILED):
            services.outbox_requeue(message=message)
            count += 1
        self.message_user(request, _("%(n)d message(s) remis en file.") % {"n": count})


@admin.register(SimulatedSms)
class SimulatedSmsAdmin(admin.ModelAdmin):
    list_display = ("received_at", "to", "text", "message_id")
    search_fields = ("to", "text")
    readonly_fields = ("message_id", "to", "text", "received_at")

    def has_add_permission(self, request):
        return False
