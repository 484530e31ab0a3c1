"""Catalog factories. Most tests prefer the real data file: ``load_test_catalog()`` (loads catalog.json)."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from catalog.models import Offer, Option, RoamingChoice, Topup
from core.money import GB


def load_test_catalog():
    """Load ``catalog/data/catalog.json`` into the test database; returns the ``LoadReport``."""
    from catalog.services import catalog_load

    return catalog_load()


class OfferFactory(DjangoModelFactory):
    class Meta:
        model = Offer
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T-OFFER-{n}")
    network = "orange"
    range = "illimite"
    label = factory.LazyAttribute(lambda o: f"Offre test {o.code}")
    data_bytes = 10 * GB
    blocked = True
    monthly_price_ht = Decimal("8.00")
    five_g_included = False


class OptionFactory(DjangoModelFactory):
    class Meta:
        model = Option
        django_get_or_create = ("network", "code")

    network = "orange"
    code = factory.Sequence(lambda n: f"t_option_{n}")
    label = factory.LazyAttribute(lambda o: f"Option {o.code}")
    kind = "service"


class TopupFactory(DjangoModelFactory):
    class Meta:
        model = Topup
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T-TOP-{n}")
    network = "orange"
    family = "illimite"
    data_bytes = 1 * GB


class RoamingChoiceFactory(DjangoModelFactory):
    class Meta:
        model = RoamingChoice
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T-ROA-{n}")
    network = "orange"
    zone = "usa_canada"
    kind = "cutoff"
    limit = 0
    unit = "bytes"
    ranges = factory.LazyFunction(lambda: ["illimite"])
