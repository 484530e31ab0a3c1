"""Billing: the charges of a month, invoices and credit notes, their numbering, and the monthly runs (issue 9).

- ``Charge``: one chargeable fact of a contract for a Europe/Paris calendar month, with its rule — plan fee
  (R-CON-4 pro rata, R-CON-5 suspended lines billed), option (R-OPT-4), one-off fee (R-OPT-2 eSIM FAS), top-up,
  out-of-plan usage, compteur minimum (R-CAT-7), Compteur Data tiers (R-CAT-8). Unique per (contract, month,
  kind, source): computing a month twice writes nothing new (``billing.charges``). ``amount_ht`` NULL = the
  catalog leaves the price empty (« à définir »): the charge is **unpriced** and blocks its partner's invoice.
  ``invoice`` is set when the charge goes into an issued invoice; from then on the row is frozen (trigger).
- ``Invoice`` / ``InvoiceLine``: an invoice or a credit note (``credit_note_of``). A draft has no number;
  numbers come from ``InvoiceSequence`` at issue, in the issuing transaction (no gap). An issued invoice and its
  lines cannot change: PostgreSQL triggers (migration 0002) refuse it, only the PDF may be added.
- ``BillingRun``: one row per month run, with its progress (partners invoiced, partners blocked).
- ``PartnerBillingProfile``: the legal identity a partner is invoiced under (SIREN/SIRET, VAT number, address).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partners.models import ClientAccount, Partner
from partners.validators import validate_siret


def validate_vat_number(value: str) -> None:
    """A French intra-community VAT number (FR + key + SIREN), checked by python-stdnum."""
    from django.core.exceptions import ValidationError
    from stdnum.fr import tva

    if not (value.upper().startswith("FR") and tva.is_valid(value)):
        raise ValidationError(_("N° de TVA intracommunautaire invalide (FR + clé + SIREN)."))


class ChargeKind(models.TextChoices):
    PLAN = "plan", _("Abonnement")
    OPTION = "option", _("Option")
    FEE = "fee", _("Frais ponctuel")
    TOPUP = "topup", _("Recharge")
    USAGE = "usage", _("Hors forfait")
    COMPTEUR_MIN = "compteur_min", _("Minimum de facturation compteur")
    COMPTEUR_DATA = "compteur_data", _("Data au palier (Compteur Data)")


class BillingMode(models.TextChoices):
    """À échoir (billed for the month it covers) or à terme échu (billed the month after)."""

    ADVANCE = "advance", _("À échoir")
    ARREARS = "arrears", _("À terme échu")


class Charge(models.Model):
    Kind = ChargeKind
    Mode = BillingMode

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_index=False)
    client = models.ForeignKey(ClientAccount, on_delete=models.PROTECT, related_name="+", db_index=False)
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    month = models.DateField(_("mois"))
    kind = models.CharField(_("type"), max_length=16, choices=ChargeKind.choices)
    source = models.CharField(_("origine"), max_length=64)
    mode = models.CharField(_("facturation"), max_length=8, choices=BillingMode.choices)
    label = models.CharField(_("libellé"), max_length=255)
    quantity = models.DecimalField(_("quantité"), max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_code = models.CharField(_("unité"), max_length=3, default="C62")
    unit_price_ht = models.DecimalField(
        _("prix unitaire HT"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    amount_ht = models.DecimalField(
        _("montant HT"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Vide : à tarifer."),
    )
    missing_price = models.CharField(
        _("prix à définir"), max_length=255, blank=True, help_text=_("Ce qu'il faut tarifer pour facturer.")
    )
    rule = models.CharField(_("règle"), max_length=12)
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    created_at = models.DateTimeField(_("calculée le"))

    class Meta:
        verbose_name = _("élément facturable")
        verbose_name_plural = _("éléments facturables")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "month", "kind", "source"], name="billing_charge_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_ht__isnull=True) | Q(amount_ht__gte=0),
                name="billing_charge_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(amount_ht__isnull=False) | ~Q(missing_price=""),
                name="billing_charge_unpriced_says_what",
            ),
        ]
        indexes = [
            models.Index(
                fields=["partner", "month"], condition=Q(invoice__isnull=True), name="billing_charge_open_idx"
            ),
            models.Index(fields=["invoice"], name="billing_charge_invoice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m} {self.kind}:{self.source}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Facture")
    CREDIT_NOTE = "credit_note", _("Avoir")


class InvoiceState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    ISSUED = "issued", _("Émise")


class Invoice(models.Model):
    """An invoice or a credit note. Issuer: AlphaLink (``issuer_partner`` empty, wholesale) or a partner
    (reseller invoices to its client, ``customer_client``). Identities are copied at issue (``issuer``,
    ``customer``: what the document prints), so a later change of address never rewrites an issued invoice."""

    Kind = InvoiceKind
    State = InvoiceState

    kind = models.CharField(
        _("type"), max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    state = models.CharField(
        _("état"), max_length=8, choices=InvoiceState.choices, default=InvoiceState.DRAFT
    )
    issuer_partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Vide : AlphaLink."),
    )
    customer_partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="invoices")
    customer_client = models.ForeignKey(
        ClientAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    period_month = models.DateField(_("mois de facturation"))
    period_start = models.DateField(_("début de période"))
    period_end = models.DateField(_("fin de période"))
    number = models.CharField(_("numéro"), max_length=32, null=True, blank=True)
    sequence = models.PositiveIntegerField(_("rang dans la séquence"), null=True, blank=True)
    issue_date = models.DateField(_("date d'émission"), null=True, blank=True)
    due_date = models.DateField(_("date d'échéance"), null=True, blank=True)
    total_ht = models.DecimalField(_("total HT"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total_vat = models.DecimalField(_("total TVA"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total_ttc = models.DecimalField(_("total TTC"), max_digits=14, decimal_places=2, default=Decimal("0"))
    credit_note_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    reason = models.CharField(_("motif"), max_length=255, blank=True)
    blocked = models.TextField(
        _("bloquée"),
        blank=True,
        help_text=_("Brouillon revendeur : ce qui empêche de l'émettre (prix à définir)."),
    )
    issuer = models.JSONField(_("émetteur"), default=dict, blank=True)
    customer = models.JSONField(_("client facturé"), default=dict, blank=True)
    payment_terms = models.TextField(_("conditions de paiement"), blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    pdf = models.BinaryField(_("PDF Factur-X"), null=True, blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF produit le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"))

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-period_month", "customer_partner", "number"]
        constraints = [
            # gapless numbers per issuer: unique here, drawn from InvoiceSequence in the issuing transaction
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(issuer_partner__isnull=True),
                name="billing_invoice_number_alphalink",
            ),
            models.UniqueConstraint(
                fields=["issuer_partner", "number"],
                condition=Q(issuer_partner__isnull=False),
                name="billing_invoice_number_partner",
            ),
            # one wholesale invoice per partner and month: two runs at once make one set of invoices
            models.UniqueConstraint(
                fields=["customer_partner", "period_month"],
                condition=Q(kind="invoice", issuer_partner__isnull=True, customer_client__isnull=True),
                name="billing_invoice_wholesale_month",
            ),
            # one reseller invoice per client and month (a draft is replaced, an issued one stays)
            models.UniqueConstraint(
                fields=["issuer_partner", "customer_client", "period_month"],
                condition=Q(kind="invoice", issuer_partner__isnull=False),
                name="billing_invoice_reseller_month",
            ),
            models.CheckConstraint(
                condition=Q(state="draft", number__isnull=True)
                | Q(state="issued", number__isnull=False, issue_date__isnull=False, due_date__isnull=False),
                name="billing_invoice_number_at_issue",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", credit_note_of__isnull=True)
                | Q(kind="credit_note", credit_note_of__isnull=False),
                name="billing_invoice_credit_note_refers",
            ),
            models.CheckConstraint(
                condition=Q(total_ttc=models.F("total_ht") + models.F("total_vat")),
                name="billing_invoice_ttc",
            ),
        ]
        indexes = [
            models.Index(fields=["customer_partner", "-period_month"], name="billing_invoice_partner_idx")
        ]

    def __str__(self) -> str:
        return self.number or f"brouillon #{self.pk}"

    @property
    def is_issued(self) -> bool:
        return self.state == InvoiceState.ISSUED


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+", db_index=False)
    position = models.PositiveIntegerField(_("rang"))
    group = models.CharField(_("groupe"), max_length=255, blank=True)
    label = models.CharField(_("libellé"), max_length=255)
    quantity = models.DecimalField(_("quantité"), max_digits=14, decimal_places=4)
    unit_code = models.CharField(_("unité"), max_length=3, default="C62")
    unit_price_ht = models.DecimalField(_("prix unitaire HT"), max_digits=14, decimal_places=4)
    amount_ht = models.DecimalField(_("montant HT"), max_digits=12, decimal_places=2)
    vat_rate = models.DecimalField(_("taux de TVA"), max_digits=5, decimal_places=2, default=Decimal("20.00"))
    rule = models.CharField(_("règle"), max_length=12, blank=True)
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    credits_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ligne créditée"),
    )

    class Meta:
        verbose_name = _("ligne de facture")
        verbose_name_plural = _("lignes de facture")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="billing_line_position_unique"),
            # a line is credited at most once
            models.UniqueConstraint(
                fields=["credits_line"],
                condition=Q(credits_line__isnull=False),
                name="billing_line_credited_once",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class InvoiceSequence(models.Model):
    """The last number given per issuer (``alphalink`` or ``partner-<id>``) and year, locked FOR UPDATE in
    the issuing transaction: a rolled-back issue gives its number back, so numbers never skip."""

    issuer_key = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer_key", "year"], name="billing_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.issuer_key} {self.year}: {self.last}"


class BillingRun(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")

    month = models.DateField(_("mois"), unique=True)
    state = models.CharField(_("état"), max_length=8, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(_("démarré le"))
    charges_at = models.DateTimeField(_("éléments calculés le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("passages"), default=0)
    invoiced = models.JSONField(_("partenaires facturés"), default=dict, blank=True)
    blocked = models.JSONField(_("partenaires bloqués"), default=dict, blank=True)

    class Meta:
        verbose_name = _("facturation mensuelle")
        verbose_name_plural = _("facturations mensuelles")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.state})"


class PartnerBillingProfile(models.Model):
    """The legal identity a partner is invoiced under (French mandatory mentions). Missing: its invoice waits."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="billing_profile")
    legal_name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret])
    vat_number = models.CharField(
        _("n° de TVA intracommunautaire"), max_length=13, validators=[validate_vat_number]
    )
    address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(_("code postal"), max_length=10)
    city = models.CharField(_("ville"), max_length=100)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    email = models.EmailField(_("e-mail de facturation"), blank=True)

    class Meta:
        verbose_name = _("identité de facturation")
        verbose_name_plural = _("identités de facturation")

    def __str__(self) -> str:
        return self.legal_name


class ResalePolicy(models.Model):
    """A partner's « Génération facturation revendeur » (R-BO-3, issue 9 item 3): on/off and the default margin,
    a percentage on AlphaLink's price for anything without an explicit resale price (``ResalePrice``)."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="resale_policy")
    enabled = models.BooleanField(_("génération facturation revendeur"), default=False)
    margin_percent = models.DecimalField(
        _("marge par défaut (%)"), max_digits=7, decimal_places=2, default=Decimal("0")
    )
    updated_at = models.DateTimeField(_("modifié le"))

    class Meta:
        verbose_name = _("facturation revendeur")
        verbose_name_plural = _("facturations revendeur")
        constraints = [
            models.CheckConstraint(
                condition=Q(margin_percent__gte=-100) & Q(margin_percent__lte=1000),
                name="billing_resale_margin_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.margin_percent} %"


class ResaleItem(models.TextChoices):
    OFFER = "offer", _("Offre")
    OPTION = "option", _("Option")
    ROAMING = "roaming", _("Option roaming")
    TOPUP = "topup", _("Recharge")


class ResalePrice(models.Model):
    """A partner's explicit resale unit price HT for one catalog item (``item`` = ``offer:<id>``, ``option:<id>``,
    ``roaming:<id>``, ``topup:<id>``), used instead of the margin."""

    Item = ResaleItem

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.CharField(_("article"), max_length=40)
    unit_price_ht = models.DecimalField(_("prix de revente HT (€)"), max_digits=14, decimal_places=4)

    class Meta:
        verbose_name = _("prix de revente")
        verbose_name_plural = _("prix de revente")
        constraints = [
            models.UniqueConstraint(fields=["partner", "item"], name="billing_resale_price_unique"),
            models.CheckConstraint(condition=Q(unit_price_ht__gte=0), name="billing_resale_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.unit_price_ht}"
