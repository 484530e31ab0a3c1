"""Django admin for platform staff: read-mostly views of orders, contracts and operator requests.

Writes go through ``contracts.services`` (states, history): the admin never edits states."""

from django.contrib import admin

from .models import (
    Contract,
    ContractEvent,
    ContractOption,
    IdempotencyRecord,
    OneOffFee,
    OperatorRequest,
    Order,
)


class ContractInline(admin.TabularInline):
    model = Contract
    fields = ("number", "msisdn", "state", "sim_type", "user_name")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "partner", "client", "offer", "quantity", "source", "created_at")
    list_filter = ("partner", "network", "source")
    search_fields = ("number", "client__company_name")
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [ContractInline]


class OptionInline(admin.TabularInline):
    model = ContractOption
    fields = ("label", "monthly_fee_ht", "fas_ht", "status", "created_at", "activated_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class EventInline(admin.TabularInline):
    model = ContractEvent
    fields = ("created_at", "kind", "from_state", "to_state", "actor", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("number", "partner", "client", "msisdn", "offer", "state", "created_at")
    list_filter = ("partner", "network", "state", "sim_type")
    search_fields = ("number", "msisdn", "user_name", "sim__iccid", "esim__iccid")
    readonly_fields = [f.name for f in Contract._meta.fields]
    inlines = [OptionInline, EventInline]


@admin.register(OperatorRequest)
class OperatorRequestAdmin(admin.ModelAdmin):
    list_display = (
        "contract",
        "network",
        "kind",
        "state",
        "not_before",
        "planned_at",
        "attempts",
        "created_at",
    )
    list_filter = ("network", "kind", "state")
    search_fields = ("contract__number", "idempotency_key", "operator_reference")
    readonly_fields = [f.name for f in OperatorRequest._meta.fields]


@admin.register(OneOffFee)
class OneOffFeeAdmin(admin.ModelAdmin):
    list_display = ("contract", "kind", "label", "amount_ht", "created_at")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in OneOffFee._meta.fields]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("partner", "key", "method", "path", "response_status", "created_at")
    list_filter = ("partner",)
    search_fields = ("key",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]
