"""Self-care orders (R-SC-6, R-SC-8): each action a client accepts from its line page gets a « bon de commande »
number (``BDC-2026-000001``), shown to the client and emailed to the partner's staff who opted in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partners.models import ClientAccount, Partner


class SelfcareOrder(models.Model):
    class Action(models.TextChoices):
        TOPUP = "recharge", _("Recharge data")
        SUSPEND = "suspendre", _("Suspension de la ligne")
        RESUME = "reactiver", _("Réactivation de la ligne")
        SIM_SWAP = "sim-swap", _("SIM swap vers SIM physique")
        ESIM_SWAP = "esim-swap", _("SIM swap vers eSIM")
        RENAME = "utilisateur", _("Changement d'utilisateur")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(ClientAccount, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.PROTECT, related_name="+")
    number = models.CharField(_("n° de bon de commande"), max_length=20, unique=True)
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    #: the page's hidden key (STYLE 33): a double submit returns the first order, nothing is done twice
    request_key = models.CharField(_("clé de requête"), max_length=64)
    operator_request = models.ForeignKey(
        "contracts.OperatorRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(_("détails"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("commande selfcare")
        verbose_name_plural = _("commandes selfcare")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "request_key"],
                condition=~Q(request_key=""),
                name="selfcare_order_key_unique",
            )
        ]

    def __str__(self) -> str:
        return self.number
