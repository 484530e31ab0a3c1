import pytest

from tests.factories.partners import MembershipFactory, PartnerFactory


@pytest.fixture
def partner():
    return PartnerFactory(name="Telcom Test")


@pytest.fixture
def staff(partner):
    return MembershipFactory(partner=partner).user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client
