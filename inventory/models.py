"""Stock of a partner: physical SIM cards, eSIM profiles (Orange only) and phone number pools.

Invariants that hold row by row live in the database (``CheckConstraint``, ``UniqueConstraint``). The one
invariant that spans rows — R-CON-6 "a terminated SIM or number is never reused" — is held by the database too,
without triggers:

1. The identifier is unique in its table (``iccid`` / ``msisdn``) and rows are never deleted, so the same
   identifier cannot be inserted twice — by the import, by a service or by code that forgets to check.
2. Retiring writes a ``RetiredIdentifier`` row: unique on (kind, value), so an identifier can be retired only
   once, and it references the retired row by **(id, state)** through a composite foreign key
   (migration ``0002_retired_identifier_pins``, PostgreSQL) whose target column ``state`` must be ``retired``.
   While that row exists the database refuses to delete the SIM/number/eSIM *and* to change its state:
   ``retired`` is terminal. Allocation queries only ever pick ``in_stock``/``assigned``/``available`` rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.networks import Network
from partners.models import ClientAccount, Partner

from . import rules
from .validators import (
    validate_iccid,
    validate_m2m_number,
    validate_mobile_number,
    validate_pin,
    validate_puk,
)

NETWORK_VALUES = [value for value, _label in Network.choices]


class SimCard(models.Model):
    """A physical SIM card in a partner's stock (ID-ICCID; R-SC-7, R-BO-2).

    States: ``in_stock`` (the partner's, no client) → ``assigned`` (set aside for a client, R-SC-7) →
    ``in_use`` (carries a line) → ``retired`` (line terminated, never reused: R-CON-6)."""

    class State(models.TextChoices):
        IN_STOCK = "in_stock", _("En stock")
        ASSIGNED = "assigned", _("Affectée au client")
        IN_USE = "in_use", _("En service")
        RETIRED = "retired", _("Retirée")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="sim_cards")
    iccid = models.CharField(_("ICCID"), max_length=20, unique=True, validators=[validate_iccid])
    pin = models.CharField(
        _("code PIN"),
        max_length=8,
        null=True,
        blank=True,
        validators=[validate_pin],
        help_text=_("Vide pour une SIM sans PIN."),
    )
    puk = models.CharField(_("code PUK"), max_length=8, validators=[validate_puk])
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.IN_STOCK)
    client = models.ForeignKey(
        ClientAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sim_cards",
        verbose_name=_("client"),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("carte SIM")
        verbose_name_plural = _("cartes SIM")
        ordering = ["iccid"]
        constraints = [
            models.CheckConstraint(condition=Q(iccid__regex=rules.ICCID_DB_REGEX), name="sim_iccid_format"),
            models.CheckConstraint(
                condition=Q(pin__isnull=True) | Q(pin__regex=rules.PIN_DB_REGEX), name="sim_pin_format"
            ),
            models.CheckConstraint(condition=Q(puk__regex=rules.PUK_DB_REGEX), name="sim_puk_format"),
            models.CheckConstraint(condition=Q(network__in=NETWORK_VALUES), name="sim_network_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["in_stock", "assigned", "in_use", "retired"]), name="sim_state_valid"
            ),
            # A SIM in stock belongs to nobody; an assigned SIM belongs to a client (R-SC-7).
            models.CheckConstraint(
                condition=Q(state="in_stock", client__isnull=True)
                | Q(state="assigned", client__isnull=False)
                | Q(state__in=["in_use", "retired"]),
                name="sim_state_client_consistent",
            ),
            # Target of the composite FK that pins retired SIMs (see module docstring).
            models.UniqueConstraint(fields=["id", "state"], name="sim_id_state_key"),
        ]
        indexes = [
            models.Index(fields=["partner", "network", "state", "iccid"], name="sim_alloc_idx"),
            models.Index(fields=["partner", "client", "state"], name="sim_client_idx"),
        ]

    def __str__(self) -> str:
        return self.iccid

    @property
    def has_pin(self) -> bool:
        return self.pin is not None


class EsimProfile(models.Model):
    """An eSIM profile (R-OPT-2: Orange only, allocated at once when ordered).

    Profiles are generated at allocation, inside the order's transaction, with a unique matching id; the
    activation code is ``LPA:1$<SM-DP+ address>$<matching id>$$1`` (R-ORD-4). An eSIM is never installed
    twice (R-OPT-2): a released or terminated profile is retired, never handed out again."""

    class State(models.TextChoices):
        ALLOCATED = "allocated", _("Allouée")
        IN_USE = "in_use", _("En service")
        RETIRED = "retired", _("Retirée")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="esim_profiles")
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices, default=Network.ORANGE)
    iccid = models.CharField(_("ICCID"), max_length=20, unique=True, validators=[validate_iccid])
    matching_id = models.CharField(_("matching id"), max_length=64, unique=True)
    smdp_address = models.CharField(_("adresse SM-DP+"), max_length=255)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.ALLOCATED)
    client = models.ForeignKey(
        ClientAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="esim_profiles",
        verbose_name=_("client"),
    )
    created_at = models.DateTimeField(_("allouée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("profil eSIM")
        verbose_name_plural = _("profils eSIM")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(network=Network.ORANGE), name="esim_orange_only"),  # R-OPT-2
            models.CheckConstraint(condition=Q(iccid__regex=rules.ICCID_DB_REGEX), name="esim_iccid_format"),
            models.CheckConstraint(
                condition=Q(matching_id__regex=rules.MATCHING_ID_DB_REGEX), name="esim_matching_id_format"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["allocated", "in_use", "retired"]), name="esim_state_valid"
            ),
            models.UniqueConstraint(fields=["id", "state"], name="esim_id_state_key"),
        ]
        indexes = [models.Index(fields=["partner", "state"], name="esim_partner_state_idx")]

    def __str__(self) -> str:
        return self.iccid

    @property
    def activation_code(self) -> str:
        return rules.activation_code(self.smdp_address, self.matching_id)

    @staticmethod
    def default_smdp_address() -> str:
        return settings.ESIM_SMDP_ADDRESS


class PhoneNumber(models.Model):
    """A number (MSISDN, national form) of a partner's pool.

    Pools: the wholesaler loads the number ranges an operator gave it into a partner's pool (``import_numbers``);
    a number belongs to exactly one partner (``msisdn`` is unique across the platform) and is drawn at random for
    new lines unless the partner chooses it (R-CON-6, R-ORD-2). ``mobile`` numbers are 06/07 (Bouygues pools,
    and Orange voice lines); ``m2m_data`` numbers (``0700`` + 10 digits) are supplied by Orange after the order
    for Data only and M2M lines (R-CAT-5, R-CAT-6) and recorded directly in use.

    States: ``available`` → ``reserved`` (taken by an order) → ``in_use`` (line live) → ``retired`` (R-CON-6)."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile (06/07)")
        M2M_DATA = "m2m_data", _("Data / M2M (0700…)")

    class State(models.TextChoices):
        AVAILABLE = "available", _("Disponible")
        RESERVED = "reserved", _("Réservé")
        IN_USE = "in_use", _("En service")
        RETIRED = "retired", _("Retiré")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="phone_numbers")
    msisdn = models.CharField(_("numéro"), max_length=14, unique=True)
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.AVAILABLE)
    client = models.ForeignKey(
        ClientAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="phone_numbers",
        verbose_name=_("client"),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("numéro")
        verbose_name_plural = _("numéros")
        ordering = ["msisdn"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="mobile", msisdn__regex=rules.MOBILE_DB_REGEX)
                | Q(kind="m2m_data", msisdn__regex=rules.M2M_DB_REGEX, network=Network.ORANGE),
                name="number_kind_format",
            ),
            models.CheckConstraint(condition=Q(network__in=NETWORK_VALUES), name="number_network_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["available", "reserved", "in_use", "retired"]),
                name="number_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="available") | Q(client__isnull=True), name="number_available_no_client"
            ),
            models.UniqueConstraint(fields=["id", "state"], name="number_id_state_key"),
        ]
        indexes = [
            models.Index(fields=["partner", "network", "kind", "state"], name="number_alloc_idx"),
            models.Index(fields=["partner", "client", "state"], name="number_client_idx"),
        ]

    def __str__(self) -> str:
        return self.msisdn

    def clean_fields(self, exclude=None):
        super().clean_fields(exclude=exclude)
        validator = validate_m2m_number if self.kind == self.Kind.M2M_DATA else validate_mobile_number
        validator(self.msisdn)


class RetiredIdentifier(models.Model):
    """R-CON-6: the register of terminated SIMs, eSIMs and numbers; each identifier appears at most once.

    Each row pins the retired row it names: composite FK ``(<target>_id, target_state)`` →
    ``<target>(id, state)`` with ``target_state`` always ``retired`` (PostgreSQL, migration 0002), so the
    database refuses to delete that SIM/number/eSIM or to move it out of ``retired``."""

    class Kind(models.TextChoices):
        ICCID = "iccid", _("ICCID (carte SIM)")
        ESIM = "esim", _("ICCID (eSIM)")
        MSISDN = "msisdn", _("Numéro")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    value = models.CharField(_("identifiant"), max_length=20)
    sim = models.ForeignKey(SimCard, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    esim = models.ForeignKey(EsimProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_state = models.CharField(max_length=10, default="retired", editable=False)
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    retired_at = models.DateTimeField(_("retiré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("identifiant retiré")
        verbose_name_plural = _("identifiants retirés")
        ordering = ["-retired_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="retired_identifier_unique"),
            models.CheckConstraint(condition=Q(target_state="retired"), name="retired_target_state"),
            models.CheckConstraint(
                condition=Q(kind="iccid", sim__isnull=False, esim__isnull=True, number__isnull=True)
                | Q(kind="esim", sim__isnull=True, esim__isnull=False, number__isnull=True)
                | Q(kind="msisdn", sim__isnull=True, esim__isnull=True, number__isnull=False),
                name="retired_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"
