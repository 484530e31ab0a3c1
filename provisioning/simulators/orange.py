"""The Orange simulator (R-PRV-1/2/4 windows, R-CAT-5/6 numbering, R-OPT-3 option ends)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.networks import Network
from provisioning import rules
from provisioning.kinds import RequestKind
from provisioning.models import SimulatedEsimProfile
from provisioning.simulators.base import BaseSimulator

#: Ranges whose lines get a 14-digit ``0700`` number chosen by Orange (R-CAT-5 Data only, R-CAT-6 M2M).
DATA_NUMBER_RANGES = frozenset({"data_only", "m2m"})


#: R-ORD-4: the confirmation code is disabled after 3 wrong tries.
ESIM_MAX_TRIES = 3


@dataclass(frozen=True)
class EsimDownload:
    """The SM-DP+'s answer to a handset downloading an eSIM profile (``OrangeSimulator.esim_confirm``).

    ``status``: ``installed`` (right code, profile installed now), ``wrong_code`` (``tries_left`` more),
    ``locked`` (3 wrong tries, R-ORD-4), ``already_installed`` (an installed eSIM cannot be installed again,
    R-OPT-2), ``retired`` (swapped away or line terminated), ``unknown``."""

    status: str
    message: str
    tries_left: int = 0
    iccid: str = ""
    installed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "installed"


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

    # --- eSIM download (the handset's side of R-ORD-4) -----------------------------------------------------

    def esim_confirm(
        self, iccid_or_matching_id: str, code: str, *, now: datetime | None = None
    ) -> EsimDownload:
        """The handset scanned the QR code and the user typed the confirmation code received by SMS.

        The right code installs the profile (``installed_at``). A wrong code counts one try; at the 3rd wrong
        try the code is locked and every later try is refused, even with the right code (R-ORD-4). An
        installed profile is never downloaded again (R-OPT-2: a new phone needs a new eSIM); a retired one
        (swapped away, line terminated) neither. One row lock per try, so concurrent tries count exactly."""
        now = now or timezone.now()
        ref = (iccid_or_matching_id or "").strip()
        ref_upper = ref.upper()
        with transaction.atomic():
            profile = (
                SimulatedEsimProfile.objects.select_for_update()
                .filter(network=self.network)
                .filter(Q(iccid=ref_upper.rstrip("F")) | Q(matching_id=ref_upper) | Q(activation_code=ref))
                .first()
            )
            if profile is None:
                return EsimDownload("unknown", f"Profil eSIM inconnu : {ref or '(vide)'}.")
            if profile.retired_at is not None:
                return EsimDownload(
                    "retired",
                    "Ce profil eSIM a été remplacé ou la ligne résiliée : il ne peut plus être installé.",
                    iccid=profile.iccid,
                )
            if profile.installed_at is not None:
                return EsimDownload(
                    "already_installed",
                    "Cette eSIM est déjà installée : elle ne peut pas être installée à nouveau (R-OPT-2). "
                    "Commandez une nouvelle eSIM (SIM swap).",
                    iccid=profile.iccid,
                    installed_at=profile.installed_at,
                )
            if profile.locked_at is not None:
                return EsimDownload(
                    "locked",
                    "Code de confirmation désactivé après 3 essais erronés (R-ORD-4) : contactez votre "
                    "fournisseur.",
                    iccid=profile.iccid,
                )
            if (code or "").strip() == profile.confirmation_code:
                profile.installed_at = now
                profile.save(update_fields=["installed_at"])
                return EsimDownload(
                    "installed",
                    "eSIM installée. Éteignez et rallumez votre mobile.",
                    iccid=profile.iccid,
                    installed_at=now,
                )
            profile.failed_attempts += 1
            fields = ["failed_attempts"]
            if profile.failed_attempts >= ESIM_MAX_TRIES:
                profile.locked_at = now
                fields.append("locked_at")
            profile.save(update_fields=fields)
            left = ESIM_MAX_TRIES - profile.failed_attempts
            if left <= 0:
                return EsimDownload(
                    "locked",
                    "Code erroné. Code de confirmation désactivé après 3 essais erronés (R-ORD-4) : "
                    "contactez votre fournisseur.",
                    iccid=profile.iccid,
                )
            return EsimDownload(
                "wrong_code",
                f"Code de confirmation erroné : encore {left} essai(s).",
                tries_left=left,
                iccid=profile.iccid,
            )
