"""Reads of notifications, scoped to the partner who looks (STYLE 2, 16)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from partners.models import Partner

from . import rules
from .models import OutboxMessage, SimulatedSms


def outbox_list(
    partner: Partner, *, ref=None, channel: str | None = None, state: str | None = None
) -> QuerySet[OutboxMessage]:
    """The partner's outbox, newest first; ``ref`` (a ``(type, id)`` pair or a model instance) keeps the
    messages about one object, e.g. a contract's eSIM deliveries for its Resources tab."""
    qs = OutboxMessage.objects.filter(partner=partner)
    if ref is not None:
        ref_type, ref_id = rules.ref_parts(ref)
        qs = qs.filter(ref_type=ref_type, ref_id=ref_id)
    if channel:
        qs = qs.filter(channel=channel)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def outbox_get_for_partner_or_404(partner: Partner, message_id) -> OutboxMessage:
    """The same 404 for a missing message and for another partner's message."""
    try:
        return OutboxMessage.objects.get(partner=partner, pk=message_id)
    except (OutboxMessage.DoesNotExist, ValueError, TypeError):
        raise Http404("outbox message") from None


def simulated_sms_list(*, to: str | None = None) -> QuerySet[SimulatedSms]:
    """What the simulated SMS gateway received (the gateway's view: no tenant), newest first."""
    qs = SimulatedSms.objects.all()
    if to:
        qs = qs.filter(to=to)
    return qs.order_by("-received_at", "-id")


def outbox_recent_for_dev(*, limit: int = 50) -> QuerySet[OutboxMessage]:
    """Every partner's latest messages: for the DEBUG-only mailbox page (``/dev/boite-mail/``) only."""
    return OutboxMessage.objects.select_related("partner").order_by("-created_at", "-id")[:limit]
