"""Operator windows and effective dates (pure functions): R-PRV-1..4, R-CON-1/2, R-OPT-3."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core.networks import Network
from provisioning import rules
from provisioning.kinds import RequestKind as K
from provisioning.rules import PARIS

ORANGE, BOUYGUES = Network.ORANGE, Network.BOUYGUES


def P(y, m, d, h=0, mi=0, s=0):
    """A wall-clock time in Paris, normalised (a time inside the spring-forward gap moves forward)."""
    return datetime(y, m, d, h, mi, s, tzinfo=PARIS).astimezone(UTC)


def test_calendar_facts_used_below():
    assert date(2027, 3, 6).strftime("%A") == "Saturday"
    assert date(2027, 3, 28).strftime("%A") == "Sunday"  # Easter Sunday and DST start 2027
    assert date(2027, 7, 14).strftime("%A") == "Wednesday"
    assert date(2027, 10, 31).strftime("%A") == "Sunday"  # DST end 2027
    assert date(2027, 12, 31).strftime("%A") == "Friday"
    assert P(2027, 3, 28, 12).utcoffset() == timedelta(0)  # P() gives UTC instants
    assert rules.local(P(2027, 3, 28, 12)).utcoffset() == timedelta(hours=2)
    assert rules.local(P(2027, 3, 27, 12)).utcoffset() == timedelta(hours=1)


# --- R-PRV-1: Orange simple creation / SIM swap, Mon–Sat 07:00–22:00, holidays included ----------------


@pytest.mark.parametrize("kind", [K.CREATE_LINE, K.SWAP_SIM])
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(P(2027, 3, 6, 21, 59), P(2027, 3, 6, 21, 59), id="saturday-21:59-open"),
        pytest.param(P(2027, 3, 6, 22, 0), P(2027, 3, 8, 7, 0), id="saturday-22:00-monday-07:00"),
        pytest.param(P(2027, 3, 7, 12, 0), P(2027, 3, 8, 7, 0), id="sunday-closed"),
        pytest.param(P(2027, 3, 8, 6, 59), P(2027, 3, 8, 7, 0), id="monday-06:59"),
        pytest.param(P(2027, 3, 8, 7, 0), P(2027, 3, 8, 7, 0), id="monday-07:00-opens"),
        pytest.param(P(2027, 7, 14, 10, 0), P(2027, 7, 14, 10, 0), id="14-july-holiday-included"),
        pytest.param(P(2027, 3, 29, 6, 0), P(2027, 3, 29, 7, 0), id="easter-monday-holiday-included"),
        pytest.param(P(2027, 3, 27, 22, 30), P(2027, 3, 29, 7, 0), id="across-dst-start"),
        pytest.param(P(2027, 10, 30, 23, 0), P(2027, 11, 1, 7, 0), id="across-dst-end-to-toussaint"),
        pytest.param(P(2027, 12, 31, 22, 0), P(2028, 1, 1, 7, 0), id="year-end-to-new-year-saturday"),
        pytest.param(P(2027, 1, 31, 22, 15), P(2027, 2, 1, 7, 0), id="month-end-sunday"),
    ],
)
def test_R_PRV_1_orange_simple_window(kind, at, expected):
    assert rules.next_window(kind, ORANGE, at) == expected
    assert rules.is_within_window(kind, ORANGE, at) is (at == expected)


def test_R_PRV_1_window_boundaries_are_real_instants_across_dst():
    # Monday 29 March 2027 07:00 is summer time (UTC+2); Monday 1 November 07:00 is winter time (UTC+1).
    assert rules.next_window(K.CREATE_LINE, ORANGE, P(2027, 3, 27, 22, 30)) == datetime(
        2027, 3, 29, 5, tzinfo=UTC
    )
    assert rules.next_window(K.CREATE_LINE, ORANGE, P(2027, 10, 30, 23)) == datetime(
        2027, 11, 1, 6, tzinfo=UTC
    )


def test_R_PRV_1_saturday_21_59_vs_22_00():
    assert rules.is_within_window(K.CREATE_LINE, ORANGE, P(2027, 3, 6, 21, 59, 59))
    assert not rules.is_within_window(K.CREATE_LINE, ORANGE, P(2027, 3, 6, 22, 0, 0))


# --- R-PRV-2: Orange eSIM creation / swap to eSIM, Mon–Fri 09:00–17:30 (holidays excluded, reading) --------


@pytest.mark.parametrize("kind", [K.CREATE_LINE_ESIM, K.SWAP_SIM_ESIM])
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(P(2027, 3, 5, 17, 29), P(2027, 3, 5, 17, 29), id="friday-17:29-open"),
        pytest.param(P(2027, 3, 5, 17, 30), P(2027, 3, 8, 9, 0), id="friday-17:30-closed"),
        pytest.param(P(2027, 3, 5, 17, 31), P(2027, 3, 8, 9, 0), id="friday-17:31-monday-09:00"),
        pytest.param(P(2027, 3, 8, 8, 59), P(2027, 3, 8, 9, 0), id="monday-08:59"),
        pytest.param(P(2027, 3, 6, 10, 0), P(2027, 3, 8, 9, 0), id="saturday-closed"),
        pytest.param(P(2027, 3, 26, 17, 31), P(2027, 3, 30, 9, 0), id="easter-weekend-and-monday-closed"),
        pytest.param(P(2027, 7, 14, 10, 0), P(2027, 7, 15, 9, 0), id="14-july-closed"),
        pytest.param(P(2027, 12, 31, 18, 0), P(2028, 1, 3, 9, 0), id="year-end"),
        pytest.param(P(2027, 4, 30, 17, 45), P(2027, 5, 3, 9, 0), id="month-end-friday"),
        pytest.param(P(2027, 10, 29, 18, 0), P(2027, 11, 2, 9, 0), id="dst-end-then-toussaint"),
    ],
)
def test_R_PRV_2_orange_esim_window(kind, at, expected):
    assert rules.next_window(kind, ORANGE, at) == expected


def test_R_PRV_2_esim_flag_equals_esim_kind():
    at = P(2027, 3, 6, 10, 0)
    assert rules.next_window(K.CREATE_LINE, ORANGE, at, esim=True) == P(2027, 3, 8, 9, 0)
    assert rules.next_window(K.SWAP_SIM, ORANGE, at, esim=True) == P(2027, 3, 8, 9, 0)


# --- R-PRV-3: Bouygues 24/7 --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.CREATE_LINE, K.SWAP_SIM])
@pytest.mark.parametrize(
    "at",
    [
        P(2027, 3, 6, 22, 0),
        P(2027, 3, 7, 3, 0),
        P(2027, 7, 14, 0, 0),
        P(2027, 3, 29, 0, 30),
        P(2027, 12, 31, 23, 59, 59),
        P(2027, 3, 28, 2, 30),  # does not exist: normalised to 03:30 summer time
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 02:30 local, first pass (summer time)
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),  # 02:30 local, second pass (winter time)
    ],
)
def test_R_PRV_3_bouygues_always_open(kind, at):
    assert rules.next_window(kind, BOUYGUES, at) == at
    assert rules.is_within_window(kind, BOUYGUES, at)


def test_R_PRV_3_dst_gap_instant_is_normalised():
    at = P(2027, 3, 28, 2, 30)
    assert rules.local(at).hour == 3 and rules.local(at).utcoffset() == timedelta(hours=2)
    assert rules.next_window(K.CREATE_LINE, BOUYGUES, at) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("kind", [K.CREATE_LINE_ESIM, K.SWAP_SIM_ESIM])
def test_R_OPT_2_no_esim_at_bouygues(kind):
    with pytest.raises(rules.UnsupportedRequest):
        rules.next_window(kind, BOUYGUES, P(2027, 3, 8, 10))


# --- R-PRV-4: portability, J+3 business days, Mon–Fri -----------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 3, 8), True),  # Monday
        (date(2027, 3, 6), False),  # Saturday
        (date(2027, 3, 7), False),  # Sunday
        (date(2027, 7, 14), False),  # Fête nationale
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 3, 26), True),  # Good Friday is not a holiday in metropolitan France
        (date(2027, 11, 1), False),  # Toussaint
        (date(2027, 12, 31), True),
        (date(2028, 1, 3), True),
    ],
)
def test_R_PRV_4_is_business_day(day, expected):
    assert rules.is_business_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2027, 3, 1), 3, date(2027, 3, 4)),
        (date(2027, 3, 5), 3, date(2027, 3, 10)),
        (date(2027, 3, 6), 1, date(2027, 3, 8)),
        (date(2027, 3, 25), 3, date(2027, 3, 31)),  # Easter Monday skipped
        (date(2027, 7, 9), 3, date(2027, 7, 15)),  # 14 July skipped
        (date(2027, 12, 29), 3, date(2028, 1, 3)),  # year end
        (date(2027, 10, 29), 3, date(2027, 11, 4)),  # Toussaint skipped
        (date(2027, 3, 6), 0, date(2027, 3, 6)),
    ],
)
def test_R_PRV_4_add_business_days(start, n, expected):
    assert rules.add_business_days(start, n) == expected


@pytest.mark.parametrize(
    ("ordered_at", "expected"),
    [
        pytest.param(P(2027, 3, 1, 10), P(2027, 3, 4), id="monday-thursday"),
        pytest.param(P(2027, 3, 6, 21), P(2027, 3, 10), id="saturday-wednesday"),
        pytest.param(P(2027, 3, 25, 23, 59), P(2027, 3, 31), id="over-easter-monday"),
        pytest.param(P(2027, 7, 9, 9), P(2027, 7, 15), id="over-14-july"),
        pytest.param(P(2027, 12, 29, 12), P(2028, 1, 3), id="over-year-end"),
        pytest.param(
            datetime(2027, 3, 5, 23, 30, tzinfo=UTC), P(2027, 3, 10), id="utc-input-is-saturday-in-paris"
        ),
    ],
)
def test_R_PRV_4_portability_earliest(ordered_at, expected):
    assert rules.portability_earliest(ordered_at) == expected


@pytest.mark.parametrize(
    ("network", "at", "ordered_at", "esim", "expected"),
    [
        pytest.param(ORANGE, P(2027, 3, 6, 21), None, False, P(2027, 3, 10, 7), id="orange-saturday-order"),
        pytest.param(
            BOUYGUES, P(2027, 3, 6, 21), None, False, P(2027, 3, 10, 0), id="bouygues-saturday-order"
        ),
        pytest.param(ORANGE, P(2027, 3, 6, 21), None, True, P(2027, 3, 10, 9), id="orange-esim-port"),
        # J+3 reached, but Saturday is not a portability day even though Orange creates lines on Saturdays.
        pytest.param(
            ORANGE, P(2027, 3, 6, 10), P(2027, 3, 1, 10), False, P(2027, 3, 8, 7), id="orange-saturday"
        ),
        pytest.param(
            BOUYGUES, P(2027, 3, 6, 10), P(2027, 3, 1, 10), False, P(2027, 3, 8, 0), id="bouygues-sat"
        ),
        pytest.param(
            ORANGE, P(2027, 3, 5, 22), P(2027, 3, 1, 10), False, P(2027, 3, 8, 7), id="orange-fri-22:00"
        ),
        pytest.param(
            BOUYGUES, P(2027, 7, 14, 10), P(2027, 7, 1), False, P(2027, 7, 15, 0), id="14-july-closed"
        ),
        pytest.param(
            ORANGE, P(2027, 7, 14, 10), P(2027, 7, 9, 9), False, P(2027, 7, 15, 7), id="14-july-floor"
        ),
        pytest.param(ORANGE, P(2027, 3, 29, 10), P(2027, 3, 1), False, P(2027, 3, 30, 7), id="easter-monday"),
        pytest.param(ORANGE, P(2027, 3, 9, 12), P(2027, 3, 1), False, P(2027, 3, 9, 12), id="open-now"),
    ],
)
def test_R_PRV_4_port_in_window(network, at, ordered_at, esim, expected):
    assert rules.next_window(K.PORT_IN, network, at, ordered_at=ordered_at, esim=esim) == expected


def test_R_PRV_4_portability_flag_on_creation_equals_port_in():
    at = P(2027, 3, 6, 21)
    assert rules.next_window(K.CREATE_LINE, ORANGE, at, portability=True) == rules.next_window(
        K.PORT_IN, ORANGE, at
    )
    assert rules.next_window(K.CREATE_LINE_ESIM, ORANGE, at, portability=True) == P(2027, 3, 10, 9)
    with pytest.raises(ValueError):
        rules.next_window(K.SUSPEND, ORANGE, at, portability=True)


def test_window_rule_ids():
    assert rules.window_rule(K.CREATE_LINE, ORANGE) == "R-PRV-1"
    assert rules.window_rule(K.SWAP_SIM_ESIM, ORANGE) == "R-PRV-2"
    assert rules.window_rule(K.SWAP_SIM, BOUYGUES) == "R-PRV-3"
    assert rules.window_rule(K.PORT_IN, BOUYGUES) == "R-PRV-4"
    assert rules.window_rule(K.TOPUP, ORANGE) == ""


# --- other kinds: the seed gives no hours → 24/7 ---------------------------------------------------------

OTHER_KINDS = [
    K.SUSPEND,
    K.RESUME,
    K.TERMINATE,
    K.CHANGE_OFFER,
    K.ADD_OPTION,
    K.REMOVE_OPTION,
    K.BLOCK_DATA,
    K.UNBLOCK_DATA,
    K.TOPUP,
]


@pytest.mark.parametrize("network", [ORANGE, BOUYGUES])
@pytest.mark.parametrize("kind", OTHER_KINDS)
def test_other_kinds_always_accepted(kind, network):
    for at in (P(2027, 3, 7, 3), P(2027, 7, 14, 23, 59), P(2027, 3, 28, 2, 30)):
        assert rules.next_window(kind, network, at) == at


# --- R-CON-1/2: effective on the 1st of next month, 00:00 Paris ----------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(P(2027, 1, 31, 23, 59), P(2027, 2, 1), id="month-end"),
        pytest.param(P(2027, 3, 1, 0, 0), P(2027, 4, 1), id="on-the-1st-means-next-month"),
        pytest.param(P(2027, 12, 31, 23, 59, 59), P(2028, 1, 1), id="year-end"),
        pytest.param(
            datetime(2027, 1, 31, 23, 30, tzinfo=UTC), P(2027, 3, 1), id="utc-already-february-in-paris"
        ),
        pytest.param(P(2027, 10, 15, 12), datetime(2027, 10, 31, 23, tzinfo=UTC), id="after-dst-end-utc+1"),
        pytest.param(P(2027, 3, 15, 12), datetime(2027, 3, 31, 22, tzinfo=UTC), id="after-dst-start-utc+2"),
    ],
)
def test_R_CON_1_R_CON_2_effective_first_of_next_month(at, expected):
    effective = rules.effective_first_of_next_month(at)
    assert effective == expected
    assert (rules.local(effective).day, rules.local(effective).hour, rules.local(effective).minute) == (
        1,
        0,
        0,
    )
    assert effective.tzinfo == UTC


# --- contract of the functions ---------------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        rules.next_window(K.CREATE_LINE, ORANGE, datetime(2027, 3, 8, 10))
    with pytest.raises(ValueError):
        rules.effective_first_of_next_month(datetime(2027, 3, 8, 10))
    with pytest.raises(ValueError):
        rules.add_business_days(date(2027, 3, 8), -1)


def test_results_are_utc_instants_read_on_the_paris_clock():
    # 2027-03-06 22:30 UTC is Saturday 23:30 in Paris: closed for Orange simple creation.
    nxt = rules.next_window(K.CREATE_LINE, ORANGE, datetime(2027, 3, 6, 22, 30, tzinfo=UTC))
    assert nxt.tzinfo == UTC and nxt == datetime(2027, 3, 8, 6, tzinfo=UTC)
    # A Paris-zoned input in the repeated hour keeps its exact instant.
    second_pass = datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=PARIS)
    assert rules.next_window(K.SUSPEND, BOUYGUES, second_pass) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
