"""Tables of the operator **simulators** — the state an operator's own system would hold (its lines, the
requests it received, the numbers and SIMs it ever used). The platform never reads them directly: it only
talks to the operators through ``provisioning.ports.OperatorPort``.

The guards that make a double delivery harmless are database constraints, not Python checks:
one request per (network, idempotency key), one line per creation request, a number or SIM used once per
network forever (R-CON-6).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.networks import Network
from core.operator_kinds import RequestKind


class SimulatedOperatorRequest(models.Model):
    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("Acceptée")
        COMPLETED = "completed", _("Terminée")
        FAILED = "failed", _("En échec")

    TRANSITIONS = {
        Status.ACCEPTED: {Status.COMPLETED, Status.FAILED},
        Status.FAILED: {Status.ACCEPTED},  # a retryable failure may be submitted again under the same key
        Status.COMPLETED: set(),
    }

    network = models.CharField(max_length=16, choices=Network.choices)
    idempotency_key = models.CharField(max_length=200)
    reference = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=32, choices=RequestKind.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACCEPTED)
    attempts = models.PositiveIntegerField(default=1)
    accepted_at = models.DateTimeField()
    complete_after = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    #: Drawn when accepted (failure rate): the request ends failed instead of completed.
    planned_failure = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    retryable = models.BooleanField(default=False)
    line = models.ForeignKey(
        "SimulatedOperatorLine", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "idempotency_key"], name="sim_request_unique_key"),
        ]
        indexes = [models.Index(fields=["network", "status", "complete_after"], name="sim_request_due")]

    def __str__(self):
        return f"{self.reference} {self.kind} ({self.status})"


class SimulatedOperatorLine(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspendue")
        TERMINATED = "terminated", _("Résiliée")

    network = models.CharField(max_length=16, choices=Network.choices)
    operator_line_id = models.CharField(max_length=40)
    #: The request that created the line: a line is never created twice for one key.
    creation_request = models.OneToOneField(
        SimulatedOperatorRequest, on_delete=models.PROTECT, related_name="created_line"
    )
    msisdn = models.CharField(max_length=20)
    iccid = models.CharField(max_length=22)
    esim = models.BooleanField(default=False)
    ported = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    offer_code = models.CharField(max_length=64, blank=True)
    offer_range = models.CharField(max_length=32, blank=True)
    options = models.JSONField(default=list, blank=True)
    #: eSIM profile (R-ORD-4): ``LPA:1$<SM-DP+>$<matching id>$$1`` and the 6-digit confirmation code.
    esim_activation_code = models.CharField(max_length=200, blank=True)
    esim_confirmation_code = models.CharField(max_length=6, blank=True)
    data_blocked = models.BooleanField(default=False)
    #: The blocks in force (``"data"``, ``"threshold"``, ``"roaming:usa_canada"``…); ``data_blocked`` = any.
    data_blocks = models.JSONField(default=list, blank=True)
    #: R-CAT-11 (Orange): SMS sending barred until then (``bar_sms``); the operator lifts it by itself.
    sms_barred_until = models.DateTimeField(null=True, blank=True)
    topup_bytes = models.BigIntegerField(default=0)
    activated_at = models.DateTimeField()
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "operator_line_id"], name="sim_line_unique_id"),
            # R-CON-6: a number is never given to a second line (terminated lines keep theirs).
            models.UniqueConstraint(fields=["network", "msisdn"], name="sim_line_unique_msisdn"),
            models.CheckConstraint(
                condition=Q(status="terminated") | Q(terminated_at__isnull=True),
                name="sim_line_terminated_at",
            ),
        ]

    def __str__(self):
        return f"{self.network} {self.operator_line_id} {self.msisdn} ({self.status})"


class SimulatedIdentifier(models.Model):
    """Every number and SIM the operator ever used; a retired one is never used again (R-CON-6)."""

    class Kind(models.TextChoices):
        MSISDN = "msisdn", _("Numéro")
        ICCID = "iccid", _("SIM")

    network = models.CharField(max_length=16, choices=Network.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=22)
    line = models.ForeignKey(SimulatedOperatorLine, on_delete=models.PROTECT, related_name="identifiers")
    assigned_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "kind", "value"], name="sim_identifier_unique"),
        ]

    def __str__(self):
        return f"{self.network} {self.kind} {self.value}"


class SimulatedEsimProfile(models.Model):
    """An eSIM profile at the operator's SM-DP+ (R-ORD-4): the handset downloads it with the activation code
    and the 6-digit confirmation code. Three wrong codes lock it for good (even the right code is refused
    then); a downloaded (installed) profile is never downloaded again, and a profile swapped away or
    terminated is retired — an eSIM is never reused (R-OPT-2)."""

    network = models.CharField(max_length=16, choices=Network.choices)
    line = models.ForeignKey(SimulatedOperatorLine, on_delete=models.PROTECT, related_name="esim_profiles")
    iccid = models.CharField(max_length=22)
    matching_id = models.CharField(max_length=64)
    activation_code = models.CharField(max_length=255)
    confirmation_code = models.CharField(max_length=6)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "iccid"], name="sim_esim_unique_iccid"),
            models.UniqueConstraint(fields=["network", "matching_id"], name="sim_esim_unique_matching_id"),
            models.CheckConstraint(condition=Q(failed_attempts__lte=3), name="sim_esim_max_three_tries"),
        ]

    def __str__(self):
        return f"{self.network} eSIM {self.iccid}"
