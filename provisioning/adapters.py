"""Which ``OperatorPort`` serves which network: ``settings.OPERATOR_ADAPTERS`` (dotted class paths), so a real
operator client can replace a simulator without touching the domain."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from core.networks import Network
from provisioning.ports import OperatorPort

_instances: dict[tuple[str, str], OperatorPort] = {}
_lock = threading.Lock()


def get_operator(network: str) -> OperatorPort:
    """The adapter for ``network`` (one instance per process and class, so a seeded simulator keeps drawing
    from one random sequence). Raises ``KeyError`` for a network without an adapter."""
    network = Network(network).value
    path = settings.OPERATOR_ADAPTERS[network]
    with _lock:
        adapter = _instances.get((network, path))
        if adapter is None:
            adapter = _instances[(network, path)] = import_string(path)()
    return adapter


def reset_operators() -> None:
    """Forget the cached adapters (tests, settings changes)."""
    with _lock:
        _instances.clear()


@receiver(setting_changed)
def _on_setting_changed(*, setting, **kwargs):
    if setting in {"OPERATOR_ADAPTERS", "SIMULATOR_SEED"}:
        reset_operators()
