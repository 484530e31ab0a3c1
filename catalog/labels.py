"""French display labels of catalog values, shared by services (contract options) and pages."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.money import format_bytes

from .models import Zone
from .rules import RoamingChoiceFacts


def zone_label(zone: str) -> str:
    return str(Zone(zone).label) if zone in Zone.values else zone


def roaming_choice_label(choice: RoamingChoiceFacts) -> str:
    """« Cut-off Maghreb/Turquie 1 Go », « Option roaming Data USA/Canada 3 Go »… (R-OPT-5, R-ROA-3/4)."""
    zone = zone_label(choice.zone)
    if choice.unit == "eur":
        amount = f"{choice.limit} €"
    else:
        amount = format_bytes(choice.limit) if choice.limit else "0 Mo"
    if choice.kind == "cutoff":
        return _("Cut-off %(zone)s %(amount)s") % {"zone": zone, "amount": amount}
    if choice.option_type == "voice_sms_data":
        return _("Option roaming Voix SMS & Data %(zone)s %(amount)s") % {"zone": zone, "amount": amount}
    return _("Option roaming Data %(zone)s %(amount)s") % {"zone": zone, "amount": amount}
