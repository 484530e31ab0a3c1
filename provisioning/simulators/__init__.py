"""Operator simulators: each keeps its own state in the ``Simulated*`` tables (``provisioning.models``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone


def simulator_classes() -> dict:
    from provisioning.simulators.bouygues import BouyguesSimulator
    from provisioning.simulators.orange import OrangeSimulator

    return {OrangeSimulator.network: OrangeSimulator, BouyguesSimulator.network: BouyguesSimulator}


def simulator_tick(now: datetime | None = None) -> int:
    """Completes every due request of every simulator (a periodic task or a test calls it); returns the count."""
    now = now or timezone.now()
    return sum(cls().tick(now) for cls in simulator_classes().values())
