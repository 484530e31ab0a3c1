"""Partner notifications (R-SC-8, R-ALR-4): who at the partner receives which email, and the two emails
that go to partner staff — self-care orders and consumption alerts — through the outbox of
``notifications.services``."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from partners.models import Partner, PartnerMembership, User

from .models import OutboxMessage
from .services import dedup_key_join, display_number, outbox_enqueue_email

logger = logging.getLogger(__name__)


def partner_recipients(partner: Partner) -> list[str]:
    """The partner's notification address, or else the emails of its active admin users."""
    if partner.notification_email:
        return [partner.notification_email]
    emails = (
        User.objects.filter(
            membership__partner=partner, membership__role=PartnerMembership.Role.ADMIN, is_active=True
        )
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    return list(dict.fromkeys(e.strip().lower() for e in emails))


#: ``partner_notify(audience=…)``: the ``PartnerMembership`` opt-in flag of each staff email (R-SC-8, R-ALR-4).
AUDIENCE_SELFCARE_ORDERS = "notify_selfcare_orders"
AUDIENCE_USAGE_ALERTS = "notify_usage_alerts"
AUDIENCES = (AUDIENCE_SELFCARE_ORDERS, AUDIENCE_USAGE_ALERTS)


def partner_staff_recipients(partner: Partner, audience: str) -> list[str]:
    """The emails of the partner's active staff users (admins or not) who opted in to ``audience``.

    No fallback: when nobody opted in, nobody is emailed (the partner-level ``notification_email`` is not
    used for these — each staff user chooses on « Paramètres › Notifications email »)."""
    if audience not in AUDIENCES:
        raise ValueError(audience)
    emails = (
        User.objects.filter(membership__partner=partner, is_active=True, **{f"membership__{audience}": True})
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    return list(dict.fromkeys(e.strip().lower() for e in emails))


@transaction.atomic
def partner_notify(
    *,
    partner: Partner,
    subject: str,
    template: str,
    context: dict,
    dedup_key: str | None,
    ref=None,
    audience: str | None = None,
    recipients: list[str] | None = None,
) -> list[OutboxMessage]:
    """Queue one email per recipient of the partner (see ``partner_recipients``, or with ``audience`` the staff
    who opted in, ``partner_staff_recipients``); none if it has none. A caller notifying many times in a row
    may pass the ``recipients`` it looked up once (the same lists).

    ``template`` may be ``"notifications/email/partner_message"``: a generic layout reading ``title``,
    ``intro``, ``details`` (a list of (label, value) pairs) and ``outro`` from ``context``."""
    if recipients is None:
        recipients = partner_staff_recipients(partner, audience) if audience else partner_recipients(partner)
    if not recipients:
        logger.warning("partner %s has no notification recipient; %r not sent", partner.pk, subject)
    return [
        outbox_enqueue_email(
            partner=partner,
            to=to,
            subject=subject,
            template=template,
            context=context,
            dedup_key=dedup_key_join(dedup_key, to.lower()),
            ref=ref,
        )
        for to in recipients
    ]


def selfcare_action_notify(
    *, contract, action_label: str, order_number: str, actor_user, details: Iterable[tuple[str, str]] = ()
) -> list[OutboxMessage]:
    """R-SC-8: « Commande selfcare » — a client did ``action_label`` on ``contract`` from the self-care.

    Emails the partner's active staff who opted in (``PartnerMembership.notify_selfcare_orders``) if the
    partner has the notification on (``Partner.notify_selfcare_orders``); one email per recipient and order
    number (a replay queues nothing more). Nobody opted in: nothing is sent, it is logged."""
    partner = contract.partner
    if not partner.notify_selfcare_orders:
        return []
    client = contract.client
    line = display_number(contract.msisdn) if contract.msisdn else "—"
    return partner_notify(
        partner=partner,
        subject=_("Commande selfcare %(order)s — %(action)s — %(client)s")
        % {"order": order_number, "action": action_label, "client": client.company_name},
        template="notifications/email/partner_message",
        context={
            "title": _("Commande selfcare"),
            "intro": _("Le client %(client)s a passé une commande depuis son espace client : %(action)s.")
            % {"client": client.company_name, "action": action_label},
            "details": [
                (_("Client"), client.company_name),
                (_("Utilisateur"), contract.user_name or "—"),
                (_("Ligne"), line),
                (_("N° de contrat"), contract.number),
                (_("N° de bon de commande"), order_number),
                (_("Action"), action_label),
                *[(str(label), str(value)) for label, value in details],
                (_("Demandé par"), getattr(actor_user, "username", "") or "—"),
            ],
            "outro": "",
        },
        dedup_key=f"selfcare-order-{order_number}",
        ref=contract,
        audience=AUDIENCE_SELFCARE_ORDERS,
    )
