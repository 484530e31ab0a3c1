"""Client serializers: output mirrors the model; input checks shape only (the service enforces R-BO-1)."""

from __future__ import annotations

from rest_framework import serializers

from partners.models import ClientAccount, Site


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "address", "postal_code", "city"]
        read_only_fields = fields


class ClientSerializer(serializers.ModelSerializer):
    """A partner's client account (R-BO-1). Phone numbers are in E.164 (``+33612345678``)."""

    sites = SiteSerializer(many=True, read_only=True)

    class Meta:
        model = ClientAccount
        fields = [
            "id",
            "account_type",
            "company_name",
            "siret",
            "last_name",
            "first_name",
            "country",
            "postal_code",
            "address",
            "city",
            "mobile",
            "landline",
            "email",
            "sites",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ClientInputSerializer(serializers.Serializer):
    """Create (POST), replace (PUT) or patch (PATCH) a client. SIRET (14 digits, checksum), phone numbers,
    postal code and duplicates are checked by ``partners.services``: a refusal is a 422 naming the field."""

    account_type = serializers.ChoiceField(
        choices=ClientAccount.AccountType.choices, default=ClientAccount.AccountType.PRO_VAT
    )
    company_name = serializers.CharField(max_length=200)
    siret = serializers.CharField(max_length=20, help_text="SIRET, 14 chiffres (espaces acceptés).")
    last_name = serializers.CharField(max_length=100, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=100, allow_blank=True, default="")
    country = serializers.CharField(
        min_length=2, max_length=2, default="FR", help_text="Code pays ISO 3166-1 alpha-2."
    )
    postal_code = serializers.CharField(max_length=10, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, allow_blank=True, default="")
    mobile = serializers.CharField(
        max_length=20, allow_blank=True, default="", help_text="Mobile, national ou international."
    )
    landline = serializers.CharField(max_length=20, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254)
