"""Catalog offers in the shape of ``export_catalog`` (issue 2 item 3), plus the label."""

from __future__ import annotations

from rest_framework import serializers

from catalog.models import Range, RoamingKind, RoamingUnit, Zone
from catalog.selectors import CatalogIndex, partner_is_init_sys
from core.networks import Network


class CatalogOfferFilterSerializer(serializers.Serializer):
    network = serializers.ChoiceField(choices=Network.choices, required=False)
    range = serializers.ChoiceField(choices=Range.choices, required=False)


class RoamingChoiceSerializer(serializers.Serializer):
    zone = serializers.ChoiceField(choices=Zone.choices)
    kind = serializers.ChoiceField(choices=RoamingKind.choices)
    limit = serializers.IntegerField(help_text="Octets (unit=bytes) ou euros (unit=eur).")
    unit = serializers.ChoiceField(choices=RoamingUnit.choices)
    price_ht = serializers.CharField(
        allow_null=True, help_text="Prix mensuel HT d'une option ; null pour une coupure."
    )


class CatalogOfferSerializer(serializers.Serializer):
    """Read-only. ``topups``, ``options``, ``roaming_choices`` and ``offer_changes`` are computed by
    ``catalog.rules`` (R-CAT-9/10, R-OPT-2..7, R-ROA-3/4, R-CON-1..3); ``options`` depends on whether the caller's
    partner is flagged Init Sys (R-OPT-3)."""

    code = serializers.CharField()
    network = serializers.ChoiceField(choices=Network.choices)
    range = serializers.ChoiceField(choices=Range.choices)
    label = serializers.CharField()
    data_bytes = serializers.IntegerField(
        allow_null=True, help_text="null : sans data ou au compteur ; 1 Go = 10^9."
    )
    blocked = serializers.BooleanField(allow_null=True)
    monthly_price_ht = serializers.CharField(
        allow_null=True, help_text="Décimal en euros HT ; null = « à définir »."
    )
    five_g_included = serializers.BooleanField()
    topups = serializers.ListField(
        child=serializers.IntegerField(), help_text="Volumes (octets) des recharges."
    )
    options = serializers.ListField(
        child=serializers.CharField(), help_text="Codes des options commandables."
    )
    roaming_choices = RoamingChoiceSerializer(many=True)
    offer_changes = serializers.ListField(child=serializers.CharField(), help_text="Codes des offres cibles.")

    def _catalog_index(self) -> CatalogIndex:
        """One index per response (the list serializer is the root), built on first use."""
        root = self.root
        if not hasattr(root, "_index_cache"):
            root._index_cache = self.context.get("catalog_index") or CatalogIndex()
        return root._index_cache

    def to_representation(self, offer):
        request = self.context.get("request")
        init_sys = partner_is_init_sys(getattr(request, "staff_partner", None))
        data = self._catalog_index().export(offer, partner_is_init_sys=init_sys)
        data["label"] = offer.label
        return {name: data[name] for name in self.fields}
