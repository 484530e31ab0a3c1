"""load_catalog (idempotent, admin prices kept) and export_catalog (the JSON contract of issue 2 item 3)."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.loader import DATA_FILE, read_catalog_file
from catalog.models import CatalogVersion, Offer, Option, RoamingChoice, Topup
from catalog.selectors import (
    offer_allowed_options,
    offer_allowed_topups,
    offer_change_targets,
    offer_get,
    offer_roaming_choices,
)
from catalog.services import catalog_item_set_prices, catalog_load
from core.errors import RuleViolation
from core.money import GB

pytestmark = pytest.mark.django_db

EXPORT_KEYS = {
    "code",
    "network",
    "range",
    "data_bytes",
    "blocked",
    "monthly_price_ht",
    "five_g_included",
    "topups",
    "options",
    "roaming_choices",
    "offer_changes",
}
MODELS = (Offer, Option, Topup, RoamingChoice)


def snapshot():
    return {m.__name__: dict(m.objects.values_list("pk", "updated_at")) for m in MODELS}


def export(*args) -> list[dict]:
    out = io.StringIO()
    call_command("export_catalog", *args, stdout=out)
    return json.loads(out.getvalue())


def test_load_catalog_twice_changes_nothing():
    out = io.StringIO()
    call_command("load_catalog", stdout=out)
    assert "offers: +88" in out.getvalue()
    counts = {m.__name__: m.objects.count() for m in MODELS}
    assert counts == {"Offer": 88, "Option": 21, "Topup": 40, "RoamingChoice": 75}
    before = snapshot()
    out = io.StringIO()
    call_command("load_catalog", stdout=out)
    assert "aucun changement" in out.getvalue()
    assert {m.__name__: m.objects.count() for m in MODELS} == counts
    assert snapshot() == before
    assert CatalogVersion.objects.count() == 1
    data, checksum = read_catalog_file()
    assert CatalogVersion.objects.get().version == data["version"]
    assert CatalogVersion.objects.get().checksum == checksum


def test_admin_price_kept_on_reload_and_null_never_erases(catalog):
    blocked = Offer.objects.get(code="OR-ILL-10G-B")  # no price in the seed
    catalog_item_set_prices(item=blocked, prices={"monthly_price_ht": Decimal("9.90")})
    priced = Offer.objects.get(code="OR-ILL-10G-NB")  # seed price 8 €
    catalog_item_set_prices(item=priced, prices={"monthly_price_ht": Decimal("8.40")})
    report = catalog_load()
    blocked.refresh_from_db()
    priced.refresh_from_db()
    assert blocked.monthly_price_ht == Decimal("9.90") and blocked.price_overridden
    assert priced.monthly_price_ht == Decimal("8.40")
    assert report.prices_kept == 2
    # --reset-prices puts the file's prices back (null included)
    call_command("load_catalog", "--reset-prices", stdout=io.StringIO())
    blocked.refresh_from_db()
    priced.refresh_from_db()
    assert blocked.monthly_price_ht is None and not blocked.price_overridden
    assert priced.monthly_price_ht == Decimal("8.00")


def test_null_in_file_does_not_erase_a_set_price(catalog):
    Topup.objects.filter(code="OR-TOP-ILL-1G").update(price_ht=Decimal("3.00"))  # e.g. set before the flag
    catalog_load()
    assert Topup.objects.get(code="OR-TOP-ILL-1G").price_ht == Decimal("3.00")


def test_row_removed_from_file_is_deactivated(tmp_path, catalog):
    data, _ = read_catalog_file()
    data["offers"] = [o for o in data["offers"] if o["code"] != "OR-ILL-SD"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = catalog_load(path=path)
    assert report.deactivated["offers"] == 1
    assert Offer.objects.get(code="OR-ILL-SD").active is False
    assert "OR-ILL-SD" not in {o["code"] for o in export()}
    assert CatalogVersion.objects.count() == 2  # content changed: a new version row


def test_load_catalog_rejects_invalid_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"version": "x", "offers": [{"code": "A", "network": "sfr"}]}), encoding="utf-8"
    )
    with pytest.raises(CommandError):
        call_command("load_catalog", "--file", str(path), stdout=io.StringIO())
    assert Offer.objects.count() == 0


def test_price_service_refuses_negative_and_cutoff_price(catalog):
    offer = Offer.objects.get(code="OR-ILL-SD")
    with pytest.raises(RuleViolation):
        catalog_item_set_prices(item=offer, prices={"monthly_price_ht": Decimal("-1")})
    cutoff = RoamingChoice.objects.filter(kind="cutoff").first()
    with pytest.raises(RuleViolation):
        catalog_item_set_prices(item=cutoff, prices={"price_ht": Decimal("1")})


def test_export_catalog_shape_and_counts(catalog):
    data = export()
    assert len(data) == 88
    assert all(set(o) == EXPORT_KEYS for o in data)
    assert {o["network"] for o in data} == {"orange", "bouygues"}
    by = {o["code"]: o for o in data}
    assert by["OR-ILL-SD"]["monthly_price_ht"] == "4.00"
    assert by["OR-ILL-1G-NB"]["monthly_price_ht"] == "7.50"
    assert by["OR-ILL-500G-NB"]["monthly_price_ht"] == "125.00"
    assert by["OR-ILL-500G-B"]["monthly_price_ht"] is None
    assert by["OR-DATA-1T-B"]["monthly_price_ht"] == "220.00" and by["OR-DATA-1T-B"]["data_bytes"] == 10**12
    assert by["OR-TRV-100G"]["monthly_price_ht"] == "90.00"
    assert by["BY-CPTD"]["monthly_price_ht"] == "2.00" and by["OR-CPTD"]["monthly_price_ht"] == "2.50"
    assert by["BY-CPT"]["monthly_price_ht"] == "2.50"
    assert by["OR-ILL-SD"]["blocked"] is None and by["OR-ILL-SD"]["data_bytes"] is None


def test_export_R_CAT_10_bouygues_non_blocked_30_go_only_own_topup(catalog):
    by = {o["code"]: o for o in export()}
    assert by["BY-ILL-30G-NB"]["topups"] == [30 * GB]
    assert len(by["BY-ILL-30G-B"]["topups"]) == 8
    assert len(by["OR-ILL-30G-NB"]["topups"]) == 8
    assert by["OR-TRV-20G"]["topups"] == []  # R-CAT-4


def test_export_R_OPT_options(catalog):
    by = {o["code"]: o for o in export()}
    assert "fixed_ip" not in by["OR-ILL-30G-NB"]["options"]  # R-OPT-3
    assert "fixed_ip" in by["OR-ILL-30G-B"]["options"]
    assert "fixed_ip" in by["BY-ILL-30G-NB"]["options"]
    assert "esim" in by["OR-ILL-30G-NB"]["options"] and "esim" not in by["BY-ILL-30G-B"]["options"]  # R-OPT-2
    assert "five_g" in by["OR-ILL-30G-NB"]["options"] and "five_g" not in by["OR-ILL-50G-NB"]["options"]
    assert "volte_vowifi" not in by["OR-ILL-30G-NB"]["options"]  # R-OPT-1: nothing to order
    assert "partner_platform" in by["OR-ILL-30G-B"]["options"]  # default export: Init Sys view
    plain = {o["code"]: o for o in export("--not-init-sys")}
    assert "partner_platform" not in plain["OR-ILL-30G-B"]["options"]


def test_export_roaming_choices(catalog):
    by = {o["code"]: o for o in export()}
    europe = [c for c in by["OR-ILL-30G-B"]["roaming_choices"] if c["zone"] == "europe"]
    assert europe == [
        {"zone": "europe", "kind": "cutoff", "limit": 30 * GB, "unit": "bytes", "price_ht": None}
    ]
    assert len(by["OR-ILL-30G-B"]["roaming_choices"]) == 1 + 3 * (7 + 6)
    assert {
        "zone": "usa_canada",
        "kind": "option",
        "limit": 3 * GB,
        "unit": "bytes",
        "price_ht": "25.00",
    } in by["OR-ILL-30G-B"]["roaming_choices"]
    travel = by["OR-TRV-20G"]["roaming_choices"]
    assert {c["zone"] for c in travel} == {"maghreb_turquie", "reste_du_monde"}
    assert len(travel) == 2 * (4 + 5 + 5)
    bouygues = by["BY-ILL-30G-NB"]["roaming_choices"]
    assert sorted((c["zone"], c["limit"]) for c in bouygues) == [
        ("europe", 0),
        ("europe", 50),
        ("europe", 100),
        ("europe", 200),
        ("monde", 0),
        ("monde", 50),
        ("monde", 100),
        ("monde", 200),
    ]
    assert {c["unit"] for c in bouygues} == {"eur"}
    assert by["OR-DATA-10G-B"]["roaming_choices"] == [] and by["OR-M2M-10M-B"]["roaming_choices"] == []


def test_export_offer_changes(catalog):
    by = {o["code"]: o for o in export()}
    travel = by["OR-TRV-20G"]["offer_changes"]
    assert set(travel) == {"OR-TRV-30G", "OR-TRV-50G", "OR-TRV-100G"}  # never to Illimité (R-CON-3)
    data_only = by["OR-DATA-10G-B"]["offer_changes"]
    assert all(code.startswith("OR-DATA-") for code in data_only) and "OR-DATA-10G-NB" in data_only
    assert not any(
        code in by["OR-ILL-10G-B"]["offer_changes"] for code in ("OR-CPT", "OR-CPTD", "OR-TRV-20G")
    )
    assert len(by["OR-ILL-10G-B"]["offer_changes"]) == 16
    assert by["OR-CPT"]["offer_changes"] == []


def test_selectors_for_other_apps(catalog):
    offer = offer_get(code="BY-ILL-30G-NB")
    assert [t.data_bytes for t in offer_allowed_topups(offer)] == [30 * GB]
    codes = [o.code for o in offer_allowed_options(offer, partner_is_init_sys=False)]
    assert "fixed_ip" in codes and "partner_platform" not in codes
    assert len(offer_roaming_choices(offer)) == 8
    assert all(o.range == "illimite" for o in offer_change_targets(offer))


def test_data_file_path_is_in_repo():
    assert DATA_FILE.name == "catalog.json" and DATA_FILE.exists()
