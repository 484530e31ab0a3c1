"""Writes on the catalog: loading the data file, and price edits by platform admins."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import RuleViolation

from .loader import DATA_FILE, PRICE_FIELDS, LoadReport, load_catalog_data, read_catalog_file
from .models import Offer, Option, RoamingChoice, Topup, UsageRate

CatalogItem = Offer | Option | Topup | RoamingChoice | UsageRate


@transaction.atomic
def catalog_load(*, path: Path | str = DATA_FILE, reset_prices: bool = False) -> LoadReport:
    """Load the versioned data file idempotently (policy in ``catalog/loader.py``)."""
    data, checksum = read_catalog_file(path)
    return load_catalog_data(data, checksum, reset_prices=reset_prices)


@transaction.atomic
def catalog_item_set_prices(*, item: CatalogItem, prices: dict[str, Decimal | None]) -> CatalogItem:
    """An admin sets prices on an offer, option, top-up or roaming option; ``load_catalog`` keeps them
    afterwards (``price_overridden``). ``None`` means "à définir"."""
    allowed = PRICE_FIELDS[type(item)]
    changed = []
    for name, value in prices.items():
        if name not in allowed:
            raise RuleViolation(_("Champ de prix inconnu."), field=name, rule="R-CAT-3")
        if value is not None and value < 0:
            raise RuleViolation(_("Un prix ne peut pas être négatif."), field=name, rule="R-CAT-3")
        if isinstance(item, RoamingChoice) and item.kind == RoamingChoice.Kind.CUTOFF and value is not None:
            raise RuleViolation(_("Une coupure n'a pas de prix."), field=name, rule="R-OPT-5")
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed.append(name)
    if changed:
        item.price_overridden = True
        item.save(update_fields=[*changed, "price_overridden", "updated_at"])
    return item


@transaction.atomic
def catalog_item_admin_save(*, item: CatalogItem, changed_fields: list[str]) -> CatalogItem:
    """Save from Django admin; an edited price marks the row as overridden (kept by ``load_catalog``)."""
    if any(f in PRICE_FIELDS[type(item)] for f in changed_fields):
        item.price_overridden = True
    item.save()
    return item
