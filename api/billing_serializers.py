"""Invoice serializers (issue 9 item 4): the partner's invoices and credit notes from AlphaLink, read-only.
Amounts are decimal strings in euros; HT, VAT and TTC as printed on the Factur-X document."""

from __future__ import annotations

from rest_framework import serializers

from billing.models import Invoice, InvoiceLine

AMOUNT = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True, "read_only": True}


class InvoiceQuerySerializer(serializers.Serializer):
    """``?month=YYYY-MM`` — the billing month of the invoices; empty: every month."""

    month = serializers.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Mois attendu au format AAAA-MM (ex. 2026-11)."},
    )


class InvoiceSerializer(serializers.ModelSerializer):
    """One invoice or credit note (``kind``: invoice / credit_note), without its lines."""

    period_month = serializers.SerializerMethodField(help_text="Mois de facturation AAAA-MM.")
    total_ht = serializers.DecimalField(**AMOUNT)
    total_vat = serializers.DecimalField(**AMOUNT)
    total_ttc = serializers.DecimalField(**AMOUNT)
    credit_note_of = serializers.SlugRelatedField(
        slug_field="number", read_only=True, help_text="Avoir : numéro de la facture créditée ; sinon null."
    )
    pdf_ready = serializers.SerializerMethodField(
        help_text="Vrai quand le PDF Factur-X est produit (GET …/pdf le renvoie)."
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "issue_date",
            "due_date",
            "period_month",
            "period_start",
            "period_end",
            "total_ht",
            "total_vat",
            "total_ttc",
            "credit_note_of",
            "reason",
            "pdf_ready",
        ]
        read_only_fields = fields

    def get_period_month(self, obj: Invoice) -> str:
        return f"{obj.period_month:%Y-%m}"

    def get_pdf_ready(self, obj: Invoice) -> bool:
        return obj.pdf_rendered_at is not None


class InvoiceLineSerializer(serializers.ModelSerializer):
    group = serializers.CharField(help_text="Client — contrat n° (MSISDN) : le regroupement imprimé.")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    unit_price_ht = serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=True)
    amount_ht = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    vat_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=True, help_text="Taux de TVA en %."
    )

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "group",
            "label",
            "quantity",
            "unit_code",
            "unit_price_ht",
            "amount_ht",
            "vat_rate",
        ]
        read_only_fields = fields


class InvoiceDetailSerializer(InvoiceSerializer):
    """The invoice with its parties as printed, its payment terms, its lines and its credit notes."""

    issuer = serializers.JSONField(read_only=True, help_text="Émetteur (AlphaLink) tel qu'imprimé.")
    customer = serializers.JSONField(
        read_only=True, help_text="Client facturé (le partenaire) tel qu'imprimé."
    )
    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = serializers.SerializerMethodField(help_text="Numéros des avoirs émis sur cette facture.")

    class Meta(InvoiceSerializer.Meta):
        fields = [
            *InvoiceSerializer.Meta.fields,
            "issuer",
            "customer",
            "payment_terms",
            "lines",
            "credit_notes",
        ]
        read_only_fields = fields

    def get_credit_notes(self, obj: Invoice) -> list[str]:
        return [note.number for note in obj.credit_notes.all() if note.state == Invoice.State.ISSUED]
