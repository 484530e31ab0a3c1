import re

import pytest
from django.test import Client

from tests.factories.partners import (
    ClientAccountFactory,
    MembershipFactory,
    PartnerFactory,
    SelfcareAccessFactory,
)

PASSWORD = "pw-test-123"  # UserFactory's password
REFUSED = "Identifiant ou mot de passe incorrect."


def host(partner) -> str:
    return f"{partner.slug}.espaceclient.localhost"


def link_in(message) -> str:
    """The set-password link of an outbox email (its path), checked to be the same in text and HTML."""
    links = re.findall(r"https?://[^\s\"<]+/mot-de-passe/[^\s\"<]+/", message.body_text)
    assert len(set(links)) == 1, message.body_text
    assert links[0] in message.body_html
    return links[0]


@pytest.fixture
def partner():
    return PartnerFactory(name="Telcom Test", slug="telcom-test")


@pytest.fixture
def other_partner():
    return PartnerFactory(name="Autre Réseau", slug="autre-reseau")


@pytest.fixture
def client_account(partner):
    return ClientAccountFactory(partner=partner, company_name="Boulangerie Martin")


@pytest.fixture
def access(client_account):
    return SelfcareAccessFactory(
        client=client_account, user__username="flotte@boulangerie", user__email="f@b.fr"
    )


@pytest.fixture
def selfcare(partner):
    """A browser on the partner's self-care host."""
    return Client(HTTP_HOST=host(partner))


@pytest.fixture
def staff_browser(partner):
    browser = Client()
    browser.force_login(MembershipFactory(partner=partner).user)
    return browser


def login(browser, username, password=PASSWORD, **extra):
    return browser.post("/", {"username": username, "password": password}, **extra)
