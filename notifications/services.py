"""Writes of notifications: queue emails and SMS in the caller's transaction, send them later (outbox).

Other apps call:
- ``outbox_enqueue_email`` / ``outbox_enqueue_sms`` — any notification;
- ``esim_delivery_enqueue`` — the eSIM activation email + confirmation SMS (R-ORD-3, R-ORD-4, R-OPT-2);
- ``partner_notify`` — an email to the partner: its notification address, else its admins; or, with
  ``audience``, the active staff users who opted in to that email (``PartnerMembership.notify_*``; R-ALR-4);
- ``selfcare_action_notify`` — the « Commande selfcare » email of a client action (R-SC-8) to the staff who
  opted in;
- ``confirmation_code_generate`` — a 6-digit eSIM confirmation code.

Queued rows are sent by ``outbox_flush`` (Celery task ``notifications.outbox_flush``, woken after commit and
run by beat every 30 s): a row is claimed atomically, sent, then marked sent; on error it stays pending with
an exponential backoff and ends ``failed`` after ``OUTBOX_MAX_ATTEMPTS`` tries. Nothing is lost when SMTP or
the SMS gateway is down. Delivery is at-least-once: a worker killed between the send and the mark leaves the
row ``sending``; it is reclaimed after ``OUTBOX_SENDING_LEASE_SECONDS`` and sent again (same Message-ID).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import encoders
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from email.utils import parseaddr

import phonenumbers
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.broker import wake_task
from core.errors import RuleViolation
from partners.models import Partner

from . import rules
from .models import OutboxAttachment, OutboxMessage
from .qr import qr_png
from .sms import get_sms_gateway

logger = logging.getLogger(__name__)

OUTBOX_FLUSH_TASK = "notifications.outbox_flush"  # notifications/tasks.py, woken by name after commit

ESIM_QR_CONTENT_ID = "esim-qr@alphalink"
CONTRACT_REF_TYPE = "contracts.contract"
_MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True)
class Attachment:
    """A file to send with an email; ``content_id`` set → inline (``<img src="cid:<content_id>">``)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"
    content_id: str = ""


@dataclass(frozen=True)
class EsimDelivery:
    email: OutboxMessage
    sms: OutboxMessage


@dataclass
class FlushResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reclaimed: int = 0


# --- enqueue -------------------------------------------------------------------------------------------


def dedup_key_join(base: str | None, suffix: str = "") -> str | None:
    """The stored dedup key (hashed past the column's 255 characters)."""
    if not base:
        return None
    key = f"{base}:{suffix}" if suffix else base
    if len(key) > 255:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _clean_email(value: str) -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise RuleViolation(
            _("Adresse e-mail invalide : « %(value)s ».") % {"value": value}, field="to"
        ) from None
    return value


def mobile_to_e164(value: str) -> str:
    """A contact mobile (national French or international form) in E.164; ``RuleViolation`` if invalid."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number)
        not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise RuleViolation(
            _("Numéro de mobile invalide : « %(value)s ».") % {"value": raw}, field="to", rule="ID-MSISDN"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_number(value: str) -> str:
    """A number as a person reads it (``06 12 34 56 78``); M2M and unknown forms as given."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    if number.country_code == 33:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _wake_sender() -> None:
    """Ask a worker to flush now (after commit). Harmless when Celery is eager (flushes inline) or when the
    broker is down (:func:`core.broker.wake_task`: one bounded attempt, no retry; the beat sweep sends the row
    within 30 s)."""
    wake_task(OUTBOX_FLUSH_TASK)


def _queued(partner: Partner, dedup_key: str) -> OutboxMessage | None:
    """The message already queued under ``dedup_key`` for the partner (at most one: a unique constraint). No
    ORDER BY: ``.first()`` would order by id, and the planner may then walk the primary key instead of the
    (partner, dedup_key) index."""
    return next(iter(OutboxMessage.objects.filter(partner=partner, dedup_key=dedup_key).order_by()[:1]), None)


def _insert(
    *, partner: Partner, dedup_key: str | None, fields: dict, attachments: Sequence[Attachment] = ()
) -> OutboxMessage:
    """Insert one row (and its attachments) unless ``dedup_key`` is already queued for the partner."""
    if dedup_key:
        existing = _queued(partner, dedup_key)
        if existing is not None:
            return existing
    try:
        # A savepoint: a concurrent duplicate must not break the caller's transaction (STYLE 5: the unique
        # constraint decides, the lookup above only saves rendering work).
        with transaction.atomic():
            message = OutboxMessage.objects.create(partner=partner, dedup_key=dedup_key, **fields)
            OutboxAttachment.objects.bulk_create(
                OutboxAttachment(
                    partner=partner,
                    message=message,
                    filename=a.filename,
                    mimetype=a.mimetype,
                    content=a.content,
                    content_id=a.content_id,
                )
                for a in attachments
            )
    except IntegrityError:
        if not dedup_key:
            raise
        existing = _queued(partner, dedup_key)
        if existing is None:
            raise
        return existing
    transaction.on_commit(_wake_sender)
    return message


def _render_email(template: str, context: dict) -> tuple[str, str]:
    """The text and HTML bodies of ``<template>.txt`` / ``<template>.html``, in French."""
    with translation.override("fr"):
        text = render_to_string(f"{template}.txt", context)
        try:
            html = render_to_string(f"{template}.html", context)
        except TemplateDoesNotExist:
            html = ""
    return text.strip() + "\n", html


@transaction.atomic
def outbox_enqueue_email(
    *,
    partner: Partner,
    to: str,
    subject: str,
    template: str,
    context: dict,
    dedup_key: str | None = None,
    ref=None,
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Queue an email rendered from ``<template>.txt`` and ``<template>.html`` (optional), in French.

    ``ref`` is a ``(type, id)`` pair or a model instance; ``dedup_key`` makes a second call return the first
    row (the same notification is never queued twice for a partner)."""
    to = _clean_email(to)
    dedup_key = dedup_key_join(dedup_key)
    if dedup_key:
        existing = _queued(partner, dedup_key)
        if existing is not None:
            return existing
    text, html = _render_email(template, {"partner": partner, **context})
    ref_type, ref_id = rules.ref_parts(ref)
    return _insert(
        partner=partner,
        dedup_key=dedup_key,
        fields={
            "channel": OutboxMessage.Channel.EMAIL,
            "to": to,
            "subject": " ".join(str(subject).split())[:255],
            "body_text": text,
            "body_html": html,
            "ref_type": ref_type,
            "ref_id": ref_id,
        },
        attachments=attachments,
    )


@transaction.atomic
def outbox_enqueue_sms(
    *, partner: Partner, to: str, text: str, dedup_key: str | None = None, ref=None
) -> OutboxMessage:
    """Queue an SMS to a mobile (national French or E.164 form, stored as E.164)."""
    to = mobile_to_e164(to)
    dedup_key = dedup_key_join(dedup_key)
    text = (text or "").strip()
    if not text:
        raise RuleViolation(_("Le texte du SMS est vide."), field="text")
    ref_type, ref_id = rules.ref_parts(ref)
    return _insert(
        partner=partner,
        dedup_key=dedup_key,
        fields={
            "channel": OutboxMessage.Channel.SMS,
            "to": to,
            "body_text": text,
            "ref_type": ref_type,
            "ref_id": ref_id,
        },
    )


@transaction.atomic
def outbox_requeue(*, message: OutboxMessage) -> OutboxMessage:
    """Put a failed message back in the queue (a person decided to try again): attempts start over."""
    updated = OutboxMessage.objects.filter(pk=message.pk, state=OutboxMessage.State.FAILED).update(
        state=OutboxMessage.State.PENDING, attempts=0, next_attempt_at=timezone.now(), claim_token=None
    )
    message.refresh_from_db()
    if updated:
        transaction.on_commit(_wake_sender)
    return message


# --- eSIM delivery (R-ORD-3, R-ORD-4, R-OPT-2) ----------------------------------------------------------


def confirmation_code_generate(*, avoid: Iterable[str] = ()) -> str:
    """A 6-digit eSIM confirmation code (R-ORD-3), drawn with ``secrets``; never a substring of ``avoid``
    (e.g. the activation code, ID-LPA: the code travels separately)."""
    avoid = [a for a in avoid if a]
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if not any(code in a for a in avoid):
            return code


@transaction.atomic
def esim_delivery_enqueue(
    *,
    partner: Partner,
    contract_ref: int | str,
    to_email: str,
    to_mobile: str,
    activation_code: str,
    confirmation_code: str,
    line_label: str,
    msisdn: str,
    dedup_key: str | None = None,
) -> EsimDelivery:
    """Queue the eSIM details: an email to ``to_email`` with the activation code, its QR code (inline PNG),
    the installation steps and the warnings (R-ORD-4, R-OPT-2), and an SMS with the 6-digit confirmation
    code to ``to_mobile`` (R-ORD-3). The confirmation code never appears in the email (ID-LPA).

    ``dedup_key`` (e.g. ``f"esim:{contract.pk}:{iccid}"`` for the first delivery) makes a repeated call
    queue nothing more; a "resend" passes ``None`` (or its own key) so it is sent again."""
    mobile_to_e164(to_mobile)  # refuse a bad mobile before anything is queued (R-ORD-3)
    try:
        code = rules.activation_code_parse(activation_code)
    except ValueError:
        raise RuleViolation(
            _("Code d'activation eSIM invalide (format attendu LPA:1$<SM-DP+>$<matching id>$$1)."),
            field="activation_code",
            rule="R-ORD-4",
        ) from None
    if not rules.confirmation_code_valid(confirmation_code):
        raise RuleViolation(
            _("Le code de confirmation eSIM doit comporter 6 chiffres."),
            field="confirmation_code",
            rule="R-ORD-3",
        )
    if confirmation_code in activation_code:
        raise RuleViolation(
            _("Le code de confirmation ne doit pas figurer dans le code d'activation."),
            field="confirmation_code",
            rule="R-ORD-4",
        )
    ref = (CONTRACT_REF_TYPE, contract_ref)
    context = {
        "contract_ref": contract_ref,
        "line_label": line_label,
        "msisdn": display_number(msisdn),
        "to_mobile": display_number(to_mobile),
        "activation_code": activation_code,
        "smdp_address": code.smdp_address,
        "matching_id": code.matching_id,
        "qr_cid": ESIM_QR_CONTENT_ID,
        "max_tries": 3,
    }
    email = outbox_enqueue_email(
        partner=partner,
        to=to_email,
        subject=_("Activez votre eSIM"),
        template="notifications/email/esim_delivery",
        context=context,
        dedup_key=dedup_key_join(dedup_key, "email"),
        ref=ref,
        attachments=[
            Attachment(
                filename="esim-qr-code.png",
                content=qr_png(activation_code),
                mimetype="image/png",
                content_id=ESIM_QR_CONTENT_ID,
            )
        ],
    )
    with translation.override("fr"):
        text = render_to_string(
            "notifications/sms/esim_confirmation.txt",
            {"partner": partner, "confirmation_code": confirmation_code, "msisdn": context["msisdn"]},
        )
    sms = outbox_enqueue_sms(
        partner=partner,
        to=to_mobile,
        text=" ".join(text.split()),
        dedup_key=dedup_key_join(dedup_key, "sms"),
        ref=ref,
    )
    return EsimDelivery(email=email, sms=sms)


# --- flush ---------------------------------------------------------------------------------------------


def _message_id(message: OutboxMessage) -> str:
    """A Message-ID stable across retries of one row, so a receiver may drop a duplicate."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "alphalink.localhost"
    return f"<outbox-{message.pk}-{int(message.created_at.timestamp())}@{domain}>"


def _build_email(message: OutboxMessage, connection) -> mail.EmailMultiAlternatives:
    email = mail.EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        connection=connection,
        headers={"Message-ID": _message_id(message), "X-AlphaLink-Outbox": str(message.pk)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    has_inline = False
    for att in message.attachments.all():
        content = bytes(att.content)
        if not att.content_id:
            email.attach(att.filename, content, att.mimetype)
            continue
        maintype, _sep, subtype = att.mimetype.partition("/")
        if maintype == "image":
            part = MIMEImage(content, _subtype=subtype)
        else:
            part = MIMEBase(maintype, subtype)
            part.set_payload(content)
            encoders.encode_base64(part)
        part.add_header("Content-ID", f"<{att.content_id}>")
        part.add_header("Content-Disposition", "inline", filename=att.filename)
        email.attach(part)
        has_inline = True
    if has_inline:
        email.mixed_subtype = "related"  # html refers to the image by cid:
    return email


class _EmailChannel:
    """One SMTP connection for a flush; a refused connection fails the batch's emails without retrying it
    once per message (an SMTP server that is down costs one timeout per flush, not one per email)."""

    def __init__(self):
        self.connection = mail.get_connection()
        self.opened = False
        self.broken: Exception | None = None

    def send(self, message: OutboxMessage) -> str:
        if self.broken is not None:
            raise self.broken
        if not self.opened:
            try:
                self.connection.open()
            except Exception as exc:
                self.broken = exc
                raise
            self.opened = True
        email = _build_email(message, self.connection)
        try:
            count = self.connection.send_messages([email])
        except Exception:
            self._reset()
            raise
        if not count:
            raise RuntimeError("the email backend accepted no message")
        return email.extra_headers["Message-ID"]

    def _reset(self) -> None:
        try:
            self.connection.close()
        except Exception:  # closing a broken connection may fail too; the next send reopens
            logger.debug("outbox: closing the SMTP connection failed", exc_info=True)
        self.opened = False

    def close(self) -> None:
        if self.opened:
            self._reset()


class _SmsChannel:
    def __init__(self):
        self.gateway = get_sms_gateway()

    def send(self, message: OutboxMessage) -> str:
        return str(self.gateway.send(message.to, message.body_text))


def _reclaim_stale(now: datetime) -> int:
    """Rows left ``sending`` past the lease (a worker killed mid-send) go back to pending, or to failed when
    that was the last allowed attempt."""
    lease = timedelta(seconds=settings.OUTBOX_SENDING_LEASE_SECONDS)
    max_attempts = settings.OUTBOX_MAX_ATTEMPTS
    stale = OutboxMessage.objects.filter(state=OutboxMessage.State.SENDING, claimed_at__lt=now - lease)
    common = {"claim_token": None, "attempts": F("attempts") + 1, "last_error": "interrompu pendant l'envoi"}
    failed = stale.filter(attempts__gte=max_attempts - 1).update(state=OutboxMessage.State.FAILED, **common)
    retried = stale.update(state=OutboxMessage.State.PENDING, next_attempt_at=now, **common)
    return failed + retried


def _claim(now: datetime, batch: int) -> uuid.UUID:
    """Claim up to ``batch`` due rows for this flush (STYLE 12): ``SKIP LOCKED`` picks rows no other flush
    holds, and the conditional update only takes rows still pending, so two flushes never share a row."""
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:batch]
        )
        if ids:
            OutboxMessage.objects.filter(id__in=ids, state=OutboxMessage.State.PENDING).update(
                state=OutboxMessage.State.SENDING, claim_token=token, claimed_at=now
            )
    return token


def outbox_flush(*, now: datetime | None = None, batch: int = 100) -> FlushResult:
    """Send the due pending messages (at most ``batch``); see the module docstring for the guarantees."""
    now = now or timezone.now()
    result = FlushResult(reclaimed=_reclaim_stale(now))
    token = _claim(now, batch)
    claimed = list(
        OutboxMessage.objects.filter(claim_token=token, state=OutboxMessage.State.SENDING)
        .prefetch_related("attachments")
        .order_by("id")
    )
    result.claimed = len(claimed)
    if not claimed:
        return result
    max_attempts = settings.OUTBOX_MAX_ATTEMPTS
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    cap = settings.OUTBOX_RETRY_MAX_SECONDS
    channels: dict[str, _EmailChannel | _SmsChannel] = {}
    try:
        for message in claimed:
            mine = OutboxMessage.objects.filter(
                pk=message.pk, claim_token=token, state=OutboxMessage.State.SENDING
            )
            try:
                if message.channel not in channels:
                    channels[message.channel] = (
                        _EmailChannel() if message.channel == OutboxMessage.Channel.EMAIL else _SmsChannel()
                    )
                provider_id = channels[message.channel].send(message)
            except Exception as exc:  # any failure keeps the row: it is retried, never lost
                attempts = message.attempts + 1
                error = f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_LENGTH]
                if attempts >= max_attempts:
                    mine.update(
                        state=OutboxMessage.State.FAILED,
                        attempts=attempts,
                        last_error=error,
                        claim_token=None,
                    )
                    result.failed += 1
                    logger.error("outbox: message %s failed for good: %s", message.pk, error)
                else:
                    mine.update(
                        state=OutboxMessage.State.PENDING,
                        attempts=attempts,
                        last_error=error,
                        claim_token=None,
                        next_attempt_at=now + rules.retry_delay(attempts, base_seconds=base, max_seconds=cap),
                    )
                    result.retried += 1
                    logger.warning("outbox: message %s will be retried: %s", message.pk, error)
                continue
            mine.update(
                state=OutboxMessage.State.SENT,
                attempts=message.attempts + 1,
                sent_at=timezone.now(),
                last_error="",
                provider_message_id=provider_id[:255],
                claim_token=None,
            )
            result.sent += 1
    finally:
        for channel in channels.values():
            if isinstance(channel, _EmailChannel):
                channel.close()
    return result
