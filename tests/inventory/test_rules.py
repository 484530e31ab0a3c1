"""Pure identifier rules: ICCID (ID-ICCID), PIN/PUK, MSISDN (ID-MSISDN), LPA activation code (ID-LPA)."""

import pytest
from stdnum import luhn

from inventory import rules
from tests.factories.inventory import make_iccid, make_m2m_number, make_msisdn

VALID_19 = make_iccid(1234, length=19)
VALID_20 = make_iccid(1234, length=20)


def _bad_luhn(iccid: str) -> str:
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


def test_factory_iccids_are_valid_and_unique():
    made = {
        make_iccid(n, network=net, length=length)
        for n in range(300)
        for net in ("orange", "bouygues")
        for length in (19, 20)
    }
    assert len(made) == 1200
    assert all(rules.iccid_error(i) is None for i in made)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (VALID_19, True),
        (VALID_20, True),
        (VALID_19 + "F", True),  # a 19-digit ICCID padded with F in listings
        (VALID_19 + "f", True),
        (" ".join([VALID_20[:4], VALID_20[4:10], VALID_20[10:]]), True),  # spaces tolerated
        (_bad_luhn(VALID_19), False),  # wrong Luhn key
        (_bad_luhn(VALID_20), False),
        ("8944" + VALID_19[4:-1] + luhn.calc_check_digit("8944" + VALID_19[4:-1]), False),  # not France
        ("7933" + VALID_19[4:-1] + luhn.calc_check_digit("7933" + VALID_19[4:-1]), False),  # not telecom
        (VALID_19[:-2] + luhn.calc_check_digit(VALID_19[:-2]), False),  # 18 digits
        ("8933" + "1" * 16 + luhn.calc_check_digit("8933" + "1" * 16), False),  # 21 digits
        (VALID_19[:-1] + "X", False),
        ("", False),
        (VALID_20 + "F", True),  # the F is padding only: stripped, the 20 digits remain
        (VALID_19 + "FF", False),  # only one trailing F is padding
    ],
)
def test_iccid_validation(value, ok):
    assert (rules.iccid_error(value) is None) is ok


def test_iccid_normalization_strips_trailing_f_and_spaces():
    assert rules.normalize_iccid(f" {VALID_19[:6]} {VALID_19[6:]}F ") == VALID_19


@pytest.mark.parametrize(
    ("reason_fragment", "value"),
    [
        ("19 ou 20 chiffres", "893301234"),
        ("8933", "8944" + VALID_19[4:]),
        ("Luhn", _bad_luhn(VALID_19)),
        ("chiffres", "8933ABC"),
    ],
)
def test_iccid_errors_are_french_and_specific(reason_fragment, value):
    assert reason_fragment in rules.iccid_error(value)


@pytest.mark.parametrize(
    ("pin", "ok"),
    [
        ("1234", True),
        ("12345678", True),
        ("", True),
        (None, True),
        ("123", False),
        ("123456789", False),
        ("12a4", False),
    ],
)
def test_pin_is_4_to_8_digits_or_empty(pin, ok):
    assert (rules.pin_error(pin) is None) is ok


@pytest.mark.parametrize(
    ("puk", "ok"),
    [("12345678", True), ("1234567", False), ("123456789", False), ("", False), ("1234567a", False)],
)
def test_puk_is_8_digits(puk, ok):
    assert (rules.puk_error(puk) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0612345678", True),
        ("0752345678", True),
        ("+33 6 12 34 56 78", True),
        ("33612345678", True),
        ("0712345678", False),  # 071 not allocated
        ("0722345678", False),  # 072 not allocated
        ("0512345678", False),
        ("061234567", False),
    ],
)
def test_mobile_numbers(value, ok):
    assert (rules.mobile_number_error(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("07001234567890", True),
        ("337001234567890", True),
        ("0700123456789", False),
        ("07011234567890", False),
    ],
)
def test_m2m_numbers_are_14_digits_0700(value, ok):
    assert (rules.m2m_number_error(value) is None) is ok


def test_factory_numbers_are_valid():
    assert all(
        rules.mobile_number_error(make_msisdn(n, prefix=p)) is None
        for n in range(0, 10**9, 999_983)
        for p in ("06", "07")
    )
    assert rules.m2m_number_error(make_m2m_number(42)) is None


def test_R_OPT_2_activation_code_format():
    matching_id = rules.new_matching_id()
    assert (
        rules.activation_code("smdp.example.com", matching_id) == f"LPA:1$smdp.example.com${matching_id}$$1"
    )
    assert all(c.isupper() or c.isdigit() or c == "-" for c in matching_id)
    with pytest.raises(ValueError):
        rules.activation_code("smdp.example.com", "lower-case")
    with pytest.raises(ValueError):
        rules.activation_code("smdp$evil", matching_id)


@pytest.mark.parametrize(
    ("first", "last", "ok"), [("1", "2", True), ("2", "2", True), ("3", "2", False), ("12", "2", False)]
)
def test_R_SC_7_iccid_range_must_be_ascending(first, last, ok):
    assert (rules.iccid_range_error(first, last) is None) is ok


@pytest.mark.parametrize(
    ("value", "network"),
    [
        ("orange", "orange"),
        ("Orange", "orange"),
        ("BOUYGUES", "bouygues"),
        ("Bouygues Telecom", "bouygues"),
        ("sfr", None),
    ],
)
def test_parse_network(value, network):
    assert rules.parse_network(value) == network
