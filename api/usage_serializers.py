"""Usage serializers (R-SC-5): month totals and consumption records of a contract, with explicit units — volumes in
bytes, durations in seconds, SMS/MMS in counts, amounts HT as decimal strings in euros.

Query-string input is checked for shape only here; ``usage.selectors`` reads."""

from __future__ import annotations

from rest_framework import serializers

from usage import selectors
from usage.display import quantity_unit
from usage.models import Category, Cdr, UsageZone

AMOUNT = {"max_digits": 14, "decimal_places": 4, "coerce_to_string": True}

JOURNAL_TAB_CHOICES = [(selectors.TAB_ALL, "Toutes"), *Category.choices]


# --------------------------------------------------------------------------------------------------------
# Input (query strings)
# --------------------------------------------------------------------------------------------------------


class UsageQuerySerializer(serializers.Serializer):
    """``?month=YYYY-MM`` — one of the last 3 months (R-SC-5); empty: the current month."""

    month = serializers.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Mois attendu au format AAAA-MM (ex. 2024-02)."},
    )


class ConsumptionQuerySerializer(serializers.Serializer):
    """The journal filters (R-SC-5). ``from``/``to`` are inclusive Europe/Paris days."""

    tab = serializers.ChoiceField(choices=JOURNAL_TAB_CHOICES, required=False, default=selectors.TAB_ALL)
    number = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    label = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    destination = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    out_of_plan = serializers.BooleanField(required=False, allow_null=True, default=None)

    def get_fields(self):
        # ``from``/``to`` in the query string (Python keywords, hence the renaming).
        fields = super().get_fields()
        fields["from"] = fields.pop("date_from")
        fields["to"] = fields.pop("date_to")
        return fields

    def validate(self, attrs):
        start, end = attrs.get("from"), attrs.get("to")
        if start and end and start > end:
            raise serializers.ValidationError({"to": "La date de fin précède la date de début."})
        return attrs


# --------------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------------


class DataTotalsSerializer(serializers.Serializer):
    used_bytes = serializers.IntegerField(help_text="Data France + Europe consommée (octets).")
    envelope_bytes = serializers.IntegerField(
        allow_null=True, help_text="Enveloppe data du forfait (octets) ; null : sans data ou au compteur."
    )
    topup_bytes = serializers.IntegerField(help_text="Volume des recharges du mois (octets).")
    topup_used_bytes = serializers.IntegerField(
        help_text="Part consommée au-delà de l'enveloppe prise sur les recharges (octets)."
    )
    out_of_plan_bytes = serializers.IntegerField(
        help_text="Data hors forfait, France + Europe et itinérance (octets)."
    )


class RoamingTotalsSerializer(serializers.Serializer):
    zone = serializers.CharField(
        help_text="usa_canada, maghreb_turquie, reste_du_monde ; Bouygues : europe, monde (R-ROA-4)."
    )
    zone_label = serializers.CharField()
    used_bytes = serializers.IntegerField()
    out_of_plan_bytes = serializers.IntegerField()
    amount_ht = serializers.DecimalField(**AMOUNT, help_text="Montant HT hors forfait (euros).")
    unpriced = serializers.BooleanField(
        help_text="Vrai : une partie n'a pas encore de tarif (« à tarifer »)."
    )


class VoiceTotalsSerializer(serializers.Serializer):
    used_seconds = serializers.IntegerField()
    out_of_plan_seconds = serializers.IntegerField()


class PremiumTotalsSerializer(serializers.Serializer):
    not_billable_seconds = serializers.IntegerField(help_text="Numéros spéciaux et surtaxés non facturables.")
    billed_seconds = serializers.IntegerField(help_text="Numéros spéciaux et surtaxés facturés.")


class SmsMmsTotalsSerializer(serializers.Serializer):
    used_count = serializers.IntegerField()
    out_of_plan_count = serializers.IntegerField()


class UsageTotalsSerializer(serializers.Serializer):
    """R-SC-5 month totals of a line (``usage.selectors.UsageTotals``)."""

    month = serializers.CharField(help_text="AAAA-MM (mois calendaire Europe/Paris).")
    data = DataTotalsSerializer()
    roaming = RoamingTotalsSerializer(many=True)
    voice = VoiceTotalsSerializer()
    premium = PremiumTotalsSerializer()
    sms_mms = SmsMmsTotalsSerializer()
    amount_ht = serializers.DecimalField(**AMOUNT, help_text="Total HT hors forfait du mois (euros).")
    unpriced = serializers.BooleanField(
        help_text="Vrai : une partie hors forfait n'a pas encore de prix au catalogue (« à tarifer »)."
    )

    @staticmethod
    def from_totals(totals: selectors.UsageTotals) -> dict:
        return {
            "month": f"{totals.month:%Y-%m}",
            "data": {
                "used_bytes": totals.data_used,
                "envelope_bytes": totals.data_envelope,
                "topup_bytes": totals.data_topup,
                "topup_used_bytes": totals.data_topup_used,
                "out_of_plan_bytes": totals.data_oop,
            },
            "roaming": [
                {
                    "zone": r.zone,
                    "zone_label": r.zone_label,
                    "used_bytes": r.quantity,
                    "out_of_plan_bytes": r.oop_quantity,
                    "amount_ht": r.amount_ht,
                    "unpriced": r.unpriced_quantity > 0,
                }
                for r in totals.roaming
            ],
            "voice": {"used_seconds": totals.voice_used, "out_of_plan_seconds": totals.voice_oop},
            "premium": {
                "not_billable_seconds": totals.premium_not_billable,
                "billed_seconds": totals.premium_billed,
            },
            "sms_mms": {"used_count": totals.sms_mms_used, "out_of_plan_count": totals.sms_mms_oop},
            "amount_ht": totals.amount_ht,
            "unpriced": totals.unpriced,
        }


class ConsumptionSerializer(serializers.ModelSerializer):
    """One record of the consumption journal. ``quantity`` and ``out_of_plan_quantity`` are in ``unit``."""

    category = serializers.CharField(help_text="voice, voice_sva, sms_mms ou data (onglet du journal).")
    number = serializers.CharField(source="destination", help_text="N° appelé ; vide pour la data.")
    destination_zone = serializers.CharField(
        source="dest_zone", help_text="Zone du correspondant ; vide pour la data et les appels reçus."
    )
    usage_zone = serializers.CharField(help_text="Où la ligne se trouvait : " + ", ".join(UsageZone.values))
    unit = serializers.SerializerMethodField(help_text="seconds (voix), bytes (data) ou count (SMS/MMS).")
    out_of_plan = serializers.BooleanField()
    out_of_plan_quantity = serializers.IntegerField(source="oop_quantity")
    amount_ht = serializers.DecimalField(
        **AMOUNT, allow_null=True, help_text="Montant HT (euros) ; null quand sans objet ou à tarifer."
    )
    unpriced = serializers.BooleanField(help_text="Hors forfait sans prix au catalogue (« à tarifer »).")

    class Meta:
        model = Cdr
        fields = [
            "id",
            "event_at",
            "category",
            "number",
            "label",
            "destination_zone",
            "country",
            "usage_zone",
            "quantity",
            "unit",
            "out_of_plan",
            "out_of_plan_quantity",
            "amount_ht",
            "unpriced",
        ]
        read_only_fields = fields

    def get_unit(self, obj: Cdr) -> str:
        return quantity_unit(obj.service)
