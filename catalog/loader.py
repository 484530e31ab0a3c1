"""Read, check and load the versioned catalog data file (``catalog/data/catalog.json``).

Loading policy (``manage.py load_catalog``, idempotent — a second run changes nothing, not even ``updated_at``):

- rows are upserted by their key (Offer, Topup, RoamingChoice: ``code``; Option: ``network`` + ``code``) and only
  saved when a value differs;
- prices: a row whose price a platform admin edited in Django admin has ``price_overridden=True`` and keeps its
  prices on reload; a price that is null ("à définir") in the file never overwrites a price already set;
  ``load_catalog --reset-prices`` puts the file's prices back (null included) and clears ``price_overridden``;
- a row no longer in the file is deactivated (``active=False``), never deleted (contracts point to it);
- a ``CatalogVersion`` row is written only when the file's version or content changed since the last load.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils import timezone

from core.errors import RuleViolation, ValidationFailed
from core.networks import Network

from . import rules
from .models import (
    CatalogVersion,
    Offer,
    Option,
    OptionKind,
    Range,
    RoamingChoice,
    RoamingKind,
    RoamingOptionType,
    RoamingUnit,
    Topup,
    TopupFamily,
    UsageRate,
    UsageUnit,
    Zone,
)

DATA_FILE = Path(__file__).resolve().parent / "data" / "catalog.json"

PRICE_FIELDS: dict[type, tuple[str, ...]] = {
    Offer: ("monthly_price_ht",),
    Option: ("monthly_price_ht", "fas_ht"),
    Topup: ("price_ht",),
    RoamingChoice: ("price_ht",),
    UsageRate: ("price_ht",),
}

SECTIONS: tuple[tuple[str, type, tuple[str, ...]], ...] = (
    ("offers", Offer, ("code",)),
    ("options", Option, ("network", "code")),
    ("topups", Topup, ("code",)),
    ("roaming_choices", RoamingChoice, ("code",)),
    ("usage_rates", UsageRate, ("network", "code")),
)

#: Sections a file may omit (older catalog files, test fixtures): an omitted section loads no row.
OPTIONAL_SECTIONS = frozenset({"usage_rates"})

FIELDS: dict[type, dict[str, Any]] = {
    # field name -> default when the file omits it
    Offer: {
        "network": None,
        "range": None,
        "label": None,
        "data_bytes": None,
        "blocked": None,
        "monthly_price_ht": None,
        "five_g_included": False,
        "commitment_months": 0,
        "details": {},
        "active": True,
        "sort_order": 0,
    },
    Option: {
        "label": None,
        "kind": None,
        "description": "",
        "monthly_price_ht": None,
        "fas_ht": None,
        "requires_init_sys": False,
        "orderable": True,
        "details": {},
        "active": True,
        "sort_order": 0,
    },
    Topup: {"network": None, "family": None, "data_bytes": None, "price_ht": None, "active": True},
    RoamingChoice: {
        "network": None,
        "zone": None,
        "kind": None,
        "option_type": "",
        "limit": None,
        "unit": None,
        "price_ht": None,
        "ranges": [],
        "details": {},
        "active": True,
        "sort_order": 0,
    },
    UsageRate: {"label": None, "unit": None, "price_ht": None, "active": True},
}

CHOICES: dict[str, set[str]] = {
    "network": set(Network.values),
    "range": set(Range.values),
    "kind@Option": set(OptionKind.values),
    "family": set(TopupFamily.values),
    "zone": set(Zone.values),
    "kind@RoamingChoice": set(RoamingKind.values),
    "unit": set(RoamingUnit.values),
    "unit@UsageRate": set(UsageUnit.values),
    "option_type": set(RoamingOptionType.values),
}


@dataclass
class LoadReport:
    version: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deactivated: dict[str, int] = field(default_factory=dict)
    prices_kept: int = 0
    version_recorded: bool = False

    @property
    def changed(self) -> bool:
        return bool(
            sum(self.created.values()) + sum(self.updated.values()) + sum(self.deactivated.values())
        ) or (self.version_recorded)

    def summary(self) -> str:
        parts = []
        for name, _model, _key in SECTIONS:
            parts.append(
                f"{name}: +{self.created.get(name, 0)} ~{self.updated.get(name, 0)} -{self.deactivated.get(name, 0)}"
            )
        return (
            f"catalogue {self.version} — "
            + ", ".join(parts)
            + f"; prix conservés (admin) : {self.prices_kept}"
        )


def read_catalog_file(path: Path | str = DATA_FILE) -> tuple[dict, str]:
    """The parsed file and the SHA-256 of its bytes."""
    raw = Path(path).read_bytes()
    return json.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()


def _decimal(value: Any, places: Decimal = Decimal("0.01")) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(places)
    except InvalidOperation as exc:
        raise ValueError(f"prix invalide : {value!r}") from exc


def validate_catalog_data(data: dict) -> list[str]:
    """Every problem of the file's content (empty list when it is loadable)."""
    errors: list[str] = []
    if not isinstance(data, dict) or not str(data.get("version", "")).strip():
        return ["le fichier doit être un objet JSON avec une clé « version »"]
    for name, model, key in SECTIONS:
        items = data.get(name, [] if name in OPTIONAL_SECTIONS else None)
        if not isinstance(items, list):
            errors.append(f"{name} : liste attendue")
            continue
        seen: set[tuple] = set()
        for i, item in enumerate(items):
            where = f"{name}[{i}] {item.get('code', '?')}"
            k = tuple(item.get(f) for f in key)
            if None in k:
                errors.append(f"{where} : clé {key} manquante")
            if k in seen:
                errors.append(f"{where} : doublon de {key}")
            seen.add(k)
            for f in FIELDS[model]:
                if FIELDS[model][f] is None and f not in item and f not in PRICE_FIELDS[model]:
                    errors.append(f"{where} : champ « {f} » manquant")
            for f in ("network", "range", "family", "zone", "unit", "option_type", "kind"):
                if f not in item or (f not in FIELDS[model] and f not in key):
                    continue
                allowed = CHOICES.get(f"{f}@{model.__name__}", CHOICES.get(f))
                if allowed is not None and item[f] not in allowed:
                    errors.append(f"{where} : {f}={item[f]!r} inconnu")
            for f in PRICE_FIELDS[model]:
                try:
                    _decimal(item.get(f))
                except ValueError as exc:
                    errors.append(f"{where} : {exc}")
            if model is Offer and item.get("range") in rules.PLAN_RANGES | rules.COMPTEUR_RANGES:
                expected = rules.five_g_included(item.get("network"), item["range"], item.get("data_bytes"))
                if bool(item.get("five_g_included")) != expected:
                    errors.append(
                        f"{where} : five_g_included={item.get('five_g_included')} contredit R-CAT-9"
                    )
            if model is Topup and item.get("family") in rules.TOPUP_VOLUMES:
                if item.get("data_bytes") not in rules.TOPUP_VOLUMES[item["family"]]:
                    errors.append(f"{where} : volume hors R-CAT-10")
    if "roaming_inclusions" in data:
        # R-ROA-1 reference table (no price, nothing stored): checked here, read by
        # catalog.selectors.roaming_inclusion_table() for the offer pages.
        errors.extend(rules.roaming_inclusion_errors(data["roaming_inclusions"]))
    return errors


def _values(model: type, item: dict) -> dict[str, Any]:
    values = {}
    for f, default in FIELDS[model].items():
        value = item.get(f, default)
        if f in PRICE_FIELDS[model]:
            value = _decimal(value, Decimal("0.0001") if model is UsageRate else Decimal("0.01"))
        values[f] = value
    return values


def load_catalog_data(data: dict, checksum: str, *, reset_prices: bool = False) -> LoadReport:
    """Upsert ``data`` into the database (call inside a transaction: ``catalog.services.catalog_load``)."""
    errors = validate_catalog_data(data)
    if errors:
        raise ValidationFailed(
            [RuleViolation(e, field="catalog", rule="R-CAT-1") for e in errors], message=errors[0]
        )
    report = LoadReport(version=str(data["version"]))
    for name, model, key in SECTIONS:
        created = updated = 0
        existing = {tuple(getattr(row, f) for f in key): row for row in model.objects.all()}
        in_file: set[tuple] = set()
        for item in data.get(name, []):
            k = tuple(item[f] for f in key)
            in_file.add(k)
            values = _values(model, item)
            row = existing.get(k)
            if row is None:
                model.objects.create(**dict(zip(key, k, strict=True)), **values)
                created += 1
                continue
            changed: list[str] = []
            for f, value in values.items():
                current = getattr(row, f)
                if f in PRICE_FIELDS[model]:
                    if reset_prices:
                        pass
                    elif row.price_overridden:
                        if current != value:
                            report.prices_kept += 1
                        continue
                    elif value is None:
                        continue  # a null ("à définir") in the file never erases a price that is set
                if current != value:
                    setattr(row, f, value)
                    changed.append(f)
            if reset_prices and row.price_overridden:
                row.price_overridden = False
                changed.append("price_overridden")
            if changed:
                row.save(update_fields=[*changed, "updated_at"])
                updated += 1
        stale = [row.pk for k, row in existing.items() if k not in in_file and row.active]
        if stale:
            model.objects.filter(pk__in=stale).update(active=False, updated_at=timezone.now())
        report.created[name], report.updated[name], report.deactivated[name] = created, updated, len(stale)
    latest = CatalogVersion.objects.order_by("-loaded_at", "-id").first()
    if latest is None or (latest.version, latest.checksum) != (report.version, checksum):
        CatalogVersion.objects.create(version=report.version, checksum=checksum)
        report.version_recorded = True
    return report
