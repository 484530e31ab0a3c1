"""Demo step of provisioning (``manage.py load_demo``): plan the operator requests of the demo orders at the
operators' next windows (R-PRV-1..4), so the contract pages show when each line will be sent, before any worker
runs. Nothing is sent here (no operator call in a demo load); the worker's sweep sends what is due.

Idempotent: only pending requests are planned; a second run finds none and changes nothing."""

from __future__ import annotations

from contracts.models import OperatorRequest
from provisioning.services import plan_pending_requests


def load(stdout) -> None:
    pending = OperatorRequest.objects.filter(state=OperatorRequest.State.PENDING).count()
    planned = plan_pending_requests(limit=max(pending, 1)) if pending else 0
    waiting = OperatorRequest.objects.filter(state=OperatorRequest.State.PLANNED).count()
    stdout.write(
        f"Provisionnement : {planned} demande(s) opérateur planifiée(s), {waiting} en attente d'envoi "
        "(le worker les envoie à l'ouverture des créneaux opérateurs)."
    )
