"""Order and contract serializers. Input checks shape only: ``contracts.services.order_place`` enforces the rules
(R-ORD-1..3) and answers a refusal with 422 ``{message, field, rule}``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import (
    Contract,
    ContractEvent,
    ContractOption,
    DataBlock,
    OneOffFee,
    OperatorRequest,
    Order,
    SimType,
)

NULLABLE_STR = serializers.CharField(allow_null=True)  # a method field answering a string or null


class LineInputSerializer(serializers.Serializer):
    """One line (R-ORD-2). ``msisdn``: a Bouygues number chosen from the pool, or the ported number when
    ``portability``; empty → drawn at random (R-CON-6) or given later by Orange (Data only / M2M)."""

    user_name = serializers.CharField(max_length=120, allow_blank=True, default="")
    msisdn = serializers.CharField(max_length=20, allow_blank=True, default="")
    contact_email = serializers.CharField(max_length=254, allow_blank=True, default="")
    contact_mobile = serializers.CharField(max_length=20, allow_blank=True, default="")
    sim_type = serializers.ChoiceField(
        choices=SimType.choices,
        allow_blank=True,
        default="",
        help_text="Vide : le type de SIM de la commande.",
    )
    portability = serializers.BooleanField(default=False)
    rio = serializers.CharField(
        max_length=20, allow_blank=True, default="", help_text="12 caractères (ID-RIO)."
    )
    iccid = serializers.CharField(
        max_length=22, allow_blank=True, default="", help_text="Une SIM précise de votre stock (facultatif)."
    )
    site_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class OrderInputSerializer(serializers.Serializer):
    """``POST /api/v1/orders`` (R-ORD-1..3)."""

    client_id = serializers.IntegerField()
    offer = serializers.CharField(max_length=40, help_text="Code de l'offre du catalogue (ex. OR-ILL-10G-B).")
    quantity = serializers.IntegerField(min_value=1, help_text="Nombre de lignes (1 à 1000).")
    configuration = serializers.ChoiceField(
        choices=Order.Configuration.choices, default=Order.Configuration.UNIT
    )
    sim_type = serializers.ChoiceField(choices=SimType.choices, default=SimType.WITH_PIN)
    five_g = serializers.BooleanField(
        default=False, help_text="5G en option, là où elle n'est pas incluse (R-CAT-9)."
    )
    allow_sva = serializers.BooleanField(default=True, help_text="Autoriser les SVA ?")
    options = serializers.ListField(child=serializers.CharField(max_length=40), default=list)
    roaming = serializers.DictField(
        child=serializers.CharField(max_length=60, allow_blank=True),
        default=dict,
        help_text="Par zone (usa_canada, maghreb_turquie, reste_du_monde, europe, monde) : code du choix de "
        "coupure ou d'option (R-OPT-5, R-ROA-4). Zone absente : la coupure la plus basse.",
    )
    activation_date = serializers.DateField(required=False, allow_null=True, default=None)
    lines = LineInputSerializer(many=True, required=False, default=list)


class ContractOptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContractOption
        fields = [
            "code",
            "label",
            "zone",
            "price_ht",
            "monthly_fee_ht",
            "fas_ht",
            "status",
            "created_at",
            "activated_at",
            "ended_at",
        ]
        read_only_fields = fields


class OneOffFeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OneOffFee
        fields = ["kind", "label", "amount_ht", "rule", "created_at"]
        read_only_fields = fields


class ContractEventSerializer(serializers.ModelSerializer):
    who = serializers.CharField(read_only=True)

    class Meta:
        model = ContractEvent
        fields = ["kind", "from_state", "to_state", "who", "message", "created_at"]
        read_only_fields = fields


class OperatorRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = OperatorRequest
        fields = [
            "kind",
            "state",
            "not_before",
            "planned_at",
            "sent_at",
            "completed_at",
            "attempts",
            "last_error",
        ]
        read_only_fields = fields


class ContractSerializer(serializers.ModelSerializer):
    """A line (contract) with its resources."""

    offer = serializers.CharField(source="offer.code", read_only=True)
    offer_label = serializers.CharField(source="offer.label", read_only=True)
    order = serializers.CharField(source="order.number", read_only=True)
    client_id = serializers.IntegerField(read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    user_state = serializers.CharField(read_only=True)
    iccid = serializers.SerializerMethodField()
    activation_code = serializers.SerializerMethodField()
    # A plain string: "" when no contact was given (a blank is not an e-mail for the schema's "format: email").
    contact_email = serializers.CharField(read_only=True, help_text="Vide si aucun.")

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "order",
            "client_id",
            "offer",
            "offer_label",
            "network",
            "state",
            "state_label",
            "user_state",
            "msisdn",
            "user_name",
            "contact_email",
            "contact_mobile",
            "sim_type",
            "iccid",
            "activation_code",
            "five_g",
            "allow_sva",
            "portability",
            "ported_number",
            "activation_date",
            "delivered_at",
            "data_threshold_bytes",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_STR)
    def get_iccid(self, obj: Contract) -> str | None:
        if obj.sim_id:
            return obj.sim.iccid
        return obj.esim.iccid if obj.esim_id else None

    @extend_schema_field(NULLABLE_STR)
    def get_activation_code(self, obj: Contract) -> str | None:
        return obj.esim.activation_code if obj.esim_id else None


class DataBlockSerializer(serializers.ModelSerializer):
    """A block in force on the line (R-ALR-1..3, R-CAT-7/8, R-CAT-11): what is blocked, why, since when."""

    label = serializers.CharField(read_only=True)

    class Meta:
        model = DataBlock
        fields = ["scope", "zone", "label", "reason", "rule", "blocked_at", "lift_at"]
        read_only_fields = fields


class ContractDetailSerializer(ContractSerializer):
    """A line with its options, fees, operator requests and history (R-ORD-6), and its possible actions."""

    puk = serializers.SerializerMethodField()
    options = ContractOptionSerializer(many=True, read_only=True)
    fees = OneOffFeeSerializer(many=True, read_only=True)
    operator_requests = OperatorRequestSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()
    possible_actions = serializers.SerializerMethodField()
    data_blocks = serializers.SerializerMethodField()

    class Meta(ContractSerializer.Meta):
        fields = [
            *ContractSerializer.Meta.fields,
            "rio",
            "puk",
            "options",
            "fees",
            "operator_requests",
            "data_blocks",
            "events",
            "possible_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(DataBlockSerializer(many=True))
    def get_data_blocks(self, obj: Contract):
        blocks = DataBlock.objects.filter(contract=obj, lifted_at__isnull=True).order_by("blocked_at", "id")
        return DataBlockSerializer(blocks, many=True).data

    @extend_schema_field(NULLABLE_STR)
    def get_puk(self, obj: Contract) -> str | None:
        return obj.sim.puk if obj.sim_id else None

    @extend_schema_field(ContractEventSerializer(many=True))
    def get_events(self, obj: Contract):
        events = obj.events.select_related("actor").order_by("created_at", "id")
        return ContractEventSerializer(events, many=True).data

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "label": {"type": "string"},
                    "enabled": {"type": "boolean"},
                    "reason": {"type": "string"},
                    "rule": {"type": "string"},
                },
            },
        }
    )
    def get_possible_actions(self, obj: Contract):
        from contracts.selectors import contract_possible_actions

        return [
            {"code": a.code, "label": a.label, "enabled": a.enabled, "reason": a.reason, "rule": a.rule}
            for a in contract_possible_actions(obj)
        ]


class OrderSerializer(serializers.ModelSerializer):
    client_id = serializers.IntegerField(read_only=True)
    offer = serializers.CharField(source="offer.code", read_only=True)
    offer_label = serializers.CharField(source="offer.label", read_only=True)
    options = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    contracts = ContractSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "client_id",
            "offer",
            "offer_label",
            "network",
            "quantity",
            "configuration",
            "sim_type",
            "five_g",
            "allow_sva",
            "options",
            "roaming",
            "activation_date",
            "source",
            "created_at",
            "contracts",
        ]
        read_only_fields = fields


class OrderSummarySerializer(OrderSerializer):
    class Meta(OrderSerializer.Meta):
        fields = [f for f in OrderSerializer.Meta.fields if f != "contracts"]
        read_only_fields = fields
