"""R-SC-2 login on <slug>.espaceclient.<domain> (STYLE 15), the host-bound session and its cookie, logout."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories.partners import (
    ClientAccountFactory,
    MembershipFactory,
    SelfcareAccessFactory,
    UserFactory,
)

from .conftest import PASSWORD, REFUSED, host, login

pytestmark = pytest.mark.django_db


def test_R_SC_2_client_logs_in_on_its_partner_host_and_sees_mon_parc(selfcare, access):
    response = login(selfcare, "flotte@boulangerie")
    assert response.status_code == 302 and response["Location"] == "/parc/"
    home = selfcare.get("/parc/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Mon parc" in body and "Boulangerie Martin" in body and "Se déconnecter" in body
    assert home.wsgi_request.client_account == access.client
    assert selfcare.get("/").status_code == 302  # the login page sends a logged-in client to Mon parc


def test_R_SC_2_login_page_and_header_show_the_partner_logo(selfcare, access, partner):
    partner.logo = "partners/logos/telcom.png"
    partner.save()
    assert 'src="/media/partners/logos/telcom.png"' in selfcare.get("/").content.decode()
    login(selfcare, "flotte@boulangerie")
    assert 'src="/media/partners/logos/telcom.png"' in selfcare.get("/parc/").content.decode()


@pytest.mark.parametrize(
    "who", ["wrong password", "unknown login", "client of another partner", "partner staff"]
)
def test_R_SC_2_every_refusal_gets_the_same_message(who, selfcare, access, partner, other_partner):
    username, password = {
        "wrong password": ("flotte@boulangerie", "pas-le-bon"),
        "unknown login": ("personne@nulle-part", PASSWORD),
        "client of another partner": (
            SelfcareAccessFactory(client=ClientAccountFactory(partner=other_partner)).user.username,
            PASSWORD,
        ),
        "partner staff": (MembershipFactory(partner=partner).user.username, PASSWORD),
    }[who]
    response = login(selfcare, username, password)
    assert response.status_code == 200
    assert response.context["error"] == REFUSED
    assert REFUSED in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert selfcare.get("/parc/").status_code == 302


def test_R_SC_2_client_of_another_partner_gets_in_on_its_own_host(other_partner):
    foreign = SelfcareAccessFactory(client=ClientAccountFactory(partner=other_partner))
    assert login(Client(HTTP_HOST=host(other_partner)), foreign.user.username).status_code == 302


def test_R_SC_2_selfcare_user_cannot_log_into_the_backoffice(access):
    response = Client().post("/login/", {"username": "flotte@boulangerie", "password": PASSWORD})
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated


def test_R_SC_2_inactive_selfcare_user_is_refused(selfcare, access):
    access.user.is_active = False
    access.user.save()
    assert login(selfcare, "flotte@boulangerie").context["error"] == REFUSED


def test_R_SC_2_login_redirects_to_next_on_the_same_host_only(selfcare, access):
    assert selfcare.get("/parc/")["Location"] == "/?next=%2Fparc%2F"
    ok = selfcare.post("/", {"username": "flotte@boulangerie", "password": PASSWORD, "next": "/parc/"})
    assert ok["Location"] == "/parc/"
    selfcare.post("/deconnexion/")
    evil = selfcare.post(
        "/", {"username": "flotte@boulangerie", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert evil["Location"] == "/parc/"


def test_R_SC_2_selfcare_session_cookie_is_its_own_and_host_only(selfcare, access):
    response = login(selfcare, "flotte@boulangerie")
    name = settings.SELFCARE_SESSION_COOKIE_NAME
    assert name == "alphalink_selfcare_sessionid" != settings.SESSION_COOKIE_NAME
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    cookie = response.cookies[name]
    assert cookie["domain"] == "" and cookie["httponly"]
    staff = Client()
    back = staff.post("/login/", {"username": MembershipFactory().user.username, "password": PASSWORD})
    assert back.status_code == 302 and settings.SESSION_COOKIE_NAME in back.cookies
    assert name not in back.cookies


def test_R_SC_2_selfcare_cookie_has_no_domain_even_with_a_backoffice_cookie_domain(
    selfcare, access, settings
):
    settings.SESSION_COOKIE_DOMAIN = ".localhost"
    cookie = login(selfcare, "flotte@boulangerie").cookies[settings.SELFCARE_SESSION_COOKIE_NAME]
    assert cookie["domain"] == ""


def test_R_SC_2_session_of_partner_a_host_is_not_valid_on_partner_b_host(selfcare, access, other_partner):
    # A session cookie copied to B's host (one session store for all hosts) is refused there, and flushed.
    login(selfcare, "flotte@boulangerie")
    key = selfcare.cookies[settings.SELFCARE_SESSION_COOKIE_NAME].value
    on_b = Client(HTTP_HOST=host(other_partner))
    on_b.cookies[settings.SELFCARE_SESSION_COOKIE_NAME] = key
    response = on_b.get("/parc/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")
    assert not response.wsgi_request.user.is_authenticated
    assert selfcare.get("/parc/").status_code == 302  # flushed: no longer valid on A either


def test_R_SC_2_backoffice_session_carried_to_the_selfcare_host_is_refused(selfcare, access, partner):
    """A session not opened by the self-care login of this host (no partner key) is refused."""
    staff_user = UserFactory()
    backoffice = Client()
    backoffice.force_login(staff_user)
    forged = Client(HTTP_HOST=host(partner))
    forged.cookies[settings.SELFCARE_SESSION_COOKIE_NAME] = backoffice.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    assert forged.get("/parc/").status_code == 302


def test_R_SC_2_logout_is_post_only_and_ends_the_session(selfcare, access):
    login(selfcare, "flotte@boulangerie")
    assert selfcare.get("/deconnexion/").status_code == 405
    assert selfcare.get("/parc/").status_code == 200
    response = selfcare.post("/deconnexion/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert selfcare.get("/parc/").status_code == 302
