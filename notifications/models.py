"""The outbox of emails and SMS, and the SMS gateway simulator's own table.

A notification is a row written in the caller's transaction (``notifications.services.outbox_enqueue_*``);
``outbox_flush`` sends due rows later, so a notification is never lost when SMTP or the SMS gateway is down,
and never sent for a transaction that rolled back.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One email or SMS to send (STYLE 11: the durable truth lives in the database)."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("En attente")
        SENDING = "sending", _("En cours d'envoi")
        SENT = "sent", _("Envoyé")
        FAILED = "failed", _("En échec")

    TRANSITIONS = {
        State.PENDING: {State.SENDING},
        State.SENDING: {State.SENT, State.PENDING, State.FAILED},
        State.SENT: set(),
        State.FAILED: {State.PENDING},  # an operator may requeue a failed message by hand (admin action)
    }

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("canal"), max_length=8, choices=Channel.choices)
    to = models.CharField(
        _("destinataire"), max_length=254, help_text=_("E-mail, ou mobile au format E.164.")
    )
    subject = models.CharField(_("objet"), max_length=255, blank=True)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"), blank=True)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), default=timezone.now)
    #: Set by the flush that claimed the row (STYLE 12); a row left ``sending`` past the lease is reclaimed.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    provider_message_id = models.CharField(_("identifiant d'envoi"), max_length=255, blank=True)
    #: The same notification is never queued twice for a partner.
    dedup_key = models.CharField(_("clé de dédoublonnage"), max_length=255, null=True, blank=True)
    #: What the notification is about, e.g. ("contracts.contract", "83243").
    ref_type = models.CharField(_("type de référence"), max_length=64, blank=True)
    ref_id = models.CharField(_("référence"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("message sortant")
        verbose_name_plural = _("messages sortants")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "dedup_key"],
                condition=Q(dedup_key__isnull=False),
                name="outbox_unique_dedup_key_per_partner",
            ),
            models.CheckConstraint(condition=Q(channel__in=["email", "sms"]), name="outbox_channel_valid"),
        ]
        indexes = [
            # The flush scans due pending rows across partners.
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["partner", "ref_type", "ref_id"], name="outbox_partner_ref_idx"),
            models.Index(fields=["claim_token"], name="outbox_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.to} ({self.get_state_display()})"


class OutboxAttachment(models.Model):
    """A file sent with an email; ``content_id`` set → an inline image (``<img src="cid:…">``)."""

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("nom du fichier"), max_length=200)
    mimetype = models.CharField(_("type MIME"), max_length=100)
    content = models.BinaryField(_("contenu"))
    content_id = models.CharField(_("Content-ID"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def inline(self) -> bool:
        return bool(self.content_id)


class SimulatedSms(models.Model):
    """What the simulated SMS gateway "delivered": the gateway's own record, read by tests and the demo."""

    message_id = models.CharField(max_length=64, unique=True)
    to = models.CharField(max_length=32, db_index=True)
    text = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SMS simulé")
        verbose_name_plural = _("SMS simulés")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:40]}"
