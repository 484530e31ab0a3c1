import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from stdnum import luhn

from provisioning.adapters import reset_operators
from provisioning.simulators.bouygues import BouyguesSimulator
from provisioning.simulators.orange import OrangeSimulator

PARIS = ZoneInfo("Europe/Paris")
_serial = itertools.count(1)


def paris(y, m, d, h=0, mi=0, s=0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=PARIS).astimezone(UTC)


def new_iccid(network_code: str = "01") -> str:
    """A valid 19-digit ICCID (ID-ICCID: 89 33 <issuer> ..., Luhn)."""
    body = f"8933{network_code}{next(_serial):012d}"
    return body + luhn.calc_check_digit(body)


@pytest.fixture(autouse=True)
def _simulator_settings(settings):
    settings.SIMULATOR_LATENCY_SECONDS = 60
    settings.SIMULATOR_FAILURE_RATE = 0.0
    reset_operators()
    yield
    reset_operators()


@pytest.fixture
def orange():
    return OrangeSimulator(seed=1)


@pytest.fixture
def bouygues():
    return BouyguesSimulator(seed=2)


@pytest.fixture
def weekday(time_machine):
    """Tuesday 9 March 2027, 10:00 Paris: every window is open (frozen clock)."""
    time_machine.move_to(paris(2027, 3, 9, 10), tick=False)
    return time_machine
