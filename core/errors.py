"""The one domain error type (STYLE 3).

Services raise ``RuleViolation`` when a business rule refuses an action. One handler per door turns it into
a 422 JSON body (API) or a French message next to the field (back-office, self-care).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.rule = rule

    def as_dict(self) -> dict:
        return {"message": str(self.message), "field": self.field, "rule": self.rule}


class RuleViolation(DomainError):
    """A business rule of SPEC.md refuses the action; ``rule`` names it (``R-CON-3``)."""


class ValidationFailed(DomainError):
    """Several errors at once (e.g. every bad row of an import); ``errors`` holds them, or the first of them
    when ``more`` (the count of the others, not kept) is not 0."""

    def __init__(self, errors: list[DomainError], message: str = "", *, more: int = 0):
        super().__init__(message or (errors[0].message if errors else ""))
        self.errors = errors
        self.more = more

    def as_dict(self) -> dict:
        body = {"message": str(self.message), "errors": [e.as_dict() for e in self.errors]}
        if self.more:
            body["more_errors"] = self.more
        return body


def constraint_name(exc: Exception) -> str:
    """The name of the database constraint an ``IntegrityError`` broke ("" when unknown): services turn the
    constraints they expect into ``RuleViolation`` and let any other error through."""
    diag = getattr(exc.__cause__, "diag", None)
    return str(getattr(diag, "constraint_name", "") or "")
