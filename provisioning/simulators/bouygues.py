"""The Bouygues Telecom simulator (R-PRV-3/4 windows; no eSIM, R-OPT-2; no M2M range, R-CAT-6)."""

from __future__ import annotations

from core.networks import Network
from provisioning.simulators.base import BaseSimulator


class BouyguesSimulator(BaseSimulator):
    network = Network.BOUYGUES
    prefix = "BYT"
    unsupported_ranges = frozenset({"m2m"})
