"""Shapes of the stock endpoints (R-BO-2, R-SC-7). Input shape only: rules live in ``inventory.services``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.networks import Network
from inventory.models import EsimProfile, PhoneNumber, SimCard


class SimCardSerializer(serializers.ModelSerializer):
    client_id = serializers.IntegerField(allow_null=True, read_only=True)
    has_pin = serializers.BooleanField(read_only=True, help_text="False pour une SIM sans PIN.")

    class Meta:
        model = SimCard
        fields = [
            "iccid",
            "network",
            "state",
            "has_pin",
            "pin",
            "puk",
            "client_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EsimProfileSerializer(serializers.ModelSerializer):
    client_id = serializers.IntegerField(allow_null=True, read_only=True)
    activation_code = serializers.CharField(read_only=True, help_text="LPA:1$<SM-DP+>$<matching id>$$1")

    class Meta:
        model = EsimProfile
        fields = ["iccid", "network", "state", "matching_id", "activation_code", "client_id", "created_at"]
        read_only_fields = fields


class PhoneNumberSerializer(serializers.ModelSerializer):
    client_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = PhoneNumber
        fields = ["msisdn", "network", "kind", "state", "client_id", "updated_at"]
        read_only_fields = fields


class SimFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=SimCard.State.choices, required=False)
    network = serializers.ChoiceField(choices=Network.choices, required=False)
    client_id = serializers.IntegerField(required=False, min_value=1)
    iccid = serializers.CharField(required=False, max_length=32, help_text="début de l'ICCID")
    with_pin = serializers.BooleanField(required=False, allow_null=True, default=None)


class EsimFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=EsimProfile.State.choices, required=False)
    client_id = serializers.IntegerField(required=False, min_value=1)


class NumberFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=PhoneNumber.State.choices, required=False)
    network = serializers.ChoiceField(choices=Network.choices, required=False)
    kind = serializers.ChoiceField(choices=PhoneNumber.Kind.choices, required=False)
    client_id = serializers.IntegerField(required=False, min_value=1)
    msisdn = serializers.CharField(required=False, max_length=20, help_text="début du numéro")


class _SimSelectionSerializer(serializers.Serializer):
    """Either a list of ICCIDs, or a range given by its first and last ICCID (ascending, R-SC-7)."""

    iccids = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, allow_empty=False, max_length=10_000
    )
    first_iccid = serializers.CharField(required=False, max_length=32)
    last_iccid = serializers.CharField(required=False, max_length=32)

    def validate(self, attrs):
        has_list = "iccids" in attrs
        has_range = "first_iccid" in attrs or "last_iccid" in attrs
        if has_list == has_range:
            raise serializers.ValidationError(
                {"iccids": _("Donnez soit « iccids », soit « first_iccid » et « last_iccid ».")}
            )
        if has_range:
            for field in ("first_iccid", "last_iccid"):
                if field not in attrs:
                    raise serializers.ValidationError({field: _("Ce champ est obligatoire pour une plage.")})
        return attrs


class SimAssignSerializer(_SimSelectionSerializer):
    client_id = serializers.IntegerField(min_value=1)


class SimReleaseSerializer(_SimSelectionSerializer):
    client_id = serializers.IntegerField(
        min_value=1, required=False, help_text="ne libérer que les SIM de ce client"
    )


class SimAssignResultSerializer(serializers.Serializer):
    assigned = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="SIM du partenaire dans la plage laissées telles quelles")


class SimReleaseResultSerializer(serializers.Serializer):
    released = serializers.IntegerField()
    skipped = serializers.IntegerField()
