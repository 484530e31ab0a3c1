"""Errors an operator (or its simulator) raises through the ``OperatorPort``.

They are infrastructure outcomes, not business-rule refusals of the platform (those are
``core.errors.RuleViolation``). How the platform reacts:

- ``OperatorTransientError``: nothing was recorded at the operator; send the same request again later
  (same idempotency key) — Celery ``autoretry_for`` with backoff (STYLE 10).
- ``OperatorWindowClosed``: the operator is closed for this kind of request now (R-PRV-1..4); plan the request
  at ``next_opening`` (known for the simulators). Not permanent — deliberately *not* a subclass of
  ``OperatorRefusal``, so ``except OperatorRefusal`` never swallows it as a final failure.
- ``OperatorRefusal``: permanent for this request (invalid payload, unknown line, illegal state such as
  suspending a terminated line, number already used); retrying the same request will not help.
"""

from __future__ import annotations

from datetime import datetime


class OperatorError(Exception):
    """Base of every error an operator adapter raises."""

    def __init__(self, message: str, *, network: str = "", code: str = ""):
        super().__init__(message)
        self.message = message
        self.network = network
        self.code = code

    def as_dict(self) -> dict:
        return {"message": self.message, "network": self.network, "code": self.code}


class OperatorTransientError(OperatorError):
    """Temporary failure (timeout, operator overloaded): retry later with the same key."""


class OperatorRefusal(OperatorError):
    """Permanent refusal of this request by the operator."""


class OperatorWindowClosed(OperatorError):
    """The operator does not accept this kind of request at this time (R-PRV-1..4)."""

    def __init__(
        self,
        message: str,
        *,
        network: str = "",
        code: str = "window_closed",
        next_opening: datetime | None = None,
        rule: str = "",
    ):
        super().__init__(message, network=network, code=code)
        self.next_opening = next_opening
        self.rule = rule

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "next_opening": self.next_opening.isoformat() if self.next_opening else None,
            "rule": self.rule,
        }
