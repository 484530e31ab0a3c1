from django.db import models
from django.utils.translation import gettext_lazy as _


class Network(models.TextChoices):
    """R-CAT-1: two networks."""

    ORANGE = "orange", _("Orange")
    BOUYGUES = "bouygues", _("Bouygues Telecom")
