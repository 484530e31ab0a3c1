"""Usage: operator CDR files, rated records, monthly counters, alerts (issue 7).

- ``CdrFile``: one operator file, taken exactly once (its SHA-256 is unique).
- ``Cdr``: one rated record. On PostgreSQL the table is **partitioned by month** of ``event_at`` (declarative
  partitioning, created by the migration in raw SQL: ``managed = False``); a record is unique by (network,
  operator record id, event time) — the partition key must be part of a unique key, and a re-delivered record
  carries the same time.
- ``CdrQuarantine``: a record that could not be taken (file, line number, reason), for platform admins.
- ``UsageCounter``: per contract, Europe/Paris calendar month, metric and zone, the quantity used and the part
  out of plan with its amount HT (``amount_ht``) and the quantity still « à tarifer » (no price in the catalog).
- ``UsageAlert``: one alert per contract, month, scope and threshold — the unique constraint makes it exactly
  once, also under concurrent ingestion (``INSERT … ON CONFLICT DO NOTHING``).
- ``FairUseParty``: the distinct called numbers / SMS-MMS recipients of a line in a month (R-CAT-11).

Volumes are bytes, durations seconds, SMS/MMS events (ARCHITECTURE "Time and money").
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.networks import Network


class Service(models.TextChoices):
    VOICE = "voice", _("Voix")
    SMS = "sms", _("SMS")
    MMS = "mms", _("MMS")
    DATA = "data", _("Data")


class Direction(models.TextChoices):
    OUT = "out", _("Sortant")
    IN = "in", _("Entrant")


class UsageZone(models.TextChoices):
    """Where a record was used or where it went (R-ROA-1 zones)."""

    FRANCE = "france", _("France")
    ZONE1 = "zone1", _("Europe (zone 1)")
    USA_CANADA = "usa_canada", _("USA/Canada")
    MAGHREB_TURQUIE = "maghreb_turquie", _("Maghreb/Turquie")
    RESTE_DU_MONDE = "reste_du_monde", _("Reste du monde")


class Category(models.TextChoices):
    """The journal tabs (R-SC-5): Voix / Voix SVA / SMS & MMS / Data."""

    VOICE = "voice", _("Voix")
    VOICE_SVA = "voice_sva", _("Voix SVA")
    SMS_MMS = "sms_mms", _("SMS & MMS")
    DATA = "data", _("Data")


class Metric(models.TextChoices):
    """What a ``UsageCounter`` row counts (R-SC-5 month totals)."""

    DATA = "data", _("Data France + Europe (octets)")
    ROAMING_DATA = "roaming_data", _("Data en itinérance par zone (octets)")
    VOICE = "voice", _("Voix (secondes)")
    VOICE_SVA = "voice_sva", _("Numéros spéciaux et surtaxés (secondes)")
    SMS_MMS = "sms_mms", _("SMS et MMS")


class CdrFile(models.Model):
    """An operator CDR file, taken exactly once (``sha256`` unique)."""

    class State(models.TextChoices):
        PROCESSING = "processing", _("En cours")
        DONE = "done", _("Intégré")
        REJECTED = "rejected", _("Rejeté")

    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    name = models.CharField(_("nom"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True)
    size = models.BigIntegerField(_("taille (octets)"), default=0)
    state = models.CharField(_("état"), max_length=12, choices=State.choices, default=State.PROCESSING)
    lines = models.PositiveIntegerField(_("lignes"), default=0)
    taken = models.PositiveIntegerField(_("enregistrements intégrés"), default=0)
    duplicates = models.PositiveIntegerField(_("doublons ignorés"), default=0)
    quarantined = models.PositiveIntegerField(_("en quarantaine"), default=0)
    error = models.TextField(_("motif de rejet"), blank=True)
    received_at = models.DateTimeField(_("reçu le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("intégré le"), null=True, blank=True)

    class Meta:
        verbose_name = _("fichier de CDR")
        verbose_name_plural = _("fichiers de CDR")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Cdr(models.Model):
    """A rated call detail record (partitioned table ``usage_cdr``, created in raw SQL)."""

    id = models.BigAutoField(primary_key=True)
    event_at = models.DateTimeField(_("date"))
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    # network and record_id are COLLATE "C" in the database (migration 0003: byte order for the unique key)
    record_id = models.CharField(_("identifiant opérateur"), max_length=40)
    file = models.ForeignKey(CdrFile, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    line_no = models.PositiveIntegerField(_("ligne du fichier"))
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    month = models.DateField(_("mois"))
    msisdn = models.CharField(_("ligne"), max_length=14)
    service = models.CharField(_("service"), max_length=5, choices=Service.choices)
    category = models.CharField(_("catégorie"), max_length=10, choices=Category.choices)
    direction = models.CharField(_("sens"), max_length=3, choices=Direction.choices)
    usage_zone = models.CharField(_("lieu"), max_length=16, choices=UsageZone.choices)
    dest_zone = models.CharField(_("zone de destination"), max_length=16, blank=True)
    destination = models.CharField(_("n° appelé"), max_length=20, blank=True)
    country = models.CharField(_("pays"), max_length=3, blank=True)
    label = models.CharField(_("désignation"), max_length=80)
    quantity = models.BigIntegerField(_("quantité"))
    oop_quantity = models.BigIntegerField(_("quantité hors forfait"), default=0)
    amount_ht = models.DecimalField(_("montant HT"), max_digits=14, decimal_places=4, null=True)
    unpriced = models.BooleanField(_("à tarifer"), default=False)
    premium = models.BooleanField(_("SVA"), default=False)
    premium_billable = models.BooleanField(_("SVA facturable"), default=False)
    rule = models.CharField(_("règle"), max_length=12, blank=True)

    class Meta:
        managed = False
        db_table = "usage_cdr"
        verbose_name = _("consommation")
        verbose_name_plural = _("consommations")
        ordering = ["-event_at", "-id"]

    def __str__(self) -> str:
        return f"{self.network}:{self.record_id}"

    @property
    def out_of_plan(self) -> bool:
        return self.oop_quantity > 0


class CdrQuarantine(models.Model):
    """A record that could not be taken; the rest of its file was."""

    class Reason(models.TextChoices):
        ENCODING = "encoding", _("Encodage invalide (UTF-8 attendu)")
        TRUNCATED = "truncated", _("Ligne tronquée")
        UNKNOWN_COLUMN = "unknown_column", _("Colonne inconnue")
        BAD_VALUE = "bad_value", _("Valeur invalide")
        NEGATIVE = "negative", _("Volume ou durée négatif")
        FUTURE = "future", _("Date dans le futur")
        TOO_OLD = "too_old", _("Date au-delà de la durée de conservation")
        UNKNOWN_NUMBER = "unknown_number", _("Numéro inconnu à cette date")

    file = models.ForeignKey(CdrFile, on_delete=models.CASCADE, related_name="quarantine")
    line_no = models.PositiveIntegerField(_("ligne"))
    reason = models.CharField(_("motif"), max_length=16, choices=Reason.choices)
    detail = models.CharField(_("détail"), max_length=255, blank=True)
    raw = models.TextField(_("contenu"))
    created_at = models.DateTimeField(_("mis en quarantaine le"), auto_now_add=True)

    class Meta:
        verbose_name = _("enregistrement en quarantaine")
        verbose_name_plural = _("enregistrements en quarantaine")
        ordering = ["file", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["file", "line_no"], name="cdr_quarantine_file_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line_no} {self.reason}"


class UsageCounter(models.Model):
    """A contract's month total for one metric and zone (``zone=""``: not per zone).

    Updated in place by every file (``ON CONFLICT DO UPDATE``): the table keeps free room in its pages
    (fillfactor, migration 0002) so an update stays on its page without touching the indexes (HOT), and the
    foreign keys have no index of their own — the unique key and the (partner, month) index start with them."""

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField(_("mois"))
    metric = models.CharField(_("mesure"), max_length=16, choices=Metric.choices)
    zone = models.CharField(_("zone"), max_length=16, blank=True, default="")
    quantity = models.BigIntegerField(_("consommé"), default=0)
    oop_quantity = models.BigIntegerField(_("hors forfait"), default=0)
    amount_ht = models.DecimalField(_("montant HT"), max_digits=14, decimal_places=4, default=0)
    unpriced_quantity = models.BigIntegerField(_("à tarifer"), default=0)
    valued_ht = models.DecimalField(
        _("valeur HT (coupure en euros)"),
        max_digits=14,
        decimal_places=4,
        default=0,
        help_text=_("Bouygues : la data en itinérance valorisée au tarif, comparée à la coupure en euros."),
    )
    events = models.BigIntegerField(_("enregistrements"), default=0)
    updated_at = models.DateTimeField(_("mis à jour le"))

    class Meta:
        db_table = "usage_counter"
        verbose_name = _("compteur de consommation")
        verbose_name_plural = _("compteurs de consommation")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "month", "metric", "zone"], name="usage_counter_unique"
            ),
        ]
        indexes = [models.Index(fields=["partner", "month"], name="usage_counter_partner_idx")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m} {self.metric} {self.zone}"


class UsageAlert(models.Model):
    """R-ALR-1..4: an alert reached, exactly once per contract, month, scope and threshold."""

    class Scope(models.TextChoices):
        DATA = "data", _("Enveloppe data France + Europe")
        ROAMING = "roaming", _("Coupure ou option d'itinérance")
        THRESHOLD = "threshold", _("Seuil data (offre compteur)")

    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("mois"))
    scope = models.CharField(_("portée"), max_length=10, choices=Scope.choices)
    zone = models.CharField(_("zone"), max_length=16, blank=True, default="")
    threshold = models.PositiveSmallIntegerField(_("seuil (%)"))
    used = models.BigIntegerField(_("consommé"))
    limit = models.BigIntegerField(_("limite"))
    unit = models.CharField(_("unité"), max_length=5, default="bytes")
    blocks = models.BooleanField(_("bloque la data"), default=False)
    rule = models.CharField(_("règle"), max_length=12)
    created_at = models.DateTimeField(_("déclenchée le"))

    class Meta:
        db_table = "usage_alert"
        verbose_name = _("alerte de consommation")
        verbose_name_plural = _("alertes de consommation")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "month", "scope", "zone", "threshold"], name="usage_alert_once"
            ),
            models.CheckConstraint(condition=Q(threshold__in=[80, 100]), name="usage_alert_threshold"),
        ]
        indexes = [models.Index(fields=["partner", "-created_at"], name="usage_alert_partner_idx")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.scope}{self.zone and ':' + self.zone} {self.threshold}%"


class FairUseParty(models.Model):
    """R-CAT-11: a distinct called number (``call``) or SMS/MMS recipient (``msg``) of a line in a month;
    the 251st and beyond, in order of first use, are metered."""

    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    kind = models.CharField(max_length=4)
    party = models.CharField(max_length=20)
    first_at = models.DateTimeField()

    class Meta:
        db_table = "usage_fair_use_party"
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "month", "kind", "party"], name="usage_fair_use_party_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m} {self.kind} {self.party}"
