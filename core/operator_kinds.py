"""Kinds of operator request: the shared vocabulary of ``contracts`` (which writes the durable intent)
and ``provisioning`` (which plans and sends it). Kept in ``core`` so the import arrow stays
``provisioning → contracts`` and neither app needs the other for this list."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    CREATE_LINE = "create_line", _("Création de ligne")
    CREATE_LINE_ESIM = "create_line_esim", _("Création de ligne eSIM")
    PORT_IN = "port_in", _("Création avec portabilité")
    SUSPEND = "suspend", _("Suspension")
    RESUME = "resume", _("Réactivation")
    TERMINATE = "terminate", _("Résiliation")
    CHANGE_OFFER = "change_offer", _("Changement d'offre")
    SWAP_SIM = "swap_sim", _("SIM swap")
    SWAP_SIM_ESIM = "swap_sim_esim", _("SIM swap vers eSIM")
    ADD_OPTION = "add_option", _("Ajout d'option")
    REMOVE_OPTION = "remove_option", _("Résiliation d'option")
    BLOCK_DATA = "block_data", _("Blocage data")
    UNBLOCK_DATA = "unblock_data", _("Déblocage data")
    TOPUP = "topup", _("Recharge data")
    BAR_SMS = "bar_sms", _("Blocage des envois de SMS")  # R-CAT-11: Orange fair use, 3 days
