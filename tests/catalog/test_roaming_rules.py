"""R-ROA-1 (what unlimited plans include in roaming and towards international, a data table of catalog.json)
and R-ROA-2 (blocking calls/SMS/MMS in roaming and towards international) — rules, data file, loader, page."""

import copy
import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog import rules
from catalog.loader import DATA_FILE, read_catalog_file, validate_catalog_data
from catalog.models import Offer
from catalog.rules import OfferFacts
from catalog.selectors import roaming_inclusion_table
from core.money import GB
from tests.factories.partners import MembershipFactory, PartnerFactory

DATA, _CHECKSUM = read_catalog_file()
TABLE = rules.roaming_inclusion_table(DATA["roaming_inclusions"])


def _offer(network="orange", range_="illimite", data=10 * GB, blocked=True):
    return OfferFacts(code="T", network=network, range=range_, data_bytes=data, blocked=blocked)


# --- R-ROA-1: the table in the data file ------------------------------------------------------------------


def test_R_ROA_1_table_is_in_the_versioned_data_file_and_valid():
    assert DATA["version"] != "2025.1"  # bumped when the table was added
    assert validate_catalog_data(DATA) == []
    assert TABLE.rule == "R-ROA-1" and TABLE.ranges == ("illimite",)
    assert len(TABLE.rows) == 17
    assert roaming_inclusion_table() == TABLE  # the selector reads the same file


# (situation, usage, from, to, orange, bouygues) — SPEC R-ROA-1, row by row
SPEC_R_ROA_1 = [
    ("roaming", "data", "zone1_1b", None, "included", "included"),
    ("roaming", "calls_out", "zone1_1b", "zone1_1b", "included", "included"),
    ("roaming", "calls_in", "zone1_1b", None, "included", "included"),
    ("roaming", "sms_out", "zone1_1b", "zone1_1b", "included", "included"),
    ("roaming", "sms_in", "zone1_1b", None, "included", "included"),
    ("roaming", "mms", "zone1_1b", None, "included", "included"),
    ("roaming", "data", "other", None, "metered", "metered"),
    ("roaming", "calls_out", "other", "other", "metered", "metered"),
    ("roaming", "calls_in", "other", None, "metered", "metered"),
    ("roaming", "sms_out", "other", "other", "metered", "metered"),
    ("roaming", "sms_in", "other", None, "included", "included"),  # SMS received: included everywhere
    ("roaming", "mms", "other", None, "metered", "metered"),
    ("international", "calls_out", "france", "zone1_1b", "included", "included"),
    ("international", "sms_out", "france", "zone1", "included", "metered"),  # the one network difference
    ("international", "mms", "france", "other", "metered", "metered"),  # MMS to any zone: metered
    ("international", "mms", "france", "zone1_1b", "metered", "metered"),
    ("international", "calls_out", "france", "other", "metered", "metered"),
    ("international", "sms_out", "france", "other", "metered", "metered"),
]


@pytest.mark.parametrize(("situation", "usage", "origin", "to", "orange", "bouygues"), SPEC_R_ROA_1)
def test_R_ROA_1_included_or_metered_per_network(situation, usage, origin, to, orange, bouygues):
    for network, expected in (("orange", orange), ("bouygues", bouygues)):
        status = rules.roaming_usage_status(
            TABLE, network=network, situation=situation, usage=usage, origin=origin, destination=to
        )
        assert status == expected, (network, situation, usage, origin, to)


def test_R_ROA_1_matrix_applies_to_unlimited_plans_only():
    lines = rules.roaming_inclusions(_offer("bouygues", "illimite", 30 * GB), TABLE)
    assert len(lines) == 17 and all(line.network == "bouygues" and line.rule == "R-ROA-1" for line in lines)
    sms_fr_zone1 = next(
        line
        for line in lines
        if (line.row.situation, line.row.usage, line.row.destination) == ("international", "sms_out", "zone1")
    )
    assert sms_fr_zone1.status == "metered" and sms_fr_zone1.status_label == "Compteur"
    assert sms_fr_zone1.per_network == [("orange", "included", "Inclus"), ("bouygues", "metered", "Compteur")]
    for range_ in ("travel", "data_only", "m2m", "compteur", "compteur_data"):
        assert rules.roaming_inclusions(_offer("orange", range_), TABLE) == []
    assert rules.roaming_inclusions(_offer(), None) == []


def test_R_ROA_1_data_rows_have_no_object_on_a_plan_without_data():
    lines = rules.roaming_inclusions(_offer("orange", "illimite", None, None), TABLE)
    data = [line for line in lines if line.row.usage == "data"]
    assert data and all(line.status == "not_applicable" and not line.included for line in data)
    calls = [line for line in lines if line.row.usage == "calls_out" and line.row.origin == "zone1_1b"]
    assert calls[0].included


def _broken(mutate):
    data = copy.deepcopy(DATA)
    mutate(data["roaming_inclusions"])
    return validate_catalog_data(data)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["rows"][0].update(orange="inclus"), "included ou metered attendu"),
        (lambda s: s["rows"][0].pop("bouygues"), "bouygues=None"),
        (lambda s: s["rows"][0].update(usage="fax"), "usage='fax' inconnu"),
        (lambda s: s["rows"][0].update(to="mars"), "to='mars' inconnu"),
        (lambda s: s["rows"].append(dict(s["rows"][0])), "doublon"),
        (lambda s: s["rows"][12].update({"from": "zone1_1b"}), "l'international part de France"),
        (lambda s: s.update(ranges=["illimitee"]), "ranges"),
        (lambda s: s.update(rows=[]), "rows doit être une liste non vide"),
    ],
)
def test_R_ROA_1_loader_refuses_a_malformed_table(mutate, message):
    errors = _broken(mutate)
    assert any(message in e for e in errors), errors


@pytest.mark.django_db
def test_R_ROA_1_load_catalog_accepts_the_table_and_refuses_a_broken_one(tmp_path):
    call_command("load_catalog", stdout=io.StringIO())
    assert Offer.objects.filter(range="illimite").exists()
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    data["roaming_inclusions"]["rows"][0]["orange"] = "gratuit"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_catalog", "--file", str(bad), stdout=io.StringIO())


# --- R-ROA-2: blocking ------------------------------------------------------------------------------------


def test_R_ROA_2_orange_cannot_block_roaming_or_international():
    decision = rules.international_blocking("orange")
    assert not decision.allowed and decision.rule == "R-ROA-2"
    assert not decision.at_order and decision.options == ()
    assert "ne peuvent pas être bloqués" in decision.reason


def test_R_ROA_2_bouygues_blocks_at_order_then_through_options():
    decision = rules.international_blocking("bouygues")
    assert decision.allowed and decision.rule == "R-ROA-2" and decision.at_order
    assert decision.options == (
        "international_voice_block",
        "france_to_eea_block",
        "eea_to_international_block",
    )
    assert set(decision.options) <= set(rules.BOUYGUES_SERVICE_OPTIONS)  # R-OPT-7 options


@pytest.mark.parametrize("code", rules.INTERNATIONAL_BLOCKING_OPTIONS)
def test_R_ROA_2_blocking_options_refused_on_orange_allowed_on_bouygues(code):
    refused = rules.option_eligibility(_offer("orange", "illimite"), code)
    assert not refused.allowed and refused.rule == "R-ROA-2"
    allowed = rules.option_eligibility(_offer("bouygues", "illimite"), code)
    assert allowed.allowed and allowed.rule == "R-OPT-7"
    assert not rules.option_eligibility(_offer("bouygues", "data_only"), code).allowed  # no calls to block


# --- the offer page ---------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, catalog):
    client.force_login(MembershipFactory(partner=PartnerFactory()).user)
    return client


def _cells(page: str, network: str) -> list[str]:
    return re.findall(rf'data-network="{network}" data-status="(\w+)"', page)


@pytest.mark.django_db
def test_R_ROA_1_R_ROA_2_orange_unlimited_offer_page(staff_client):
    page = staff_client.get("/catalogue/offres/OR-ILL-30G-B/").content.decode()
    assert 'id="roaming-inclusions"' in page and "R-ROA-1" in page
    assert "Zone 1/1B (UE/EEE)" in page and "Zone 1 uniquement" in page
    orange = _cells(page, "orange")
    assert len(orange) == 17 and orange.count("included") == 9 and orange.count("metered") == 8
    assert _cells(page, "bouygues").count("included") == 8  # shown for comparison
    assert 'id="international-blocking"' in page and "R-ROA-2" in page
    assert "ne peuvent pas être bloqués" in page.replace("&#x27;", "'")


@pytest.mark.django_db
def test_R_ROA_1_R_ROA_2_bouygues_unlimited_offer_page(staff_client):
    page = staff_client.get("/catalogue/offres/BY-ILL-30G-NB/").content.decode()
    assert _cells(page, "bouygues").count("metered") == 9
    assert "peuvent être bloqués à la commande" in page.replace("&#x27;", "'")
    assert "Blocage de la voix vers l" in page and "eea_to_international_block" in page


@pytest.mark.django_db
def test_R_ROA_1_R_ROA_2_no_matrix_outside_unlimited_plans(staff_client):
    data_only = staff_client.get("/catalogue/offres/OR-DATA-10G-B/").content.decode()
    assert 'id="roaming-inclusions"' not in data_only
    assert 'id="international-blocking"' not in data_only  # no calls, no SMS: nothing to block
    travel = staff_client.get("/catalogue/offres/OR-TRV-20G/").content.decode()
    assert 'id="roaming-inclusions"' not in travel and 'id="international-blocking"' in travel
    sans_data = staff_client.get("/catalogue/offres/OR-ILL-SD/").content.decode()
    assert _cells(sans_data, "orange").count("not_applicable") == 2
