"""The catalog: offers, options, top-ups and roaming choices, per network (R-CAT-1).

Rows come from the versioned data file ``catalog/data/catalog.json`` (``manage.py load_catalog``); platform
admins edit prices in Django admin. A price left empty (``None``) is "à définir": the seed does not give it and
nothing invents it. The catalog is shared by every partner (not tenant-owned).

Eligibility (which option / top-up / roaming choice / offer change applies to which offer) is not stored: it is
computed by the pure functions of ``catalog/rules.py``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.networks import Network


class Range(models.TextChoices):
    """Offer ranges ("gammes")."""

    ILLIMITE = "illimite", _("Illimité")
    TRAVEL = "travel", _("Travel 5G")
    DATA_ONLY = "data_only", _("Data only")
    M2M = "m2m", _("M2M")
    COMPTEUR = "compteur", _("Compteur")
    COMPTEUR_DATA = "compteur_data", _("Compteur Data")


class TopupFamily(models.TextChoices):
    """Which offers a top-up belongs to (R-CAT-6, R-CAT-10)."""

    ILLIMITE = "illimite", _("Illimité")
    DATA_ONLY = "data_only", _("Data only")
    M2M = "m2m", _("M2M")


class OptionKind(models.TextChoices):
    INCLUDED = "included", _("Service inclus (rien à commander)")
    SERVICE = "service", _("Option de service")
    FIXED_IP = "fixed_ip", _("IP fixe")
    PARTNER_PLATFORM = "partner_platform", _("Livraison plateforme partenaire")
    ESIM = "esim", _("eSIM")
    FIVE_G = "five_g", _("5G")


class Zone(models.TextChoices):
    """Roaming zones (R-OPT-4/5 for Orange, R-ROA-4 for Bouygues)."""

    EUROPE = "europe", _("Europe")
    USA_CANADA = "usa_canada", _("USA/Canada")
    MAGHREB_TURQUIE = "maghreb_turquie", _("Maghreb/Turquie")
    RESTE_DU_MONDE = "reste_du_monde", _("Reste du monde")
    MONDE = "monde", _("Monde")


class RoamingKind(models.TextChoices):
    CUTOFF = "cutoff", _("Coupure")
    OPTION = "option", _("Option")


class RoamingUnit(models.TextChoices):
    BYTES = "bytes", _("octets")
    EUR = "eur", _("euros HT")


class RoamingOptionType(models.TextChoices):
    """For ``kind=option``: data only, or voice + SMS + data (Travel, R-OPT-5)."""

    NONE = "", _("—")
    DATA = "data", _("Data")
    VOICE_SMS_DATA = "voice_sms_data", _("Voix + SMS + Data")


class CatalogVersion(models.Model):
    """One row per load of the data file (``load_catalog``); the latest says which file version is live."""

    version = models.CharField(_("version"), max_length=40)
    checksum = models.CharField(_("empreinte SHA-256 du fichier"), max_length=64)
    loaded_at = models.DateTimeField(_("chargé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("version du catalogue")
        verbose_name_plural = _("versions du catalogue")
        ordering = ["-loaded_at", "-id"]
        get_latest_by = "loaded_at"

    def __str__(self) -> str:
        return self.version


class Offer(models.Model):
    """An offer a line can subscribe to (R-CAT-3..8)."""

    Range = Range

    code = models.CharField(_("code"), max_length=40, unique=True)
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    range = models.CharField(_("gamme"), max_length=20, choices=Range.choices)
    label = models.CharField(_("libellé"), max_length=120)
    data_bytes = models.BigIntegerField(
        _("enveloppe data (octets)"),
        null=True,
        blank=True,
        help_text=_("Vide : sans data ou au compteur. 1 Go = 10^9 octets."),
    )
    blocked = models.BooleanField(
        _("forfait bloqué"), null=True, blank=True, help_text=_("Vide : sans objet (sans data, compteur).")
    )
    monthly_price_ht = models.DecimalField(
        _("prix mensuel HT (€)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Vide : « à définir » (prix absent du référentiel)."),
    )
    five_g_included = models.BooleanField(_("5G incluse"), default=False)
    commitment_months = models.PositiveSmallIntegerField(
        _("engagement (mois)"), default=0, help_text=_("R-CAT-2 : toutes les offres sont sans engagement.")
    )
    price_overridden = models.BooleanField(
        _("prix modifié par un administrateur"),
        default=False,
        help_text=_("Oui : load_catalog ne réécrit plus les prix de cette ligne (voir catalog/loader.py)."),
    )
    details = models.JSONField(_("détails"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("ordre"), default=0)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("offre")
        verbose_name_plural = _("offres")
        ordering = ["network", "sort_order", "code"]
        indexes = [models.Index(fields=["network", "range"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_price_ht__isnull=True) | models.Q(monthly_price_ht__gte=0),
                name="catalog_offer_price_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(data_bytes__isnull=True) | models.Q(data_bytes__gt=0),
                name="catalog_offer_data_positive",
            ),
            models.CheckConstraint(
                # R-CAT-6: M2M exists on Orange only.
                condition=~models.Q(range="m2m", network="bouygues"),
                name="catalog_offer_m2m_orange_only",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def price_defined(self) -> bool:
        return self.monthly_price_ht is not None


class Option(models.Model):
    """An option of one network (R-OPT-1..7). Roaming options are ``RoamingChoice`` rows (R-OPT-4/5)."""

    Kind = OptionKind

    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=160)
    kind = models.CharField(_("type"), max_length=20, choices=OptionKind.choices)
    description = models.TextField(_("description"), blank=True)
    monthly_price_ht = models.DecimalField(
        _("prix mensuel HT (€)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    fas_ht = models.DecimalField(_("FAS HT (€)"), max_digits=10, decimal_places=2, null=True, blank=True)
    requires_init_sys = models.BooleanField(_("réservée aux partenaires Init Sys"), default=False)
    orderable = models.BooleanField(
        _("à commander"), default=True, help_text=_("Non : service inclus que l'utilisateur active lui-même.")
    )
    price_overridden = models.BooleanField(
        _("prix modifié par un administrateur"),
        default=False,
        help_text=_("Oui : load_catalog ne réécrit plus les prix de cette ligne (voir catalog/loader.py)."),
    )
    details = models.JSONField(_("détails"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("ordre"), default=0)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["network", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="catalog_option_network_code_uniq"),
            models.CheckConstraint(
                # R-OPT-2: eSIM is an Orange option.
                condition=~models.Q(kind="esim", network="bouygues"),
                name="catalog_option_esim_orange_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_network_display()})"


class Topup(models.Model):
    """A data top-up ("recharge") of one network and family (R-CAT-6, R-CAT-10)."""

    Family = TopupFamily

    code = models.CharField(_("code"), max_length=40, unique=True)
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    family = models.CharField(_("famille"), max_length=20, choices=TopupFamily.choices)
    data_bytes = models.BigIntegerField(_("volume (octets)"))
    price_ht = models.DecimalField(_("prix HT (€)"), max_digits=10, decimal_places=2, null=True, blank=True)
    price_overridden = models.BooleanField(
        _("prix modifié par un administrateur"),
        default=False,
        help_text=_("Oui : load_catalog ne réécrit plus les prix de cette ligne (voir catalog/loader.py)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("recharge")
        verbose_name_plural = _("recharges")
        ordering = ["network", "family", "data_bytes"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "family", "data_bytes"], name="catalog_topup_network_family_volume_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(data_bytes__gt=0), name="catalog_topup_volume_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class RoamingChoice(models.Model):
    """One choice a line makes per roaming zone at order: a cut-off or an option (R-OPT-4/5, R-ROA-3/4).

    The Orange Europe cut-off is not stored: it equals the plan's envelope (R-ROA-3) and is derived by
    ``catalog.rules.roaming_choices``."""

    Kind = RoamingKind
    Unit = RoamingUnit
    Zone = Zone
    OptionType = RoamingOptionType

    code = models.CharField(_("code"), max_length=60, unique=True)
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    zone = models.CharField(_("zone"), max_length=20, choices=Zone.choices)
    kind = models.CharField(_("type"), max_length=10, choices=RoamingKind.choices)
    option_type = models.CharField(
        _("type d'option"), max_length=20, choices=RoamingOptionType.choices, default="", blank=True
    )
    limit = models.BigIntegerField(_("limite"), help_text=_("En octets (unit=bytes) ou en euros (unit=eur)."))
    unit = models.CharField(_("unité"), max_length=5, choices=RoamingUnit.choices)
    price_ht = models.DecimalField(
        _("prix mensuel HT (€)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Prix d'une option ; vide pour une coupure."),
    )
    ranges = models.JSONField(
        _("gammes concernées"), default=list, help_text=_('Ex. ["illimite"] ou ["travel"].')
    )
    price_overridden = models.BooleanField(
        _("prix modifié par un administrateur"),
        default=False,
        help_text=_("Oui : load_catalog ne réécrit plus les prix de cette ligne (voir catalog/loader.py)."),
    )
    details = models.JSONField(_("détails"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("ordre"), default=0)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("choix d'itinérance")
        verbose_name_plural = _("choix d'itinérance")
        ordering = ["network", "zone", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(limit__gte=0), name="catalog_roaming_limit_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="option") | models.Q(price_ht__isnull=True),
                name="catalog_roaming_cutoff_has_no_price",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class UsageUnit(models.TextChoices):
    MINUTE = "minute", _("minute")
    EVENT = "event", _("unité")
    MEGABYTE = "mo", _("Mo")


class UsageRate(models.Model):
    """A per-unit price HT of metered usage (issue 7: rating of out-of-plan usage, R-CAT-7, R-ROA-1, R-ROA-4,
    R-CAT-11), per network and rate code (``usage.rules.rate_code`` names them: ``intl_voice_reste_du_monde``,
    ``roam_data_maghreb_turquie``, ``cpt_sms``…). The seed gives none of these prices: the data file holds them
    empty (« à tarifer ») and platform admins set them; usage priced by an empty rate is counted and flagged,
    never priced 0."""

    Unit = UsageUnit

    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("libellé"), max_length=160)
    unit = models.CharField(_("unité"), max_length=8, choices=UsageUnit.choices)
    price_ht = models.DecimalField(
        _("prix HT par unité (€)"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Vide : « à tarifer » (prix absent du référentiel)."),
    )
    price_overridden = models.BooleanField(
        _("prix modifié par un administrateur"),
        default=False,
        help_text=_("Oui : load_catalog ne réécrit plus les prix de cette ligne (voir catalog/loader.py)."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("tarif à l'usage")
        verbose_name_plural = _("tarifs à l'usage")
        ordering = ["network", "code"]
        constraints = [
            models.UniqueConstraint(fields=["network", "code"], name="catalog_usage_rate_network_code_uniq"),
            models.CheckConstraint(
                condition=models.Q(price_ht__isnull=True) | models.Q(price_ht__gte=0),
                name="catalog_usage_rate_price_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_network_display()})"
