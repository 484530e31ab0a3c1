"""Email backends that behave like an SMTP server that is down, for the outbox tests."""

from django.core.mail.backends.base import BaseEmailBackend


class DownBackend(BaseEmailBackend):
    """Connecting fails, as with an SMTP server that is down. Counts the attempts."""

    opens = 0

    def open(self):
        type(self).opens += 1
        raise ConnectionRefusedError(111, "Connection refused")

    def send_messages(self, email_messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RejectingBackend(BaseEmailBackend):
    """Connects, then refuses every message (e.g. a relay refusing the recipient)."""

    def send_messages(self, email_messages):
        raise OSError("550 relay refused")
