"""The SMS gateway port and its simulator.

``settings.SMS_GATEWAY`` names the adapter class (default ``notifications.sms.SimulatedSmsGateway``), so a
real provider's client can replace the simulator without touching the outbox. An adapter raises
``SmsGatewayError`` when it cannot take a message: the outbox keeps the row and retries it later.
"""

from __future__ import annotations

import uuid
from typing import Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string


class SmsGatewayError(Exception):
    """The gateway did not accept the message (down, timeout, refused): retry later."""


@runtime_checkable
class SmsGateway(Protocol):
    def send(self, to: str, text: str) -> str:
        """Hand one SMS to the gateway; return the gateway's message id. ``to`` is in E.164 form."""
        ...


class SimulatedSmsGateway:
    """Records every SMS in ``SimulatedSms`` (the gateway's own table) instead of sending it.

    Failure switch: ``settings.SMS_SIMULATOR_DOWN = True`` (env ``SMS_SIMULATOR_DOWN=1``) makes every send
    raise ``SmsGatewayError``, as a gateway that is down would; ``SimulatedSmsGateway.down`` does the same
    for one process (tests)."""

    down: bool = False

    def send(self, to: str, text: str) -> str:
        from .models import SimulatedSms

        if self.down or settings.SMS_SIMULATOR_DOWN:
            raise SmsGatewayError("Passerelle SMS indisponible (simulation).")
        message_id = f"SIM-{uuid.uuid4().hex}"
        SimulatedSms.objects.create(message_id=message_id, to=to, text=text)
        return message_id


def get_sms_gateway() -> SmsGateway:
    path = settings.SMS_GATEWAY
    return import_string(path)()
