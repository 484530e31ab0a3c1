"""catalog.rules — pure eligibility rules (no database)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from catalog import rules
from catalog.rules import OfferFacts, RoamingChoiceFacts
from core.errors import RuleViolation
from core.money import GB, MB, TB

PARIS = ZoneInfo("Europe/Paris")

ILL_GB = (1, 5, 10, 30, 50, 100, 250, 500)
DATA_VOLUMES = [v * GB for v in (1, 10, 20, 50, 100, 150, 200, 500)] + [TB]


def offer(network="orange", range_="illimite", data=10 * GB, blocked=True, code=None):
    return OfferFacts(
        code=code or f"{network}-{range_}-{data}-{blocked}",
        network=network,
        range=range_,
        data_bytes=data,
        blocked=blocked,
        five_g_included=rules.five_g_included(network, range_, data),
    )


# --- R-CAT-9: 5G --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "range_", "data", "included"),
    [
        ("orange", "illimite", 30 * GB, False),
        ("orange", "illimite", 50 * GB, True),
        ("orange", "illimite", 500 * GB, True),
        ("orange", "illimite", None, False),
        ("orange", "data_only", 20 * GB, False),
        ("orange", "data_only", 50 * GB, True),
        ("orange", "data_only", TB, True),
        ("orange", "m2m", 500 * MB, False),
        ("orange", "travel", 20 * GB, True),
        ("orange", "compteur", None, True),
        ("bouygues", "illimite", 1 * GB, True),
        ("bouygues", "illimite", None, True),
        ("bouygues", "data_only", 1 * GB, True),
        ("bouygues", "compteur_data", 500 * MB, True),
    ],
)
def test_R_CAT_9_five_g_included(network, range_, data, included):
    assert rules.five_g_included(network, range_, data) is included


def test_R_CAT_9_orange_below_50_go_five_g_is_an_option():
    o = offer("orange", "illimite", 30 * GB)
    assert rules.five_g(o).allowed and rules.five_g(o).rule == "R-CAT-9"
    assert rules.five_g_is_option(o)
    assert rules.option_eligibility(o, rules.FIVE_G).allowed


def test_R_CAT_9_five_g_option_refused_when_included_or_without_data():
    assert not rules.option_eligibility(offer("orange", "illimite", 50 * GB), rules.FIVE_G).allowed
    assert not rules.option_eligibility(offer("bouygues", "illimite", 5 * GB), rules.FIVE_G).allowed
    assert not rules.option_eligibility(offer("orange", "illimite", None, None), rules.FIVE_G).allowed


def test_R_CAT_6_m2m_has_no_five_g():
    decision = rules.five_g(offer("orange", "m2m", 10 * MB))
    assert not decision.allowed and decision.rule == "R-CAT-6"


# --- R-CAT-10 / R-CAT-6 / R-CAT-4: top-ups ------------------------------------------------------------------


@pytest.mark.parametrize("blocked", [True, False])
@pytest.mark.parametrize("gb", ILL_GB)
def test_R_CAT_10_orange_illimite_every_topup_blocked_or_not(gb, blocked):
    assert rules.allowed_topups(offer("orange", "illimite", gb * GB, blocked)) == [v * GB for v in ILL_GB]


@pytest.mark.parametrize("gb", ILL_GB)
def test_R_CAT_10_bouygues_blocked_every_topup(gb):
    assert rules.allowed_topups(offer("bouygues", "illimite", gb * GB, True)) == [v * GB for v in ILL_GB]


@pytest.mark.parametrize("gb", ILL_GB)
def test_R_CAT_10_bouygues_non_blocked_only_own_volume(gb):
    assert rules.allowed_topups(offer("bouygues", "illimite", gb * GB, False)) == [gb * GB]


def test_R_CAT_10_bouygues_non_blocked_30_go_only_30_go_topup():
    o = offer("bouygues", "illimite", 30 * GB, False)
    assert rules.allowed_topups(o) == [30 * GB]
    refused = rules.topup_eligibility(o, 5 * GB)
    assert not refused.allowed and refused.rule == "R-CAT-10"
    assert "même volume" in refused.reason or "volume du forfait" in refused.reason
    assert rules.topup_eligibility(o, 30 * GB).allowed


def test_R_CAT_10_data_only_topups():
    assert rules.allowed_topups(offer("orange", "data_only", 10 * GB, False)) == DATA_VOLUMES
    assert rules.allowed_topups(offer("bouygues", "data_only", 10 * GB, True)) == DATA_VOLUMES
    assert rules.allowed_topups(offer("bouygues", "data_only", TB, False)) == [TB]


def test_R_CAT_10_topup_volume_of_another_range_refused():
    # 20 Go exists for Data only, not for Illimité
    assert not rules.topup_eligibility(offer("orange", "illimite", 10 * GB), 20 * GB).allowed
    assert rules.topup_eligibility(offer("orange", "data_only", 10 * GB), 20 * GB).allowed


def test_R_CAT_10_no_topup_without_data():
    assert rules.allowed_topups(offer("orange", "illimite", None, None)) == []
    assert not rules.topup_eligibility(offer("orange", "illimite", None, None), 1 * GB).allowed


COMPTEUR_OFFERS = [
    offer("orange", "compteur", None, None),
    offer("bouygues", "compteur", None, None),
    offer("orange", "compteur_data", 500 * MB, None),
    offer("bouygues", "compteur_data", 500 * MB, None),
]


@pytest.mark.parametrize("o", COMPTEUR_OFFERS, ids=lambda o: o.code)
def test_R_CAT_7_compteur_topup_only_when_threshold_reached(o):
    below = rules.topup_eligibility(o, 5 * GB)
    assert not below.allowed and below.rule == "R-CAT-7" and "seuil data" in below.reason
    assert rules.allowed_topups(o) == []  # below the threshold: nothing to buy

    # reached: the Illimité volumes up to 100 Go, the largest threshold (a reading: the seed lists none)
    assert rules.allowed_topups(o, threshold_reached=True) == [v * GB for v in (1, 5, 10, 30, 50, 100)]
    assert rules.topup_eligibility(o, 5 * GB, threshold_reached=True).allowed
    too_big = rules.topup_eligibility(o, 250 * GB, threshold_reached=True)
    assert not too_big.allowed and too_big.rule == "R-CAT-7"
    assert not rules.topup_eligibility(o, 20 * GB, threshold_reached=True).allowed  # a Data only volume
    assert rules.topup_catalog_family(o.range) == "illimite"


def test_R_CAT_7_threshold_reached_changes_nothing_for_plans():
    o = offer("bouygues", "illimite", 30 * GB, False)
    assert rules.allowed_topups(o, threshold_reached=True) == rules.allowed_topups(o) == [30 * GB]


def test_R_CAT_6_m2m_topups():
    assert rules.allowed_topups(offer("orange", "m2m", 10 * MB, False)) == [
        v * MB for v in (10, 25, 50, 100, 250, 500)
    ]
    assert not rules.topup_eligibility(offer("orange", "m2m", 10 * MB), 1 * GB).allowed


def test_R_CAT_4_travel_no_topup_upgrade_needed():
    decision = rules.topup_eligibility(offer("orange", "travel", 20 * GB, False), 1 * GB)
    assert not decision.allowed and decision.rule == "R-CAT-4" and "upgrade" in decision.reason
    assert rules.allowed_topups(offer("orange", "travel", 20 * GB, False)) == []


# --- R-OPT-1..3: VoLTE, eSIM, fixed IP, partner platform ----------------------------------------------------


def test_R_OPT_1_volte_vowifi_nothing_to_order():
    decision = rules.option_eligibility(offer(), rules.VOLTE_VOWIFI)
    assert not decision.allowed and decision.rule == "R-OPT-1" and "rien à commander" in decision.reason


def test_R_OPT_2_esim_orange_only():
    assert rules.esim_eligibility("orange").allowed
    refused = rules.esim_eligibility("bouygues")
    assert not refused.allowed and refused.rule == "R-OPT-2"
    assert not rules.option_eligibility(offer("bouygues", "illimite", 10 * GB), rules.ESIM).allowed
    assert rules.option_eligibility(offer("orange", "data_only", 10 * GB), rules.ESIM).allowed


@pytest.mark.parametrize(
    ("network", "range_", "data", "blocked", "allowed"),
    [
        ("orange", "illimite", 30 * GB, False, False),  # Orange non-blocked plan: refused
        ("orange", "illimite", 30 * GB, True, True),
        ("orange", "data_only", 10 * GB, False, False),
        ("orange", "data_only", 10 * GB, True, True),
        ("orange", "m2m", 10 * MB, True, True),
        ("orange", "m2m", 10 * MB, False, False),
        ("orange", "travel", 20 * GB, False, False),
        ("orange", "compteur", None, None, True),
        ("orange", "compteur_data", 500 * MB, None, True),
        ("orange", "illimite", None, None, False),  # no data at all
        ("bouygues", "illimite", 30 * GB, False, True),
        ("bouygues", "illimite", 30 * GB, True, True),
        ("bouygues", "data_only", 1 * GB, False, True),
        ("bouygues", "compteur", None, None, True),
        ("bouygues", "illimite", None, None, False),
    ],
)
def test_R_OPT_3_fixed_ip_matrix(network, range_, data, blocked, allowed):
    decision = rules.option_eligibility(offer(network, range_, data, blocked), rules.FIXED_IP)
    assert decision.allowed is allowed
    assert decision.rule == "R-OPT-3"


def test_R_OPT_3_fixed_ip_refused_on_orange_non_blocked_plan_says_why():
    decision = rules.option_eligibility(offer("orange", "illimite", 30 * GB, False), rules.FIXED_IP)
    assert not decision.allowed
    assert "bloqués" in decision.reason


def test_R_OPT_3_partner_platform_init_sys_only():
    o = offer("orange", "data_only", 10 * GB, True)
    refused = rules.option_eligibility(o, rules.PARTNER_PLATFORM, partner_is_init_sys=False)
    assert not refused.allowed and refused.rule == "R-OPT-3" and "Init Sys" in refused.reason
    assert rules.option_eligibility(o, rules.PARTNER_PLATFORM, partner_is_init_sys=True).allowed
    # Init Sys does not lift the Orange blocked-plan condition
    nb = offer("orange", "data_only", 10 * GB, False)
    assert not rules.option_eligibility(nb, rules.PARTNER_PLATFORM, partner_is_init_sys=True).allowed


def test_R_OPT_3_option_termination_orange_next_month_bouygues_at_once():
    now = dt.datetime(2025, 5, 14, 10, 0, tzinfo=PARIS)
    assert rules.option_termination_effective_at("orange", now) == dt.datetime(2025, 6, 1, tzinfo=PARIS)
    assert rules.option_termination_effective_at("bouygues", now) == now


# --- R-OPT-6/7: service options -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", rules.ORANGE_SERVICE_OPTIONS)
def test_R_OPT_6_orange_service_options(code):
    decision = rules.option_eligibility(offer("orange", "illimite", 10 * GB), code)
    assert decision.allowed and decision.rule == "R-OPT-6"
    assert not rules.option_eligibility(offer("orange", "data_only", 10 * GB), code).allowed


@pytest.mark.parametrize("code", rules.BOUYGUES_SERVICE_OPTIONS)
def test_R_OPT_7_bouygues_service_options(code):
    decision = rules.option_eligibility(offer("bouygues", "illimite", 10 * GB), code)
    assert decision.allowed and decision.rule == "R-OPT-7"
    assert not rules.option_eligibility(offer("bouygues", "compteur_data", 500 * MB, None), code).allowed


def test_R_OPT_6_7_service_options_of_the_other_network_refused():
    assert not rules.option_eligibility(offer("bouygues", "illimite", 10 * GB), "conference").allowed
    assert not rules.option_eligibility(offer("orange", "illimite", 10 * GB), "sva_block").allowed
    assert len(rules.ORANGE_SERVICE_OPTIONS) == 4 and len(rules.BOUYGUES_SERVICE_OPTIONS) == 9


def test_unknown_option_refused():
    assert not rules.option_eligibility(offer(), "nope").allowed


def test_decision_raise_if_refused():
    refused = rules.esim_eligibility("bouygues")
    with pytest.raises(RuleViolation) as exc:
        refused.raise_if_refused(field="esim")
    assert exc.value.rule == "R-OPT-2" and exc.value.field == "esim"
    rules.esim_eligibility("orange").raise_if_refused()


# --- R-OPT-4/5, R-ROA-3/4: roaming --------------------------------------------------------------------------


def _choice(zone, kind, limit, network="orange", unit="bytes", ranges=("illimite",), price=None):
    return RoamingChoiceFacts(
        zone=zone, kind=kind, limit=limit, unit=unit, price_ht=price, network=network, ranges=ranges
    )


def test_R_ROA_3_orange_europe_cutoff_equals_envelope():
    o = offer("orange", "illimite", 30 * GB, True)
    choices = rules.roaming_choices(o, [])
    assert [c.as_export() for c in choices] == [
        {"zone": "europe", "kind": "cutoff", "limit": 30 * GB, "unit": "bytes", "price_ht": None}
    ]
    assert rules.roaming_choice_eligibility(o, _choice("europe", "cutoff", 30 * GB)).allowed
    refused = rules.roaming_choice_eligibility(o, _choice("europe", "cutoff", 5 * GB))
    assert not refused.allowed and refused.rule == "R-ROA-3"


def test_R_ROA_3_orange_without_data_europe_cutoff_zero():
    assert rules.orange_europe_cutoff(offer("orange", "illimite", None, None)).limit == 0


def test_R_OPT_5_orange_illimite_zones_cutoff_or_option():
    zones = {z.zone: z for z in rules.roaming_zones(offer("orange", "illimite", 10 * GB))}
    assert set(zones) == {"europe", "usa_canada", "maghreb_turquie", "reste_du_monde"}
    for z in ("usa_canada", "maghreb_turquie", "reste_du_monde"):
        assert zones[z].allowed and zones[z].kinds == ("cutoff", "option") and zones[z].rule == "R-OPT-5"
    option = _choice("usa_canada", "option", 3 * GB, price=Decimal("25"))
    assert rules.roaming_choice_eligibility(offer("orange", "illimite", 10 * GB), option).allowed


def test_R_OPT_4_roaming_options_only_on_voice_plus_data_plans():
    sans_data = offer("orange", "illimite", None, None)
    option = _choice("maghreb_turquie", "option", 1 * GB, price=Decimal("10"))
    refused = rules.roaming_choice_eligibility(sans_data, option)
    assert not refused.allowed and refused.rule == "R-OPT-4"
    assert rules.roaming_choice_eligibility(sans_data, _choice("maghreb_turquie", "cutoff", 0)).allowed


def test_R_OPT_5_travel_chooses_maghreb_and_rest_of_world_only():
    travel = offer("orange", "travel", 20 * GB, False)
    zones = {z.zone: z for z in rules.roaming_zones(travel)}
    assert not zones["usa_canada"].allowed and zones["usa_canada"].rule == "R-CAT-4"
    assert zones["maghreb_turquie"].allowed and zones["reste_du_monde"].allowed
    travel_option = _choice("reste_du_monde", "option", 1 * GB, ranges=("travel",), price=Decimal("60"))
    illimite_option = _choice("reste_du_monde", "option", 1 * GB, ranges=("illimite",), price=Decimal("10"))
    assert rules.roaming_choice_eligibility(travel, travel_option).allowed
    assert not rules.roaming_choice_eligibility(travel, illimite_option).allowed
    assert not rules.roaming_choice_eligibility(offer("orange", "illimite", 10 * GB), travel_option).allowed
    assert rules.orange_europe_cutoff(travel) is None


def test_R_ROA_4_bouygues_cutoffs_in_euros_europe_and_world():
    o = offer("bouygues", "illimite", 10 * GB, True)
    zones = rules.roaming_zones(o)
    assert [(z.zone, z.kinds, z.unit, z.rule) for z in zones] == [
        ("europe", ("cutoff",), "eur", "R-ROA-4"),
        ("monde", ("cutoff",), "eur", "R-ROA-4"),
    ]
    cut = _choice("monde", "cutoff", 50, network="bouygues", unit="eur")
    assert rules.roaming_choice_eligibility(o, cut).allowed
    orange_cut = _choice("usa_canada", "cutoff", 0)
    assert not rules.roaming_choice_eligibility(o, orange_cut).allowed


@pytest.mark.parametrize(
    ("range_", "data", "rule"),
    [("data_only", 10 * GB, "R-CAT-5"), ("m2m", 10 * MB, "R-CAT-6"), ("compteur_data", 500 * MB, "R-CAT-8")],
)
def test_no_roaming_on_data_only_m2m_compteur_data(range_, data, rule):
    o = offer("orange", range_, data, True)
    assert all(not z.allowed and z.rule == rule for z in rules.roaming_zones(o))
    assert rules.roaming_choices(o, [_choice("usa_canada", "cutoff", 0, ranges=(range_,))]) == []


# --- R-CON-1..3: offer changes ------------------------------------------------------------------------------


def test_R_CON_1_upgrade_and_downgrade_same_range():
    small, big = offer("orange", "illimite", 10 * GB, True), offer("orange", "illimite", 30 * GB, True)
    up = rules.offer_change(small, big)
    assert up.allowed and up.kind == "upgrade" and up.rule == "R-CON-1"
    down = rules.offer_change(big, small)
    assert down.allowed and down.kind == "downgrade"


def test_R_CON_2_migration_blocked_non_blocked():
    a, b = offer("bouygues", "data_only", 10 * GB, True), offer("bouygues", "data_only", 10 * GB, False)
    decision = rules.offer_change(a, b)
    assert decision.allowed and decision.kind == "migration" and decision.rule == "R-CON-2"
    assert rules.offer_change(b, a).kind == "migration"


@pytest.mark.parametrize(
    ("src", "dst", "words"),
    [
        (("orange", "data_only", 10 * GB, True), ("orange", "illimite", 10 * GB, True), "gamme"),
        (("orange", "travel", 20 * GB, False), ("orange", "illimite", 30 * GB, False), "Travel"),
        (("orange", "illimite", 10 * GB, True), ("orange", "compteur", None, None), "compteur"),
        (("bouygues", "data_only", 10 * GB, True), ("bouygues", "compteur_data", 500 * MB, None), "compteur"),
        (("orange", "illimite", 10 * GB, True), ("orange", "travel", 20 * GB, False), "gamme"),
        (("orange", "m2m", 10 * MB, True), ("orange", "data_only", 1 * GB, True), "gamme"),
    ],
)
def test_R_CON_3_refused_changes(src, dst, words):
    decision = rules.offer_change(offer(*src), offer(*dst))
    assert not decision.allowed and decision.rule == "R-CON-3" and decision.kind == ""
    assert words in decision.reason


def test_R_CON_3_data_only_to_illimite_refused():
    decision = rules.offer_change(offer("orange", "data_only", 10 * GB), offer("orange", "illimite", 10 * GB))
    assert not decision.allowed and decision.rule == "R-CON-3"


def test_R_CON_3_travel_to_classic_refused():
    decision = rules.offer_change(
        offer("orange", "travel", 20 * GB, False), offer("orange", "illimite", None, None)
    )
    assert not decision.allowed and decision.rule == "R-CON-3" and "Travel" in decision.reason


def test_R_CON_3_plan_to_compteur_refused():
    decision = rules.offer_change(
        offer("bouygues", "illimite", 5 * GB), offer("bouygues", "compteur", None, None)
    )
    assert not decision.allowed and decision.rule == "R-CON-3"


def test_R_CAT_1_no_change_across_networks_or_to_same_offer():
    assert not rules.offer_change(offer("orange"), offer("bouygues")).allowed
    same = offer("orange")
    assert not rules.offer_change(same, same).allowed


def test_allowed_offer_changes_lists_codes():
    src = offer("orange", "travel", 20 * GB, False, code="T20")
    candidates = [
        offer("orange", "travel", 50 * GB, False, code="T50"),
        offer("orange", "illimite", 50 * GB, False, code="I50"),
        src,
    ]
    assert rules.allowed_offer_changes(src, candidates) == ["T50"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2025, 5, 14, 10, 0, tzinfo=PARIS), dt.datetime(2025, 6, 1, tzinfo=PARIS)),
        # month end, last minute in Paris
        (dt.datetime(2025, 1, 31, 23, 59, tzinfo=PARIS), dt.datetime(2025, 2, 1, tzinfo=PARIS)),
        # year end
        (dt.datetime(2025, 12, 31, 23, 30, tzinfo=PARIS), dt.datetime(2026, 1, 1, tzinfo=PARIS)),
        # 1st of the month at midnight: already this month, next change on the 1st of next month
        (dt.datetime(2025, 3, 1, 0, 0, tzinfo=PARIS), dt.datetime(2025, 4, 1, tzinfo=PARIS)),
        # UTC instant still in January, but already February in Paris
        (dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC), dt.datetime(2025, 3, 1, tzinfo=PARIS)),
    ],
)
def test_R_CON_1_effective_first_of_next_month(now, expected):
    assert rules.offer_change_effective_at(now) == expected


@pytest.mark.parametrize(
    ("travel_to", "expected_utc"),
    [
        # March 2025: clocks go forward on the 30th; April 1st 00:00 Paris is CEST (UTC+2)
        ("2025-03-15T12:00:00+01:00", dt.datetime(2025, 3, 31, 22, 0, tzinfo=dt.UTC)),
        # October 2025: clocks go back on the 26th; November 1st 00:00 Paris is CET (UTC+1)
        ("2025-10-26T02:30:00+01:00", dt.datetime(2025, 10, 31, 23, 0, tzinfo=dt.UTC)),
        # Dec 31, 23:30 UTC = Jan 1st 00:30 Paris: next change on Feb 1st
        ("2025-12-31T23:30:00+00:00", dt.datetime(2026, 1, 31, 23, 0, tzinfo=dt.UTC)),
    ],
)
def test_R_CON_1_effective_date_across_dst_and_year_end_with_time_machine(travel_to, expected_utc):
    with time_machine.travel(travel_to, tick=False):
        effective = rules.offer_change_effective_at(timezone.now())
    assert effective == expected_utc
    local = effective.astimezone(PARIS)
    assert (local.day, local.hour, local.minute) == (1, 0, 0)
    assert effective.utcoffset() is not None


def test_effective_date_requires_aware_datetime():
    with pytest.raises(ValueError):
        rules.offer_change_effective_at(dt.datetime(2025, 1, 1))
