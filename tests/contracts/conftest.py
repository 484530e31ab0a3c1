import pytest

from core.networks import Network
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import add_stock
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory


@pytest.fixture
def catalog(db):
    return load_test_catalog()


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Telcom Test", is_init_sys=True)


@pytest.fixture
def staff(partner):
    return MembershipFactory(partner=partner).user


@pytest.fixture
def client_account(partner):
    return ClientAccountFactory(partner=partner, company_name="Client Test")


@pytest.fixture
def orange_stock(partner):
    return add_stock(partner, Network.ORANGE, sims=60, sims_no_pin=10, numbers=80)


@pytest.fixture
def bouygues_stock(partner):
    return add_stock(partner, Network.BOUYGUES, sims=20, sims_no_pin=5, numbers=30)


@pytest.fixture(autouse=True)
def _no_dispatcher_wakeup(settings):
    """No message to the test Redis for every order (``test_wake_dispatcher_*`` turn it back on)."""
    settings.PROVISIONING_WAKE_ON_ORDER = False
