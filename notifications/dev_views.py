"""DEBUG-only pages: the local mailbox of ``make run`` (mails received by ``notifications.devmail``), the
simulated SMS and the outbox, so a person can read the eSIM email in a browser. Not partner-scoped on
purpose (a developer's mail sink, like Mailpit): it shows every partner's mail and SMS codes, so only a platform
admin (the Django admin's rule: an active ``is_staff`` user) may read it — anyone else is sent to the admin
login. The URLs exist only when ``settings.DEBUG``, and the views answer 404 when it is off."""

from __future__ import annotations

import base64
import email
import email.policy
import mailbox
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from . import selectors

_KEY_RE = re.compile(r"^[A-Za-z0-9._,:-]{1,200}$")


def debug_only(view):
    """404 unless DEBUG (checked first: nothing about the page shows in production), then a platform admin's
    login (``staff_member_required``: the same rule as /admin/, a partner's staff is sent to the admin login)."""
    admin_only = staff_member_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404("DEBUG only")
        return admin_only(request, *args, **kwargs)

    return wrapper


@dataclass
class DevMail:
    key: str
    subject: str
    sender: str
    to: str
    date: datetime | None
    text: str = ""
    html: str = ""
    images: list[dict] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)


def _maildir() -> mailbox.Maildir | None:
    directory = Path(settings.DEV_MAILDIR)
    if not directory.is_dir():
        return None
    return mailbox.Maildir(str(directory), factory=None, create=False)


def _parse(key: str, raw: bytes, *, full: bool) -> DevMail:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    try:
        date = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    if date is not None and date.tzinfo is None:  # "-0000" (Django's default): UTC, zone not stated
        date = date.replace(tzinfo=UTC)
    mail = DevMail(
        key=key,
        subject=str(msg["Subject"] or ""),
        sender=str(msg["From"] or ""),
        to=str(msg["To"] or msg["X-Envelope-To"] or ""),
        date=date,
    )
    if not full:
        return mail
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    mail.text = text_part.get_content() if text_part else ""
    html = html_part.get_content() if html_part else ""
    for part in msg.walk():
        if part.is_multipart() or part in (text_part, html_part):
            continue
        content_type = part.get_content_type()
        payload = part.get_payload(decode=True) or b""
        if content_type.startswith("image/"):
            data_uri = f"data:{content_type};base64,{base64.b64encode(payload).decode()}"
            cid = (part["Content-ID"] or "").strip().strip("<>")
            mail.images.append({"cid": cid, "filename": part.get_filename() or "", "data_uri": data_uri})
            if cid:  # show inline images in the rendered HTML
                html = html.replace(f"cid:{cid}", data_uri)
        else:
            mail.attachments.append(part.get_filename() or content_type)
    mail.html = html
    return mail


@debug_only
def mailbox_index(request):
    box = _maildir()
    mails = []
    if box is not None:
        for key in box.keys():
            try:
                mails.append(_parse(key, box.get_bytes(key), full=False))
            except (KeyError, OSError):
                continue  # removed meanwhile
    mails.sort(key=lambda m: m.date or datetime.min.replace(tzinfo=UTC), reverse=True)
    return render(
        request,
        "notifications/dev/mailbox.html",
        {
            "mails": mails,
            "maildir": settings.DEV_MAILDIR,
            "maildir_exists": box is not None,
            "sms_list": selectors.simulated_sms_list()[:50],
            "outbox": selectors.outbox_recent_for_dev(limit=50),
        },
    )


def _mail_or_404(key: str) -> DevMail:
    box = _maildir()
    if box is None or not _KEY_RE.match(key):
        raise Http404("mail")
    try:
        raw = box.get_bytes(key)
    except (KeyError, OSError):
        raise Http404("mail") from None
    return _parse(key, raw, full=True)


@debug_only
def mailbox_message(request, key: str):
    return render(request, "notifications/dev/message.html", {"mail": _mail_or_404(key)})


#: The email's own HTML, as a mail client shows it: its inline styles and data: images allowed, nothing else —
#: no script, no request anywhere (sandbox, default-src 'none'), framed only by the message page.
MAIL_HTML_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)


@debug_only
@xframe_options_sameorigin
def mailbox_message_html(request, key: str):
    """The HTML part of a mail, shown in the message page's sandboxed frame. A separate document with its own
    Content-Security-Policy: an email's inline styles are not the site's, whose policy refuses them."""
    response = HttpResponse(_mail_or_404(key).html, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = MAIL_HTML_POLICY
    return response
