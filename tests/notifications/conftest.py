import pytest

from notifications import services
from notifications.sms import SimulatedSmsGateway
from tests.factories.partners import PartnerFactory

#: The real wake-up, kept before the autouse fixture replaces it (tested on its own).
REAL_WAKE_SENDER = services._wake_sender

ACTIVATION = "LPA:1$smdp.orange-esim.example$FNGIN-AOPQD-ITV3J-O2WPK$$1"
CONFIRMATION = "482915"
CONTACT_MOBILE = "07 87 56 17 25"
CONTACT_MOBILE_E164 = "+33787561725"
LINE_MSISDN = "0612345678"


@pytest.fixture(autouse=True)
def wakes(monkeypatch):
    """Counts the after-commit wake-ups instead of sending Celery messages to a broker."""
    calls: list[int] = []
    monkeypatch.setattr(services, "_wake_sender", lambda: calls.append(1))
    return calls


@pytest.fixture(autouse=True)
def _gateway_up(settings):
    settings.SMS_GATEWAY = "notifications.sms.SimulatedSmsGateway"
    settings.SMS_SIMULATOR_DOWN = False
    SimulatedSmsGateway.down = False
    settings.OUTBOX_MAX_ATTEMPTS = 5
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    settings.OUTBOX_SENDING_LEASE_SECONDS = 600
    yield
    SimulatedSmsGateway.down = False


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Telcom Pro")


@pytest.fixture
def other_partner(db):
    return PartnerFactory(name="Autre Partenaire")


def esim_kwargs(partner, **overrides):
    kwargs = {
        "partner": partner,
        "contract_ref": 83243,
        "to_email": "anne-charlotte.brout@example.fr",
        "to_mobile": CONTACT_MOBILE,
        "activation_code": ACTIVATION,
        "confirmation_code": CONFIRMATION,
        "line_label": "Anne-Charlotte BROUT",
        "msisdn": LINE_MSISDN,
    }
    kwargs.update(overrides)
    return kwargs
