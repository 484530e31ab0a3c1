"""The Orange simulator (R-PRV-1/2/4 windows, R-CAT-5/6 numbering, R-OPT-3 option ends)."""

from __future__ import annotations

import string
from datetime import datetime

from core.networks import Network
from provisioning import rules
from provisioning.kinds import RequestKind
from provisioning.simulators.base import BaseSimulator

#: Ranges whose lines get a 14-digit ``0700`` number chosen by Orange (R-CAT-5 Data only, R-CAT-6 M2M).
DATA_NUMBER_RANGES = frozenset({"data_only", "m2m"})


class OrangeSimulator(BaseSimulator):
    network = Network.ORANGE
    prefix = "ORA"

    def assign_msisdn(self, payload: dict) -> str:
        """R-CAT-5/6: Orange chooses a 14-digit number ``0700`` + 10 digits for Data only and M2M lines;
        never reused (unique in the simulator's tables, R-CON-6)."""
        if payload.get("range") in DATA_NUMBER_RANGES:
            return "0700" + "".join(self.rng.choices(string.digits, k=10))
        return super().assign_msisdn(payload)

    def check_creation_number(self, kind: RequestKind, payload: dict) -> None:
        if (
            kind != RequestKind.PORT_IN
            and payload.get("msisdn")
            and payload.get("range") in DATA_NUMBER_RANGES
        ):
            raise self._refusal(
                "Orange attribue lui-même les numéros des lignes Data only et M2M (R-CAT-5/6).",
                "msisdn_not_allowed",
            )

    def option_ends_at(self, now: datetime) -> datetime:
        """R-OPT-3: an Orange option ends on the 1st of next month."""
        return rules.effective_first_of_next_month(now)
