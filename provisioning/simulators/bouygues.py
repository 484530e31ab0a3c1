"""The Bouygues Telecom simulator (R-PRV-3/4 windows; no eSIM, R-OPT-2; no M2M range, R-CAT-6; no SMS bar, the
fair-use bar of R-CAT-11 is Orange's)."""

from __future__ import annotations

from core.networks import Network
from provisioning.kinds import RequestKind
from provisioning.simulators.base import BaseSimulator


class BouyguesSimulator(BaseSimulator):
    network = Network.BOUYGUES
    prefix = "BYT"
    unsupported_ranges = frozenset({"m2m"})
    unsupported_kinds = frozenset({RequestKind.BAR_SMS})
