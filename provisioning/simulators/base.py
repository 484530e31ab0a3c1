"""What both operator simulators share: they behave like an operator's system behind the ``OperatorPort``.

- **Windows**: a submit outside the operator's hours is refused with ``OperatorWindowClosed`` (with the next
  opening), computed by ``provisioning.rules`` (R-PRV-1..4) — the simulator *is* the operator: it refuses and
  the platform must plan.
- **Idempotency**: one request per (network, key) — a database constraint. A known key returns the first
  ticket (``duplicate=True``), even outside the window; a line is created at most once per request
  (one-to-one constraint). A request that *failed* with a retryable error is attempted again under the same key.
- **Asynchrony**: an accepted request completes ``latency`` seconds later (``settings.SIMULATOR_LATENCY_SECONDS``),
  lazily when ``request_status`` is asked or when ``simulator_tick`` runs; with zero latency it completes
  inside the submit — accepted and settled in one transaction (``_accept_settled``), and the ticket carries the
  outcome (``OperatorTicket.outcome``) so the platform needs no status call.
- **Failures**: with probability ``failure_rate`` (``settings.SIMULATOR_FAILURE_RATE``) an attempt fails — half
  of the time as an ``OperatorTransientError`` on submit (nothing recorded), otherwise as a retryable failed
  status at completion. Draws come from ``self.rng`` (a ``random.Random``; pass ``seed=`` or ``rng=`` for
  deterministic tests, or set ``settings.SIMULATOR_SEED``).
- **State**: lines (active/suspended/terminated), numbers and SIMs ever used (never reused, R-CON-6), options
  (an ``add_option`` with ``replaces`` ends the replaced option and starts the new one, R-OPT-4), data blocks
  per scope (``data``, ``threshold``, ``roaming:<zone>``), the Orange SMS bar (``sms_barred_until``, R-CAT-11),
  top-ups (applied after the latency, R-PRV-5). Illegal moves are refused on submit and, if the line
  changed meanwhile, end the request failed (not retryable).

Call the port outside of a database transaction, as you would call a remote system: the simulator commits
its own rows.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from stdnum import luhn

from core.networks import Network
from provisioning import rules
from provisioning.errors import OperatorRefusal, OperatorTransientError, OperatorWindowClosed
from provisioning.kinds import CREATION_KINDS, RequestKind
from provisioning.models import (
    SimulatedEsimProfile,
    SimulatedIdentifier,
    SimulatedOperatorLine,
    SimulatedOperatorRequest,
)
from provisioning.ports import OperatorStatus, OperatorTicket, Payload, RequestState

Line = SimulatedOperatorLine
Req = SimulatedOperatorRequest

MOBILE_RE = re.compile(r"^0[67]\d{8}$")
DATA_NUMBER_RE = re.compile(r"^0700\d{10}$")  # ID-MSISDN: 14-digit Orange Data only / M2M numbers
ICCID_RE = re.compile(r"^89\d{17,18}$")
_ASSIGN_TRIES = 50

#: Line states from which each kind is allowed.
_ALLOWED_FROM = {
    RequestKind.SUSPEND: {Line.Status.ACTIVE},
    RequestKind.RESUME: {Line.Status.SUSPENDED},
    RequestKind.TERMINATE: {Line.Status.ACTIVE, Line.Status.SUSPENDED},
}
_LIVE = {Line.Status.ACTIVE, Line.Status.SUSPENDED}


def _without_replaced(options: list[str], payload: Payload) -> list[str]:
    """The line's options once the one named by ``replaces`` (if any) has ended (R-OPT-4)."""
    replaces = str(payload.get("replaces") or "")
    return [c for c in options if c != replaces] if replaces else list(options)


def _block_name(payload: Payload) -> str:
    """``data``, ``threshold`` or ``roaming:<zone>`` — a block of the line as the payload names it."""
    scope = str(payload.get("scope") or "data")
    zone = str(payload.get("zone") or "")
    return f"{scope}:{zone}" if zone else scope


def _operator_side_commit() -> None:
    """The simulator's own transaction commits without waiting for its WAL flush (PostgreSQL
    ``synchronous_commit = off``, this transaction only). It stands for the operator's system, whose disk
    is not ours to wait on, and nothing is weakened for the platform: WAL is written in order, so the
    platform's next synchronous commit (the outcome of this very request) makes this one durable too — the
    platform can never durably record an answer the operator's state lacks. Only for a transaction the
    simulator opened itself (never a caller's), and only on PostgreSQL."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _fmt(at: datetime) -> str:
    return rules.local(at).strftime("%d/%m/%Y %H:%M")


class BaseSimulator:
    """An operator simulator (see the module docstring). Subclasses set ``network``, ``prefix`` and the
    numbering they do."""

    network: str = ""
    prefix: str = "SIM"
    #: Line ranges (payload ``range``) this operator does not sell.
    unsupported_ranges: frozenset[str] = frozenset()
    #: Request kinds this operator does not offer (refused on submit).
    unsupported_kinds: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        latency_seconds: float | None = None,
        failure_rate: float | None = None,
        seed: int | None = None,
        rng: random.Random | None = None,
    ):
        self._latency = latency_seconds
        self._failure_rate = failure_rate
        if rng is None:
            seed = seed if seed is not None else settings.SIMULATOR_SEED
            rng = random.Random(seed)  # noqa: S311 — a simulator, not cryptography
        self.rng = rng

    # --- configuration (read at each call so settings overrides apply) ---------------------------------

    @property
    def latency(self) -> timedelta:
        seconds = self._latency if self._latency is not None else settings.SIMULATOR_LATENCY_SECONDS
        return timedelta(seconds=float(seconds))

    @property
    def failure_rate(self) -> float:
        return float(
            self._failure_rate if self._failure_rate is not None else settings.SIMULATOR_FAILURE_RATE
        )

    # --- OperatorPort ------------------------------------------------------------------------------------

    def create_line(self, *, key: str, payload: Payload) -> OperatorTicket:
        kind = RequestKind.CREATE_LINE_ESIM if payload.get("esim") else RequestKind.CREATE_LINE
        return self.submit(kind, key=key, payload=payload)

    def port_in(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.PORT_IN, key=key, payload=payload)

    def suspend(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.SUSPEND, key=key, payload=payload)

    def resume(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.RESUME, key=key, payload=payload)

    def terminate(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.TERMINATE, key=key, payload=payload)

    def change_offer(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.CHANGE_OFFER, key=key, payload=payload)

    def swap_sim(self, *, key: str, payload: Payload) -> OperatorTicket:
        kind = RequestKind.SWAP_SIM_ESIM if payload.get("esim") else RequestKind.SWAP_SIM
        return self.submit(kind, key=key, payload=payload)

    def add_option(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.ADD_OPTION, key=key, payload=payload)

    def remove_option(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.REMOVE_OPTION, key=key, payload=payload)

    def block_data(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.BLOCK_DATA, key=key, payload=payload)

    def unblock_data(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.UNBLOCK_DATA, key=key, payload=payload)

    def topup(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.TOPUP, key=key, payload=payload)

    def bar_sms(self, *, key: str, payload: Payload) -> OperatorTicket:
        return self.submit(RequestKind.BAR_SMS, key=key, payload=payload)

    def submit(self, kind: RequestKind | str, *, key: str, payload: Payload) -> OperatorTicket:
        kind = RequestKind(kind)
        payload = dict(payload)
        if kind == RequestKind.CREATE_LINE and payload.get("esim"):
            kind = RequestKind.CREATE_LINE_ESIM
        if kind == RequestKind.SWAP_SIM and payload.get("esim"):
            kind = RequestKind.SWAP_SIM_ESIM
        if not key or len(key) > 200:
            raise self._refusal("Clé d'idempotence absente ou trop longue.", "invalid_key")
        now = timezone.now()
        existing = self._by_key(key)
        if existing is not None:
            return self._replay(existing, kind, now)
        try:
            self._check_payload(kind, payload)
        except OperatorRefusal as exc:
            # The same key may have just created the line in another process (it committed between our two
            # look-ups): its ticket is ours, this is no reuse of a number or SIM.
            if exc.code in {"iccid_used", "msisdn_used"}:
                existing = self._by_key(key)
                if existing is not None:
                    return self._replay(existing, kind, now)
            raise
        self._check_window(kind, payload, now)
        planned_failure = self._draw_failure()
        line = self._check_state(kind, payload)
        fields = {
            "network": self.network,
            "idempotency_key": key,
            "reference": f"{self.prefix}-{uuid.uuid4().hex[:16].upper()}",
            "kind": kind,
            "payload": payload,
            "accepted_at": now,
            "complete_after": now + self.latency,
            "planned_failure": planned_failure,
            "line": line,
        }
        if fields["complete_after"] <= now:
            settled = self._accept_settled(fields, now)
            if settled is not None:
                return self._ticket(settled, duplicate=False, outcome=self._status(settled))
        try:
            with transaction.atomic():
                req = Req.objects.create(**fields)
        except IntegrityError:  # the same key won a race in another process: its ticket is ours
            existing = Req.objects.get(network=self.network, idempotency_key=key)
            return self._replay(existing, kind, now)
        if req.complete_after <= now:
            self._complete_one(req.pk, now)
        return self._ticket(req, duplicate=False)

    def _accept_settled(self, fields: dict[str, Any], now: datetime) -> Req | None:
        """Zero latency: accept and settle the request in ONE transaction. Nobody else can see the row before
        it is settled, so it needs no row lock, and a new creation request has no line yet (no look-up, no
        savepoints): about 6 statements instead of about 20. The same constraints hold (one request per key,
        one line per creation request, a number or SIM used once, R-CON-6): any refusal or collision rolls
        everything back and returns ``None``, and the caller takes the step-by-step path (accept, then settle
        under a row lock), which records a refusal as a failed request and answers a key that won a race in
        another process with that request's ticket."""
        own_transaction = not transaction.get_connection().in_atomic_block
        try:
            with transaction.atomic():
                if own_transaction:
                    _operator_side_commit()
                if fields["planned_failure"]:
                    return Req.objects.create(**fields, **self._failed_fields(now))
                req = Req.objects.create(**fields)
                req.result = self._apply(req, now, fresh=True)
                req.status, req.completed_at = Req.Status.COMPLETED, now
                req.save(update_fields=["status", "completed_at", "result", "line"])
                return req
        except (IntegrityError, OperatorRefusal):
            return None

    @staticmethod
    def _failed_fields(now: datetime) -> dict[str, Any]:
        """A simulated technical failure at completion (failure rate): retryable under the same key."""
        return {
            "status": Req.Status.FAILED,
            "retryable": True,
            "completed_at": now,
            "error": "Erreur technique de l'opérateur (simulée), veuillez renvoyer la demande.",
        }

    def _by_key(self, key: str) -> Req | None:
        try:
            return Req.objects.get(network=self.network, idempotency_key=key)
        except Req.DoesNotExist:
            return None

    def request_status(self, reference: str) -> OperatorStatus:
        req = Req.objects.filter(network=self.network, reference=reference).first()
        if req is None:
            raise self._refusal(f"Demande inconnue : {reference}.", "unknown_request")
        now = timezone.now()
        if req.status == Req.Status.ACCEPTED and req.complete_after <= now:
            if req.line_id:  # complete earlier due requests on the same line first, in order
                due = Req.objects.filter(
                    line_id=req.line_id, status=Req.Status.ACCEPTED, complete_after__lte=req.complete_after
                ).order_by("complete_after", "id")
                for pk in due.values_list("pk", flat=True):
                    self._complete_one(pk, now)
            self._complete_one(req.pk, now)
            req.refresh_from_db()
        return self._status(req)

    # --- completion ----------------------------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> int:
        """Completes every due request of this network, in order; returns how many were settled."""
        now = now or timezone.now()
        due = Req.objects.filter(
            network=self.network, status=Req.Status.ACCEPTED, complete_after__lte=now
        ).order_by("complete_after", "id")
        return sum(1 for pk in list(due.values_list("pk", flat=True)) if self._complete_one(pk, now))

    def _complete_one(self, pk: int, now: datetime) -> bool:
        """Settles one due request exactly once (row lock + status check); True if this call settled it."""
        with transaction.atomic():
            req = Req.objects.select_for_update().get(pk=pk)
            if req.status != Req.Status.ACCEPTED or req.complete_after > now:
                return False
            req.completed_at = now
            if req.planned_failure:
                for name, value in self._failed_fields(now).items():
                    setattr(req, name, value)
            else:
                try:
                    with transaction.atomic():
                        req.result = self._apply(req, now)
                except OperatorRefusal as exc:
                    req.status, req.retryable, req.error = Req.Status.FAILED, False, exc.message
                else:
                    req.status = Req.Status.COMPLETED
            req.save(update_fields=["status", "completed_at", "result", "error", "retryable", "line"])
            return True

    def _apply(self, req: Req, now: datetime, *, fresh: bool = False) -> dict[str, Any]:
        """Does the request at the operator; ``fresh``: the request was inserted in this very transaction
        (``_accept_settled``)."""
        kind, payload = RequestKind(req.kind), req.payload
        if kind in CREATION_KINDS:
            return self._apply_creation(req, now, fresh=fresh)
        line = Line.objects.select_for_update().get(pk=req.line_id)
        allowed = _ALLOWED_FROM.get(kind, _LIVE)
        if line.status not in allowed:
            raise self._refusal(self._state_message(kind, line), "invalid_state")
        result: dict[str, Any] = {}
        fields = []
        if kind == RequestKind.SUSPEND:
            line.status = Line.Status.SUSPENDED
        elif kind == RequestKind.RESUME:
            line.status = Line.Status.ACTIVE
        elif kind == RequestKind.TERMINATE:
            # R-CON-6: the number and the SIM are retired for ever.
            line.status, line.terminated_at = Line.Status.TERMINATED, now
            fields.append("terminated_at")
            line.identifiers.filter(retired_at__isnull=True).update(retired_at=now)
            line.esim_profiles.filter(retired_at__isnull=True).update(retired_at=now)  # R-OPT-2
        elif kind == RequestKind.CHANGE_OFFER:
            line.offer_code = payload["offer_code"]
            line.offer_range = payload.get("range", line.offer_range)
            fields += ["offer_code", "offer_range"]
            result["offer_code"] = line.offer_code
        elif kind in (RequestKind.SWAP_SIM, RequestKind.SWAP_SIM_ESIM):
            esim = kind == RequestKind.SWAP_SIM_ESIM
            iccid = self._new_iccid(payload, esim=esim)
            line.identifiers.filter(kind=SimulatedIdentifier.Kind.ICCID, retired_at__isnull=True).update(
                retired_at=now
            )
            self._register(line, SimulatedIdentifier.Kind.ICCID, iccid, now)
            line.iccid, line.esim = iccid, esim
            fields += ["iccid", "esim", "esim_activation_code", "esim_confirmation_code"]
            line.esim_activation_code = line.esim_confirmation_code = ""
            # R-OPT-2 / R-ORD-4: the eSIM swapped away is retired, never downloaded again.
            line.esim_profiles.filter(retired_at__isnull=True).update(retired_at=now)
            if esim:
                self._fill_esim(line, payload, iccid=iccid, now=now)
                result.update(
                    activation_code=line.esim_activation_code, confirmation_code=line.esim_confirmation_code
                )
            result.update(iccid=iccid, esim=esim)
        elif kind == RequestKind.ADD_OPTION:
            # R-OPT-4: an option added in place of another (``replaces``, a roaming choice changed within the
            # month) ends the replaced one now and starts the new one; a code ended before may come back.
            code = payload["option_code"]
            kept = _without_replaced(line.options, payload)
            if code in kept:
                raise self._refusal(f"L'option {code} est déjà active sur la ligne.", "option_exists")
            replaced = [c for c in line.options if c not in kept]
            line.options = [*kept, code]
            fields.append("options")
            result["options"] = line.options
            if replaced:
                result.update(replaced=replaced, replaced_ended_at=rules.utc(now).isoformat())
        elif kind == RequestKind.REMOVE_OPTION:
            code = payload["option_code"]
            if code not in line.options:
                raise self._refusal(f"L'option {code} n'est pas active sur la ligne.", "option_missing")
            line.options = [c for c in line.options if c != code]
            fields.append("options")
            result.update(options=line.options, ends_at=self.option_ends_at(now).isoformat())
        elif kind == RequestKind.BLOCK_DATA:
            block = _block_name(payload)
            line.data_blocks = [*[b for b in line.data_blocks if b != block], block]
            line.data_blocked = True
            fields += ["data_blocked", "data_blocks"]
            result.update(data_blocked=True, data_blocks=line.data_blocks)
        elif kind == RequestKind.UNBLOCK_DATA:
            # the blocks named by the payload (all of them when it names none)
            lifted = {_block_name(b) for b in payload.get("blocks") or []}
            line.data_blocks = [b for b in line.data_blocks if lifted and b not in lifted]
            line.data_blocked = bool(line.data_blocks)
            fields += ["data_blocked", "data_blocks"]
            result.update(data_blocked=line.data_blocked, data_blocks=line.data_blocks)
        elif kind == RequestKind.BAR_SMS:  # R-CAT-11: SMS sending suspended for ``days`` days
            line.sms_barred_until = now + timedelta(days=int(payload.get("days") or 3))
            fields.append("sms_barred_until")
            result["sms_barred_until"] = rules.utc(line.sms_barred_until).isoformat()
        elif kind == RequestKind.TOPUP:  # R-PRV-5: the volume shows on the line only now, after the latency
            line.topup_bytes += int(payload["volume_bytes"])
            fields.append("topup_bytes")
            result.update(volume_bytes=int(payload["volume_bytes"]), topup_total_bytes=line.topup_bytes)
        line.save(update_fields=["status", *fields])
        return {
            "operator_line_id": line.operator_line_id,
            "msisdn": line.msisdn,
            "line_status": line.status,
            **result,
        }

    def _apply_creation(self, req: Req, now: datetime, *, fresh: bool = False) -> dict[str, Any]:
        """Creates the line of a creation request once (one-to-one ``creation_request``). ``fresh``: the
        request was inserted in this transaction, so it has no line yet, and any collision (number drawn
        twice, SIM used) raises ``IntegrityError`` to the caller instead of being retried under savepoints."""
        payload = req.payload
        existing = None if fresh else Line.objects.filter(creation_request=req).first()
        if existing is None:
            esim = req.kind == RequestKind.CREATE_LINE_ESIM or bool(payload.get("esim"))
            iccid = self._new_iccid(payload, esim=esim)
            if fresh:
                line = self._line_row(
                    req,
                    payload,
                    payload.get("msisdn") or self.assign_msisdn(payload),
                    iccid=iccid,
                    esim=esim,
                    now=now,
                )
                line.save(force_insert=True)
                SimulatedIdentifier.objects.bulk_create(
                    [
                        SimulatedIdentifier(
                            network=self.network, kind=kind, value=value, line=line, assigned_at=now
                        )
                        for kind, value in (
                            (SimulatedIdentifier.Kind.MSISDN, line.msisdn),
                            (SimulatedIdentifier.Kind.ICCID, iccid),
                        )
                    ]
                )
            else:
                line = self._create_line_row(req, payload, iccid=iccid, esim=esim, now=now)
                self._register(line, SimulatedIdentifier.Kind.MSISDN, line.msisdn, now)
                self._register(line, SimulatedIdentifier.Kind.ICCID, iccid, now)
            if esim:
                self._fill_esim(line, payload, iccid=iccid, now=now)
                line.save(update_fields=["esim_activation_code", "esim_confirmation_code"])
            existing = line
        req.line = existing
        result = {
            "operator_line_id": existing.operator_line_id,
            "msisdn": existing.msisdn,
            "iccid": existing.iccid,
            "esim": existing.esim,
            "line_status": existing.status,
        }
        if existing.esim:
            result.update(
                activation_code=existing.esim_activation_code,
                confirmation_code=existing.esim_confirmation_code,
            )
        return result

    def _create_line_row(self, req: Req, payload: dict, *, iccid: str, esim: bool, now: datetime) -> Line:
        wanted = payload.get("msisdn") or ""
        for _ in range(_ASSIGN_TRIES):
            msisdn = wanted or self.assign_msisdn(payload)
            try:
                with transaction.atomic():
                    line = self._line_row(req, payload, msisdn, iccid=iccid, esim=esim, now=now)
                    line.save(force_insert=True)
                    return line
            except IntegrityError:
                if Line.objects.filter(creation_request=req).exists():
                    raise
                if wanted:
                    raise self._refusal(f"Le numéro {wanted} est déjà attribué.", "msisdn_used") from None
        raise OperatorTransientError(
            "Plus de numéro disponible, réessayez.", network=self.network
        )  # pragma: no cover

    def _line_row(
        self, req: Req, payload: dict, msisdn: str, *, iccid: str, esim: bool, now: datetime
    ) -> Line:
        return Line(
            network=self.network,
            operator_line_id=f"{self.prefix}L-{uuid.uuid4().hex[:12].upper()}",
            creation_request=req,
            msisdn=msisdn,
            iccid=iccid,
            esim=esim,
            ported=req.kind == RequestKind.PORT_IN,
            offer_code=payload.get("offer_code", ""),
            offer_range=payload.get("range", ""),
            options=list(payload.get("options") or []),
            activated_at=now,
        )

    def _register(self, line: Line, kind: str, value: str, now: datetime) -> None:
        try:
            with transaction.atomic():
                SimulatedIdentifier.objects.create(
                    network=self.network, kind=kind, value=value, line=line, assigned_at=now
                )
        except IntegrityError:
            label = "numéro" if kind == SimulatedIdentifier.Kind.MSISDN else "SIM"
            raise self._refusal(f"{label} {value} déjà utilisé(e) (R-CON-6).", f"{kind}_used") from None

    # --- numbering (overridden per operator) ---------------------------------------------------------------

    def assign_msisdn(self, payload: dict) -> str:
        """A fresh 10-digit mobile number drawn at random (R-CON-6); 071/072 are not allocated (ID-MSISDN)."""
        if self.rng.random() < 0.5:
            return "06" + "".join(self.rng.choices(string.digits, k=8))
        return "07" + self.rng.choice("3456789") + "".join(self.rng.choices(string.digits, k=7))

    def check_creation_number(self, kind: RequestKind, payload: dict) -> None:
        """Hook: refuse a number the platform may not choose (Orange Data only/M2M, R-CAT-5/6)."""

    def esim_iccid_prefix(self) -> str:
        return "8933" + {Network.ORANGE: "01", Network.BOUYGUES: "20"}.get(self.network, "99")

    def option_ends_at(self, now: datetime) -> datetime:
        """When a removed option stops (Bouygues: at once; Orange overrides, R-OPT-3)."""
        return rules.utc(now)

    def _new_iccid(self, payload: dict, *, esim: bool) -> str:
        given = (payload.get("iccid") or "").upper().rstrip("F")
        if given:
            return given
        if not esim:  # _check_payload guarantees a physical SIM comes with its ICCID
            raise self._refusal("ICCID de la SIM manquant.", "iccid_missing")
        for _ in range(_ASSIGN_TRIES):  # an eSIM profile allocated by the operator (R-OPT-2)
            body = self.esim_iccid_prefix() + "".join(self.rng.choices(string.digits, k=12))
            iccid = body + luhn.calc_check_digit(body)
            if not SimulatedIdentifier.objects.filter(
                network=self.network, kind="iccid", value=iccid
            ).exists():
                return iccid
        raise OperatorTransientError(
            "Plus de profil eSIM disponible.", network=self.network
        )  # pragma: no cover

    def _fill_esim(self, line: Line, payload: dict, *, iccid: str, now: datetime) -> None:
        """ID-LPA: ``LPA:1$<SM-DP+>$<matching id>$$1``; the confirmation code travels separately (SMS).

        The platform's profile is used when the payload names it (``matching_id``, ``smdp_address``: the eSIM
        allocated at order, R-OPT-2) and so is its ``confirmation_code`` (6 digits, ES2+ "confirm order"
        style); otherwise the operator draws them. The profile is recorded in ``SimulatedEsimProfile``, where
        the handset's download is checked (``esim_confirm``, R-ORD-4)."""
        alphabet = string.ascii_uppercase + string.digits
        matching = str(payload.get("matching_id") or "").strip().upper()
        if not re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", matching):
            matching = "-".join("".join(self.rng.choices(alphabet, k=5)) for _ in range(4))
        smdp = str(payload.get("smdp_address") or "").strip() or settings.ESIM_SMDP_ADDRESS
        code = str(payload.get("confirmation_code") or "")
        if not re.fullmatch(r"[0-9]{6}", code):
            code = "".join(self.rng.choices(string.digits, k=6))
        line.esim_activation_code = f"LPA:1${smdp}${matching}$$1"
        line.esim_confirmation_code = code
        try:
            with transaction.atomic():
                SimulatedEsimProfile.objects.create(
                    network=self.network,
                    line=line,
                    iccid=iccid,
                    matching_id=matching,
                    activation_code=line.esim_activation_code,
                    confirmation_code=code,
                    created_at=now,
                )
        except IntegrityError:
            raise self._refusal(
                f"Profil eSIM {matching} déjà utilisé : une eSIM ne s'installe qu'une fois (R-OPT-2).",
                "esim_used",
            ) from None

    # --- checks on submit ----------------------------------------------------------------------------------

    def _check_payload(self, kind: RequestKind, payload: dict) -> None:
        """Shape of the payload: a permanent refusal when wrong."""
        if kind in self.unsupported_kinds:
            raise self._refusal(
                f"{RequestKind(kind).label} : demande non proposée par l'opérateur.", "unsupported"
            )
        if kind in CREATION_KINDS:
            offer_range = payload.get("range") or ""
            if offer_range in self.unsupported_ranges:
                raise self._refusal(f"Gamme {offer_range} non proposée par l'opérateur.", "unsupported_range")
            esim = kind == RequestKind.CREATE_LINE_ESIM or bool(payload.get("esim"))
            msisdn = payload.get("msisdn") or ""
            used = self._used_identifiers(iccid=payload.get("iccid") or "", msisdn=msisdn)
            if not esim or payload.get("iccid"):
                self._check_iccid(payload.get("iccid"), used=used)
            if kind == RequestKind.PORT_IN:
                if not msisdn:
                    raise self._refusal("Le numéro à porter est obligatoire.", "msisdn_missing")
                if not payload.get("ordered_at"):
                    raise self._refusal("Date de commande de la portabilité manquante.", "ordered_at_missing")
                self._ordered_at(payload)
                rio = payload.get("rio") or ""
                if rio and len(rio) != 12:
                    raise self._refusal("RIO invalide (12 caractères).", "rio_invalid")
            self.check_creation_number(kind, payload)
            if msisdn:
                if not (MOBILE_RE.match(msisdn) or DATA_NUMBER_RE.match(msisdn)):
                    raise self._refusal(f"Numéro invalide : {msisdn}.", "msisdn_invalid")
                if (SimulatedIdentifier.Kind.MSISDN, msisdn) in used:
                    raise self._refusal(f"Le numéro {msisdn} est déjà attribué.", "msisdn_used")
            return
        if not (payload.get("operator_line_id") or payload.get("msisdn")):
            raise self._refusal("Ligne non précisée (operator_line_id).", "line_missing")
        required = {
            RequestKind.CHANGE_OFFER: "offer_code",
            RequestKind.ADD_OPTION: "option_code",
            RequestKind.REMOVE_OPTION: "option_code",
            RequestKind.SWAP_SIM: "iccid",
            RequestKind.TOPUP: "volume_bytes",
        }.get(kind)
        if required and not payload.get(required):
            raise self._refusal(f"Champ {required} manquant.", f"{required}_missing")
        if kind == RequestKind.SWAP_SIM or (kind == RequestKind.SWAP_SIM_ESIM and payload.get("iccid")):
            self._check_iccid(payload.get("iccid"))
        if kind == RequestKind.TOPUP and not (
            isinstance(payload["volume_bytes"], int) and payload["volume_bytes"] > 0
        ):
            raise self._refusal("Volume de recharge invalide.", "volume_invalid")

    def _used_identifiers(self, *, iccid: str = "", msisdn: str = "") -> set[tuple[str, str]]:
        """Which of these identifiers the operator ever used (R-CON-6), in one query: ``{(kind, value)}``."""
        iccid = iccid.upper().rstrip("F")
        wanted = [
            Q(kind=kind, value=value)
            for kind, value in (
                (SimulatedIdentifier.Kind.ICCID, iccid),
                (SimulatedIdentifier.Kind.MSISDN, msisdn),
            )
            if value
        ]
        if not wanted:
            return set()
        found = SimulatedIdentifier.objects.filter(Q(*wanted, _connector=Q.OR), network=self.network)
        return set(found.values_list("kind", "value"))

    def _check_iccid(self, iccid: str | None, *, used: set[tuple[str, str]] | None = None) -> None:
        iccid = (iccid or "").upper().rstrip("F")
        if not ICCID_RE.match(iccid) or not luhn.is_valid(iccid):
            raise self._refusal(f"ICCID invalide : {iccid or '(vide)'}.", "iccid_invalid")
        if used is None:
            used = self._used_identifiers(iccid=iccid)
        if (SimulatedIdentifier.Kind.ICCID, iccid) in used:
            raise self._refusal(f"La SIM {iccid} a déjà été utilisée (R-CON-6).", "iccid_used")

    def _ordered_at(self, payload: dict) -> datetime:
        try:
            ordered_at = datetime.fromisoformat(str(payload["ordered_at"]))
        except ValueError:
            raise self._refusal("Date de commande invalide.", "ordered_at_invalid") from None
        if ordered_at.tzinfo is None:
            raise self._refusal("Date de commande sans fuseau horaire.", "ordered_at_invalid")
        return ordered_at

    def _check_window(self, kind: RequestKind, payload: dict, now: datetime) -> None:
        portability = kind == RequestKind.PORT_IN
        esim = bool(payload.get("esim")) or kind in (RequestKind.CREATE_LINE_ESIM, RequestKind.SWAP_SIM_ESIM)
        ordered_at = self._ordered_at(payload) if portability else None
        try:
            opening = rules.next_window(kind, self.network, now, esim=esim, ordered_at=ordered_at)
            rule = rules.window_rule(kind, self.network, esim=esim)
        except rules.UnsupportedRequest as exc:
            raise self._refusal(f"Demande non proposée par l'opérateur : {exc}.", "unsupported") from None
        if opening != rules.utc(now):
            raise OperatorWindowClosed(
                f"Demande hors des horaires de l'opérateur ({rule}) ; prochaine ouverture le {_fmt(opening)}.",
                network=self.network,
                next_opening=opening,
                rule=rule,
            )

    def _draw_failure(self) -> bool:
        """Failure rate: half of the failures are transient errors now, the others a failed status later."""
        if self.rng.random() >= self.failure_rate:
            return False
        if self.rng.random() < 0.5:
            raise OperatorTransientError(
                "Service opérateur momentanément indisponible (simulé).",
                network=self.network,
                code="unavailable",
            )
        return True

    def _check_state(self, kind: RequestKind, payload: dict) -> Line | None:
        if kind in CREATION_KINDS:
            return None
        lines = Line.objects.filter(network=self.network)
        if payload.get("operator_line_id"):
            line = lines.filter(operator_line_id=payload["operator_line_id"]).first()
        else:
            line = lines.filter(msisdn=payload["msisdn"]).first()
        if line is None:
            raise self._refusal("Ligne inconnue chez l'opérateur.", "unknown_line")
        if line.status not in _ALLOWED_FROM.get(kind, _LIVE):
            raise self._refusal(self._state_message(kind, line), "invalid_state")
        if kind == RequestKind.ADD_OPTION and payload["option_code"] in _without_replaced(
            line.options, payload
        ):
            raise self._refusal(
                f"L'option {payload['option_code']} est déjà active sur la ligne.", "option_exists"
            )
        if kind == RequestKind.REMOVE_OPTION and payload["option_code"] not in line.options:
            raise self._refusal(
                f"L'option {payload['option_code']} n'est pas active sur la ligne.", "option_missing"
            )
        return line

    def _state_message(self, kind: RequestKind, line: Line) -> str:
        return f"{RequestKind(kind).label} impossible : la ligne {line.msisdn} est {line.get_status_display().lower()}."

    # --- replies -------------------------------------------------------------------------------------------

    def _replay(self, existing: Req, kind: RequestKind, now: datetime) -> OperatorTicket:
        """A known key: the first ticket — or a new attempt of a retryable failure, same reference."""
        if existing.kind != kind:
            raise self._refusal("Clé d'idempotence déjà utilisée pour une autre demande.", "key_reused")
        if existing.status != Req.Status.FAILED or not existing.retryable:
            # A settled request answers with its outcome at once (the platform need not ask its status).
            final = existing.status != Req.Status.ACCEPTED
            return self._ticket(existing, duplicate=True, outcome=self._status(existing) if final else None)
        self._check_window(kind, existing.payload, now)
        planned_failure = self._draw_failure()
        reopened = Req.objects.filter(pk=existing.pk, status=Req.Status.FAILED, retryable=True).update(
            status=Req.Status.ACCEPTED,
            attempts=F("attempts") + 1,
            accepted_at=now,
            complete_after=now + self.latency,
            completed_at=None,
            planned_failure=planned_failure,
            result={},
            error="",
            retryable=False,
        )
        existing.refresh_from_db()
        if reopened and existing.complete_after <= now:
            self._complete_one(existing.pk, now)
        return self._ticket(existing, duplicate=not reopened)

    def _ticket(self, req: Req, *, duplicate: bool, outcome: OperatorStatus | None = None) -> OperatorTicket:
        return OperatorTicket(
            reference=req.reference,
            network=self.network,
            kind=req.kind,
            key=req.idempotency_key,
            accepted_at=req.accepted_at,
            duplicate=duplicate,
            outcome=outcome,
        )

    def _status(self, req: Req) -> OperatorStatus:
        state = {
            Req.Status.ACCEPTED: RequestState.PENDING,
            Req.Status.COMPLETED: RequestState.COMPLETED,
            Req.Status.FAILED: RequestState.FAILED,
        }[req.status]
        return OperatorStatus(
            reference=req.reference,
            state=state,
            result=dict(req.result or {}),
            error=req.error,
            retryable=req.retryable,
            completed_at=req.completed_at,
        )

    def _refusal(self, message: str, code: str) -> OperatorRefusal:
        return OperatorRefusal(message, network=self.network, code=code)
