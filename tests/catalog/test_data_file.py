"""The versioned data file catalog/data/catalog.json holds every offer, option, top-up and roaming choice of SPEC."""

from collections import Counter
from decimal import Decimal

import pytest

from catalog import rules
from catalog.loader import read_catalog_file, validate_catalog_data
from core.money import GB, MB, TB

DATA, _CHECKSUM = read_catalog_file()
OFFERS = {o["code"]: o for o in DATA["offers"]}
OPTIONS = {(o["network"], o["code"]): o for o in DATA["options"]}


def offers(network, range_, blocked=..., data=...):
    return [
        o
        for o in DATA["offers"]
        if o["network"] == network
        and o["range"] == range_
        and (blocked is ... or o["blocked"] is blocked)
        and (data is ... or o["data_bytes"] == data)
    ]


def one(network, range_, data, blocked=...):
    found = offers(network, range_, blocked, data)
    assert len(found) == 1, (network, range_, data, blocked, found)
    return found[0]


def price(o):
    return None if o["monthly_price_ht"] is None else Decimal(o["monthly_price_ht"])


def test_file_is_versioned_and_valid():
    assert DATA["version"]
    assert validate_catalog_data(DATA) == []


def test_validation_reports_bad_content():
    bad = {**DATA, "offers": [*DATA["offers"], {**DATA["offers"][0]}]}
    assert any("doublon" in e for e in validate_catalog_data(bad))
    bad = {**DATA, "offers": [{**DATA["offers"][0], "network": "sfr"}]}
    assert any("sfr" in e for e in validate_catalog_data(bad))
    bad = {**DATA, "offers": [{**DATA["offers"][0], "five_g_included": True}]}  # Orange sans data
    assert any("R-CAT-9" in e for e in validate_catalog_data(bad))
    assert validate_catalog_data({"offers": []}) != []


def test_R_CAT_1_both_networks_every_range():
    ranges = Counter((o["network"], o["range"]) for o in DATA["offers"])
    assert ranges == {
        ("orange", "illimite"): 17,
        ("bouygues", "illimite"): 17,
        ("orange", "travel"): 4,
        ("orange", "data_only"): 18,
        ("bouygues", "data_only"): 18,
        ("orange", "m2m"): 10,
        ("orange", "compteur"): 1,
        ("bouygues", "compteur"): 1,
        ("orange", "compteur_data"): 1,
        ("bouygues", "compteur_data"): 1,
    }
    assert len(DATA["offers"]) == 88


def test_R_CAT_2_no_commitment_on_any_offer():
    assert {o["commitment_months"] for o in DATA["offers"]} == {0}


@pytest.mark.parametrize("network", ["orange", "bouygues"])
def test_R_CAT_3_illimite_envelopes_blocked_or_not(network):
    assert one(network, "illimite", None)["blocked"] is None
    for gb in (1, 5, 10, 30, 50, 100, 250, 500):
        one(network, "illimite", gb * GB, True)
        one(network, "illimite", gb * GB, False)


def test_R_CAT_3_orange_prices_non_blocked_only():
    expected = {
        None: "4",
        1: "7.50",
        5: "7",
        10: "8",
        30: "10.50",
        50: "13",
        100: "20",
        250: "60",
        500: "125",
    }
    for gb, p in expected.items():
        data = None if gb is None else gb * GB
        blocked = None if gb is None else False
        assert price(one("orange", "illimite", data, blocked)) == Decimal(p)
    # not in the seed: à définir, never invented
    assert all(o["monthly_price_ht"] is None for o in offers("orange", "illimite", True))
    assert all(o["monthly_price_ht"] is None for o in offers("bouygues", "illimite"))


def test_R_CAT_4_travel_orange():
    travel = sorted(offers("orange", "travel"), key=lambda o: o["data_bytes"])
    assert [(o["data_bytes"], price(o)) for o in travel] == [
        (20 * GB, Decimal("20")),
        (30 * GB, Decimal("30")),
        (50 * GB, Decimal("50")),
        (100 * GB, Decimal("90")),
    ]
    usa = [o["details"]["usa_canada"] for o in travel]
    assert [u["data_bytes"] for u in usa] == [5 * GB, 15 * GB, 25 * GB, 50 * GB]
    assert [u["voice_seconds"] for u in usa] == [3600, 3600, 7200, 7200]
    assert {u["sms_sent"] for u in usa} == {100}
    assert all(o["five_g_included"] and o["blocked"] is False for o in travel)
    assert offers("bouygues", "travel") == []


@pytest.mark.parametrize("network", ["orange", "bouygues"])
def test_R_CAT_5_data_only_envelopes(network):
    for v in [g * GB for g in (1, 10, 20, 50, 100, 150, 200, 500)] + [TB]:
        for blocked in (True, False):
            o = one(network, "data_only", v, blocked)
            assert o["details"]["roaming"] is False and o["details"]["voice"] is False


def test_R_CAT_5_orange_data_only_prices_and_numbering():
    expected = {10: "6", 20: "9", 50: "12", 100: "20", 150: "30", 200: "40", 500: "110"}
    for gb, p in expected.items():
        assert price(one("orange", "data_only", gb * GB, True)) == Decimal(p)
        assert price(one("orange", "data_only", gb * GB, False)) == Decimal(p)
    assert price(one("orange", "data_only", TB, False)) == Decimal("220")
    assert one("orange", "data_only", GB, False)["monthly_price_ht"] is None
    assert all(o["monthly_price_ht"] is None for o in offers("bouygues", "data_only"))
    assert one("orange", "data_only", GB, False)["details"]["number_digits"] == 14
    bouygues = one("bouygues", "data_only", GB, False)["details"]
    assert bouygues["number_digits"] == 10 and bouygues["max_simultaneous_sessions"] == 256


def test_R_CAT_6_m2m_orange_only():
    for mo in (10, 25, 100, 250, 500):
        for blocked in (True, False):
            o = one("orange", "m2m", mo * MB, blocked)
            assert o["five_g_included"] is False and o["details"]["roaming"] is False
    assert offers("bouygues", "m2m") == []
    m2m_topups = {t["data_bytes"]: t["price_ht"] for t in DATA["topups"] if t["family"] == "m2m"}
    assert m2m_topups == {
        10 * MB: "0.60",
        25 * MB: "0.80",
        50 * MB: "0.90",
        100 * MB: "1.00",
        250 * MB: "1.40",
        500 * MB: None,
    }


def test_R_CAT_7_compteur_minimum_2_50_both_networks():
    for network in ("orange", "bouygues"):
        o = one(network, "compteur", None)
        assert price(o) == Decimal("2.50") and o["five_g_included"]
        assert o["details"]["monthly_price_is_minimum_billing"] is True
        assert o["details"]["data_threshold_max_bytes"] == 100 * GB


def test_R_CAT_8_compteur_data_prices_and_included_500_mo():
    assert price(one("orange", "compteur_data", 500 * MB)) == Decimal("2.50")
    assert price(one("bouygues", "compteur_data", 500 * MB)) == Decimal("2.00")
    assert one("bouygues", "compteur_data", 500 * MB)["details"]["roaming"] is False


def test_R_CAT_9_five_g_flags_follow_rules():
    for o in DATA["offers"]:
        assert o["five_g_included"] == rules.five_g_included(o["network"], o["range"], o["data_bytes"]), o[
            "code"
        ]


def test_R_CAT_10_topups_per_network_and_family():
    families = Counter((t["network"], t["family"]) for t in DATA["topups"])
    assert families == {
        ("orange", "illimite"): 8,
        ("bouygues", "illimite"): 8,
        ("orange", "data_only"): 9,
        ("bouygues", "data_only"): 9,
        ("orange", "m2m"): 6,
    }
    for t in DATA["topups"]:
        assert t["data_bytes"] in rules.TOPUP_VOLUMES[t["family"]]


def test_R_CAT_11_fair_use_in_unlimited_offers_details():
    for o in offers("orange", "illimite") + offers("bouygues", "illimite") + offers("orange", "travel"):
        fair = o["details"]["fair_use"]
        assert fair["max_distinct_called_numbers_per_month"] == 250
        assert fair["max_call_seconds"] == 2 * 3600
        assert fair["max_distinct_sms_mms_recipients_per_month"] == 250
        assert fair["permanent_call_forwarding_included"] is False
    assert one("orange", "illimite", None)["details"]["fair_use"]["orange_max_sms_per_hour"] == 500
    assert "orange_max_sms_per_hour" not in one("bouygues", "illimite", None)["details"]["fair_use"]


def test_R_OPT_codes_match_rules():
    for network in ("orange", "bouygues"):
        codes = {code for (net, code), o in OPTIONS.items() if net == network and o["kind"] == "service"}
        assert codes == set(rules.SERVICE_OPTIONS[network])


def test_R_OPT_1_volte_vowifi_free_and_not_orderable():
    for network in ("orange", "bouygues"):
        o = OPTIONS[(network, "volte_vowifi")]
        assert o["orderable"] is False and o["monthly_price_ht"] == "0.00"


def test_R_OPT_2_esim_fas_orange_only():
    assert OPTIONS[("orange", "esim")]["fas_ht"] == "1.50"
    assert ("bouygues", "esim") not in OPTIONS


def test_R_OPT_3_fixed_ip_prices_and_partner_platform():
    assert OPTIONS[("orange", "fixed_ip")]["monthly_price_ht"] == "5.00"
    assert OPTIONS[("bouygues", "fixed_ip")]["monthly_price_ht"] == "2.00"
    for network in ("orange", "bouygues"):
        platform = OPTIONS[(network, "partner_platform")]
        assert platform["requires_init_sys"] is True and platform["monthly_price_ht"] == "0.00"


def test_R_CAT_9_five_g_option_orange_only_price_unknown():
    assert OPTIONS[("orange", "five_g")]["monthly_price_ht"] is None
    assert ("bouygues", "five_g") not in OPTIONS


def _roaming(network, zone, kind, ranges=None, option_type=None):
    return {
        c["limit"]: c["price_ht"]
        for c in DATA["roaming_choices"]
        if c["network"] == network
        and c["zone"] == zone
        and c["kind"] == kind
        and (ranges is None or c["ranges"] == ranges)
        and (option_type is None or c["option_type"] == option_type)
    }


@pytest.mark.parametrize("zone", ["usa_canada", "maghreb_turquie", "reste_du_monde"])
def test_R_OPT_5_orange_illimite_cutoffs_and_options(zone):
    cutoffs = _roaming("orange", zone, "cutoff", ["illimite"])
    assert cutoffs == {v: None for v in (0, 500 * MB, GB, 5 * GB, 10 * GB, 30 * GB, 50 * GB)}
    options = _roaming("orange", zone, "option", ["illimite"])
    assert options == {
        GB: "10.00",
        3 * GB: "25.00",
        5 * GB: "45.00",
        10 * GB: "85.00",
        20 * GB: "165.00",
        30 * GB: "250.00",
    }


@pytest.mark.parametrize("zone", ["maghreb_turquie", "reste_du_monde"])
def test_R_OPT_5_travel_cutoffs_and_options(zone):
    assert _roaming("orange", zone, "cutoff", ["travel"]) == {v: None for v in (0, GB, 5 * GB, 10 * GB)}
    assert _roaming("orange", zone, "option", ["travel"], "data") == {
        GB: "25.00",
        2 * GB: "50.00",
        3 * GB: "75.00",
        5 * GB: "125.00",
        10 * GB: "250.00",
    }
    assert _roaming("orange", zone, "option", ["travel"], "voice_sms_data") == {
        GB: "60.00",
        2 * GB: "85.00",
        3 * GB: "110.00",
        5 * GB: "160.00",
        10 * GB: "290.00",
    }
    assert _roaming("orange", "usa_canada", "option", ["travel"]) == {}


@pytest.mark.parametrize("zone", ["europe", "monde"])
def test_R_ROA_4_bouygues_cutoffs_euros(zone):
    rows = [c for c in DATA["roaming_choices"] if c["network"] == "bouygues" and c["zone"] == zone]
    assert sorted(c["limit"] for c in rows) == [0, 50, 100, 200]
    assert {c["unit"] for c in rows} == {"eur"} and {c["kind"] for c in rows} == {"cutoff"}


def test_R_ROA_3_orange_europe_cutoff_not_stored():
    assert not [c for c in DATA["roaming_choices"] if c["network"] == "orange" and c["zone"] == "europe"]
