"""The `make run` mail sink (real SMTP on loopback) and the DEBUG-only mailbox page."""

import mailbox
import socket
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.dev_views import MAIL_HTML_POLICY
from notifications.devmail import serve
from notifications.models import OutboxMessage
from notifications.services import esim_delivery_enqueue, outbox_flush
from partners.models import PartnerMembership
from tests.factories.partners import MembershipFactory, UserFactory
from tests.notifications.conftest import ACTIVATION, CONFIRMATION, esim_kwargs

pytestmark = pytest.mark.django_db

T0 = timezone.datetime(2025, 3, 10, 10, 0, tzinfo=timezone.get_fixed_timezone(60))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_settings(settings):
    port = _free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    return port


def test_sink_down_then_up_the_esim_mail_is_kept_then_delivered_over_real_smtp(
    partner, smtp_settings, tmp_path
):
    maildir = tmp_path / "mail"
    with time_machine.travel(T0, tick=False):
        delivery = esim_delivery_enqueue(**esim_kwargs(partner))
        outbox_flush()  # nothing listens on the port: SMTP is down
    email = OutboxMessage.objects.get(pk=delivery.email.pk)
    assert email.state == OutboxMessage.State.PENDING and email.attempts == 1
    assert "Connection" in email.last_error or "Errno" in email.last_error

    controller = serve(host="127.0.0.1", port=smtp_settings, directory=maildir)
    try:
        with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
            assert outbox_flush().sent == 1
    finally:
        controller.stop()

    email.refresh_from_db()
    assert email.state == OutboxMessage.State.SENT
    box = mailbox.Maildir(str(maildir), create=False)
    (message,) = [box[k] for k in box.keys()]
    assert message["X-Envelope-To"] == "anne-charlotte.brout@example.fr"
    assert message["Subject"] == "Activez votre eSIM"
    raw = message.as_bytes()
    assert CONFIRMATION.encode() not in raw  # R-ORD-3 / ID-LPA


def _store_esim_mail(partner, settings, tmp_path):
    settings.DEV_MAILDIR = tmp_path / "mail"
    controller = serve(host="127.0.0.1", port=settings.EMAIL_PORT, directory=settings.DEV_MAILDIR)
    try:
        esim_delivery_enqueue(**esim_kwargs(partner))
        outbox_flush()
    finally:
        controller.stop()
    box = mailbox.Maildir(str(settings.DEV_MAILDIR), create=False)
    return next(iter(box.keys()))


@pytest.fixture
def admin_client(client):
    """A platform admin (``is_staff``, as /admin/ requires): the only one who may read the local mailbox."""
    client.force_login(UserFactory(username="platform-admin", is_staff=True, is_superuser=True))
    return client


@pytest.mark.urls("tests.notifications.urls_dev")
def test_dev_mailbox_lists_the_mail_and_the_sms_and_shows_the_esim_mail(
    admin_client, partner, settings, smtp_settings, tmp_path
):
    client = admin_client
    key = _store_esim_mail(partner, settings, tmp_path)
    settings.DEBUG = True

    index = client.get("/dev/boite-mail/")

    assert index.status_code == 200
    page = index.content.decode()
    assert "Activez votre eSIM" in page and "anne-charlotte.brout@example.fr" in page
    assert "+33787561725" in page and CONFIRMATION in page  # the simulated SMS is listed
    assert f"/dev/boite-mail/{key}/" in page

    detail = client.get(f"/dev/boite-mail/{key}/")

    assert detail.status_code == 200
    html = detail.content.decode()
    assert f'<iframe sandbox title="Version HTML" src="/dev/boite-mail/{key}/html/"' in html
    assert "data:image/png;base64," in html  # the QR code, in the images card

    # The email's HTML: its own document and policy (the site's refuses inline styles), framed by the page only.
    frame = client.get(f"/dev/boite-mail/{key}/html/")

    assert frame.status_code == 200
    assert frame["Content-Security-Policy"] == MAIL_HTML_POLICY
    assert "sandbox" in MAIL_HTML_POLICY and "default-src 'none'" in MAIL_HTML_POLICY
    assert "script-src" not in MAIL_HTML_POLICY  # no script at all (default-src 'none')
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    mail_html = frame.content.decode()
    assert "data:image/png;base64," in mail_html and "cid:esim-qr" not in mail_html  # cid rewritten to data:
    assert ACTIVATION in mail_html


@pytest.mark.urls("tests.notifications.urls_dev")
def test_dev_mailbox_unknown_message_is_404(admin_client, settings, tmp_path):
    client = admin_client
    settings.DEBUG = True
    settings.DEV_MAILDIR = tmp_path / "mail"
    mailbox.Maildir(str(settings.DEV_MAILDIR), create=True)
    assert client.get("/dev/boite-mail/1700000000.M1P1Q1.nope/").status_code == 404
    assert client.get("/dev/boite-mail/").status_code == 200


@pytest.mark.urls("tests.notifications.urls_dev")
def test_dev_mailbox_without_a_maildir_says_how_to_start_the_sink(admin_client, settings, tmp_path):
    client = admin_client
    settings.DEBUG = True
    settings.DEV_MAILDIR = tmp_path / "absent"
    response = client.get("/dev/boite-mail/")
    assert response.status_code == 200
    assert "python -m notifications.devmail" in response.content.decode()


@pytest.mark.urls("tests.notifications.urls_dev")
def test_dev_mailbox_is_404_when_debug_is_off(client, settings, tmp_path):
    settings.DEBUG = False
    settings.DEV_MAILDIR = tmp_path
    assert client.get("/dev/boite-mail/").status_code == 404
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # even for a platform admin
    assert client.get("/dev/boite-mail/").status_code == 404
    assert client.get("/dev/boite-mail/1700000000.M1P1Q1.x/html/").status_code == 404


@pytest.mark.urls("tests.notifications.urls_dev")
@pytest.mark.parametrize("who", ["anonymous", "partner admin", "partner staff"])
def test_dev_mailbox_needs_a_platform_admin_login(client, partner, settings, smtp_settings, tmp_path, who):
    """Every partner's mail and SMS codes are there: a partner's staff, even its admin, is no platform admin."""
    key = _store_esim_mail(partner, settings, tmp_path)
    settings.DEBUG = True
    if who != "anonymous":
        role = PartnerMembership.Role.ADMIN if who == "partner admin" else PartnerMembership.Role.STAFF
        client.force_login(MembershipFactory(partner=partner, role=role).user)

    for path in ("/dev/boite-mail/", f"/dev/boite-mail/{key}/", f"/dev/boite-mail/{key}/html/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/?next=/dev/boite-mail/"), path
        assert b"Activez votre eSIM" not in response.content


def test_dev_mailbox_is_not_mounted_in_the_site_urls_when_debug_is_off(client):
    # tests run with DEBUG off, as production: alphalink/urls.py did not mount the page
    assert client.get("/dev/boite-mail/").status_code == 404
