"""Reads of self-care orders (R-SC-6, R-SC-8) for the partner's staff: always scoped by who looks (STYLE 2)."""

from __future__ import annotations

from django.db.models import QuerySet

from partners.models import ClientAccount, Partner

from .models import SelfcareOrder


def selfcare_order_list(partner: Partner, *, client: ClientAccount | None = None) -> QuerySet[SelfcareOrder]:
    """The partner's self-care orders, newest first, optionally of one client — with what the lists show
    (line, user, operator request state) in one query."""
    orders = SelfcareOrder.objects.filter(partner=partner).select_related(
        "contract", "created_by", "operator_request", "client"
    )
    if client is not None:
        orders = orders.filter(client_id=client.pk, client__partner=partner)
    return orders.order_by("-created_at", "-id")
