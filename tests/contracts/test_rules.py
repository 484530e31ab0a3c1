"""Pure rules of contracts: RIO (ID-RIO), MSISDN forms, technical settings (R-SET-1..4), possible actions (R-CON-9)."""

from datetime import date

import pytest

from contracts import rules

# --- ID-RIO --------------------------------------------------------------------------------------------------


def test_rio_key_of_the_spec_example():
    assert rules.rio_key("01P123456", "0612345678") == "36Q"


@pytest.mark.parametrize(
    "rio, number",
    [
        ("01P12345636Q", "0612345678"),
        ("01p12345636q", "0612345678"),  # case-insensitive
        ("01 P 123456 36Q", "06 12 34 56 78"),  # spaces ignored
        ("01P12345636Q", "+33612345678"),  # international form of the number
    ],
)
def test_R_ORD_2_valid_rio_accepted(rio, number):
    assert rules.rio_check(rio, number) is None
    assert rules.rio_is_valid(rio, number)


def test_R_ORD_2_rio_key_computed_from_the_number():
    """The same RIO is wrong for another number: the key depends on the number."""
    for operator, kind, contract in [("03", "E", "A1B2C3"), ("04", "P", "ZZZZZZ"), ("0A", "E", "000001")]:
        prefix = operator + kind + contract
        key = rules.rio_key(prefix, "0755555555")
        assert rules.rio_is_valid(prefix + key, "0755555555")
        assert rules.rio_key(prefix, "0755555556") != key
        assert not rules.rio_is_valid(prefix + key, "0755555556")


@pytest.mark.parametrize(
    "rio, code",
    [
        ("01P12345636A", "key"),  # bad key
        ("01P12345636", "length"),  # 11 characters
        ("01P12345636QQ", "length"),  # 13 characters
        ("00P12345636Q", "operator"),  # no operator 00
        ("#1P12345636Q", "operator"),  # operator must be alphanumeric
        ("01X12345636Q", "kind"),  # P or E only
        ("01P12-45636Q", "contract"),
        ("01P123456$6Q", "key"),
    ],
)
def test_R_ORD_2_bad_rio_refused_with_reason(rio, code):
    error = rules.rio_check(rio, "0612345678")
    assert error is not None
    assert error.code == code
    assert error.message  # French reason shown to the partner


def test_rio_refused_when_number_is_not_national():
    assert rules.rio_check("01P12345636Q", "12345").code == "number"


# --- ID-MSISDN ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, national",
    [
        ("+33 6 12 34 56 78", "0612345678"),
        ("0033612345678", "0612345678"),
        ("06.12.34.56.78", "0612345678"),
        ("33612345678", "0612345678"),
        ("337000080910112", "07000080910112"),
        ("", ""),
    ],
)
def test_msisdn_forms(raw, national):
    assert rules.msisdn_from_any(raw) == national


def test_msisdn_validation_and_international_forms():
    assert rules.is_mobile_number("0612345678")
    assert not rules.is_mobile_number("0712345678")  # 071 not allocated
    assert not rules.is_mobile_number("0145678912")
    assert rules.is_m2m_number("07000080910112")
    assert rules.msisdn_international("0612345678") == "33612345678"
    assert rules.msisdn_15d("07000080910112") == "337000080910112"
    assert rules.msisdn_display("0612345678") == "06 12 34 56 78"


# --- R-SET-1..4 -----------------------------------------------------------------------------------------------


def _rows(sections, title):
    section = next(s for s in sections if s.title == title)
    return dict(section.rows), section.rule


@pytest.mark.parametrize(
    "network, line, other",
    [("orange", "888", "+33 6 07 07 88 88"), ("bouygues", "777", "+33 6 60 66 00 01")],
)
def test_R_SET_1_voicemail_numbers(network, line, other):
    rows, rule = _rows(rules.technical_settings(network=network, msisdn="0612345678"), "Messagerie vocale")
    assert rule == "R-SET-1"
    assert line in rows.values() and other in rows.values()


def test_R_SET_2_orange_apn_and_fixed_ip_and_partner_platform_logins():
    sections = rules.technical_settings(
        network="orange",
        msisdn="07000080910112",
        has_fixed_ip=True,
        has_partner_platform=True,
        partner_is_init_sys=True,
    )
    apn, rule = _rows(sections, "APN Internet")
    assert rule == "R-SET-2"
    assert apn["Nom"] == "Orange internet" and apn["APN"] == "orange" and apn["MNC"] == "01"
    assert apn["MMSC"] == "http://mms.orange.fr"
    fixed, _ = _rows(sections, "IP fixe")
    assert fixed["Identifiant"] == "337000080910112@alpha.otd"  # 15-digit MSISDN
    assert fixed["APN"] == "telcomobile.com"
    platform, _ = _rows(sections, "Livraison plateforme partenaire")
    assert platform["Identifiant"] == "337000080910112@partenaire.otd"


def test_R_SET_2_partner_platform_only_for_init_sys_and_several_visps():
    titles = [
        s.title
        for s in rules.technical_settings(network="orange", msisdn="0612345678", has_partner_platform=True)
    ]
    assert "Livraison plateforme partenaire" not in titles
    sections = rules.technical_settings(
        network="orange",
        msisdn="07000080910112",
        has_partner_platform=True,
        partner_is_init_sys=True,
        visp_index=2,
    )
    rows, _ = _rows(sections, "Livraison plateforme partenaire")
    assert rows["Identifiant"].endswith("@partenaire2.otd")


def test_R_SET_3_bouygues_apn_and_partner_platform_login_11_digits():
    sections = rules.technical_settings(
        network="bouygues",
        msisdn="0612345678",
        has_fixed_ip=True,
        has_partner_platform=True,
        partner_is_init_sys=True,
    )
    apn, rule = _rows(sections, "APN Internet")
    assert rule == "R-SET-3"
    assert apn["APN"] == "mmsbouygtel.com" and apn["MNC"] == "20"
    assert apn["Type d'APN"] == "default,supl,mms,xcap"
    platform, _ = _rows(sections, "Livraison plateforme partenaire")
    assert platform["Identifiant"] == "33612345678@partenaire.btd"
    assert platform["lptype"] == "4"


def test_R_SET_2_login_placeholder_when_orange_has_not_given_the_number_yet():
    sections = rules.technical_settings(network="orange", msisdn=None, has_fixed_ip=True)
    rows, _ = _rows(sections, "IP fixe")
    assert "@alpha.otd" in rows["Identifiant"] and "opérateur" in rows["Identifiant"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"network": "orange", "sim_received_on": date(2023, 6, 12)}, "Telco Mobile"),
        ({"network": "orange", "sim_received_on": date(2023, 6, 13)}, "Orange"),
        ({"network": "orange", "is_esim": True, "esim_activated_on": date(2024, 9, 18)}, "Telco Mobile"),
        ({"network": "orange", "is_esim": True, "esim_activated_on": date(2024, 9, 19)}, "Orange"),
        # a physical SIM date does not matter for an eSIM
        (
            {
                "network": "orange",
                "is_esim": True,
                "sim_received_on": date(2020, 1, 1),
                "today": date(2026, 1, 1),
            },
            "Orange",
        ),
        ({"network": "bouygues", "line_activated_on": date(2025, 4, 14)}, "Telco Mobile"),
        ({"network": "bouygues", "line_activated_on": date(2025, 4, 15)}, "Bouygues Tel"),
        ({"network": "bouygues", "today": date(2026, 1, 1)}, "Bouygues Tel"),  # not live yet
    ],
)
def test_R_SET_4_network_name_by_dates(kwargs, expected):
    assert rules.network_name(**kwargs) == expected
    sections = rules.technical_settings(msisdn="0612345678", **kwargs)
    rows, rule = _rows(sections, "Réseau affiché")
    assert rule == "R-SET-4" and rows["Profil électrique"] == expected


# --- R-CON-9 --------------------------------------------------------------------------------------------------


def _actions(**kwargs):
    return {a.code: a for a in rules.possible_actions(**kwargs)}


@pytest.mark.parametrize(
    "state, enabled",
    [
        ("pending", set()),
        ("terminating", set()),
        ("terminated", set()),
        ("failed", {"retry"}),
        ("active", {"terminate", "suspend", "change_speed", "migrate", "swap_sim", "swap_esim", "topup"}),
        ("suspended", {"terminate", "resume", "swap_sim", "swap_esim"}),
    ],
)
def test_R_CON_9_actions_enabled_per_state(state, enabled):
    actions = _actions(state=state, network="orange")
    assert {code for code, a in actions.items() if a.enabled} == enabled
    for a in actions.values():
        assert a.enabled or a.reason, f"{a.code} greyed without a reason"
    assert {"terminate", "suspend", "resume", "change_speed", "migrate", "swap_sim", "swap_esim"} <= set(
        actions
    )
    assert actions["terminate"].label == "À résilier"


def test_R_CAT_10_topup_greyed_on_a_suspended_line_and_with_the_offer_reason():
    suspended = _actions(state="suspended", network="orange")["topup"]
    assert not suspended.enabled and "suspendue" in suspended.reason and suspended.rule == "R-CON-5"
    compteur = _actions(state="active", network="orange", topup_reason="seuil", topup_rule="R-CAT-7")["topup"]
    assert not compteur.enabled and compteur.rule == "R-CAT-7" and compteur.label == "Recharge data"


def test_R_CON_9_esim_swap_greyed_on_bouygues_with_R_OPT_2_reason():
    action = _actions(state="active", network="bouygues")["swap_esim"]
    assert not action.enabled and "Orange" in action.reason and action.rule == "R-OPT-2"


@pytest.mark.parametrize(
    "kwargs, code, words",
    [
        ({"has_sim_stock": False}, "swap_sim", "Aucune carte SIM"),
        ({"has_other_envelopes": False}, "change_speed", "Aucune autre enveloppe"),
        ({"has_migration_target": False}, "migrate", "équivalente"),
        ({"is_counter_offer": True}, "change_speed", "compteur"),
        ({"has_scheduled_change": True}, "migrate", "déjà programmé"),
        ({"esim_swap_allowed": False}, "swap_esim", "pas autorisé"),
        (
            {"topup_reason": "Pas de recharge sur cette offre.", "topup_rule": "R-CAT-10"},
            "topup",
            "Pas de recharge",
        ),
    ],
)
def test_R_CON_9_greyed_with_reason(kwargs, code, words):
    action = _actions(state="active", network="orange", **kwargs)[code]
    assert not action.enabled
    assert words in action.reason


@pytest.mark.parametrize(("network", "chosen"), [("bouygues", True), ("orange", False)])
def test_R_CON_6_only_bouygues_numbers_are_chosen_at_order(network, chosen):
    from contracts.rules import number_chosen_at_order

    assert number_chosen_at_order(network) is chosen
