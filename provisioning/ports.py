"""The ``OperatorPort``: what the platform may ask an operator, whatever sits behind it (a simulator today,
a real client tomorrow — ``provisioning.adapters.get_operator`` picks it from ``settings.OPERATOR_ADAPTERS``).

Every submit is asynchronous: the operator *accepts* it (``OperatorTicket``) and completes or fails it later;
``request_status(reference)`` tells which. Every submit carries the platform's idempotency ``key``: a second
submit with a known key returns the ticket of the first one and never does the work twice (no second line) —
that is what makes a double delivery of a task harmless. A request whose previous attempt *failed* with a
retryable error is attempted again under the same key and the same reference.

Errors (``provisioning.errors``): ``OperatorTransientError`` (retry later), ``OperatorWindowClosed`` (outside
the operator's hours, R-PRV-1..4, with ``next_opening``), ``OperatorRefusal`` (permanent).

Payloads are JSON-serialisable dicts; the keys a simulator reads:

- ``create_line``: ``offer_code``, ``range`` (``illimite``, ``data_only``, ``m2m``, ``travel``, ``compteur``…),
  ``esim`` (bool; ``True`` → eSIM creation, R-PRV-2), ``iccid`` (physical SIM; for an eSIM optional, the operator
  allocates a profile), ``msisdn`` (optional: Bouygues numbers chosen from the pool; Orange assigns its own,
  14 digits ``0700…`` for Data only/M2M, R-CAT-5/6), ``options`` (list of option codes).
- ``port_in``: as ``create_line`` plus ``msisdn`` (the ported number, kept), ``rio`` (optional, 12 characters)
  and ``ordered_at`` (ISO datetime of the order: the J+3 floor of R-PRV-4 counts from it).
- every other kind: ``operator_line_id`` (or ``msisdn``) of the line, plus — ``change_offer``: ``offer_code``
  (and optionally ``range``, ``blocked``); ``swap_sim``: ``iccid`` of the new SIM, or ``esim: True``;
  ``add_option``/``remove_option``: ``option_code`` (``add_option`` may name in ``replaces`` the option the
  new one replaces — a roaming choice changed within the month, R-OPT-4: the replaced option ends at once, the
  new one starts, and an option ended before may be added again); ``topup``: ``volume_bytes`` (int);
  ``block_data``: ``scope`` (``data``, ``roaming``, ``threshold``) and ``zone``; ``unblock_data``: ``blocks`` (list
  of ``{scope, zone}``; none = every block); ``bar_sms`` (Orange, R-CAT-11): ``days``.

Results (``OperatorStatus.result`` once completed): creations give ``operator_line_id``, ``msisdn``, ``iccid``,
``esim`` (and for an eSIM ``activation_code`` and ``confirmation_code``); line actions give ``operator_line_id``,
``line_status`` and what changed (``iccid`` after a swap, ``topup_total_bytes``, ``ends_at`` of an option,
``replaced`` and ``replaced_ended_at`` of an option replaced by ``add_option``…).

A ticket may carry the request's final ``outcome`` when the operator settled it at submit (a synchronous
operator, a zero-latency simulator, or a key it already settled): the platform then needs no status call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from provisioning.kinds import RequestKind


class RequestState(enum.StrEnum):
    """State of a request at the operator, as ``request_status`` reports it."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class OperatorTicket:
    """The operator's receipt for an accepted request."""

    reference: str
    network: str
    kind: str
    key: str
    accepted_at: datetime
    #: True when the key was already known (this submit did nothing new).
    duplicate: bool = False
    status: str = "accepted"
    #: The final answer when the operator already has it at submit (it settled the request synchronously, or
    #: the key names a request settled before); ``None``: ask ``request_status`` later.
    outcome: OperatorStatus | None = None


@dataclass(frozen=True)
class OperatorStatus:
    """Where an accepted request stands."""

    reference: str
    state: RequestState
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    #: For a failed request: whether submitting it again (same key) may succeed.
    retryable: bool = False
    completed_at: datetime | None = None

    @property
    def is_final(self) -> bool:
        return self.state != RequestState.PENDING


Payload = Mapping[str, Any]


@runtime_checkable
class OperatorPort(Protocol):
    """One operator (network). Every submit method: keyword-only ``key`` (the platform's request key) and
    ``payload``; returns an ``OperatorTicket``; raises ``OperatorTransientError``, ``OperatorWindowClosed`` or
    ``OperatorRefusal``."""

    network: str

    def submit(self, kind: RequestKind | str, *, key: str, payload: Payload) -> OperatorTicket:
        """Generic entry point: the method for ``kind`` (the dispatcher calls this)."""
        ...

    def create_line(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def port_in(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def suspend(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def resume(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def terminate(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def change_offer(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def swap_sim(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def add_option(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def remove_option(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def block_data(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def unblock_data(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def topup(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def bar_sms(self, *, key: str, payload: Payload) -> OperatorTicket: ...

    def request_status(self, reference: str) -> OperatorStatus:
        """Raises ``OperatorRefusal`` for an unknown reference."""
        ...
