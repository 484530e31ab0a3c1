"""R-SC-2: the self-care door has its own CSRF cookie (``SELFCARE_CSRF_COOKIE_NAME``), host-only, like its
session cookie — the back-office's CSRF cookie is never read on a self-care host, and the other way round
(partners.middleware.DoorCsrfViewMiddleware)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories.partners import MembershipFactory

from .conftest import PASSWORD, host

pytestmark = pytest.mark.django_db


def _browser(partner=None) -> Client:
    if partner is None:
        return Client(enforce_csrf_checks=True)
    return Client(enforce_csrf_checks=True, HTTP_HOST=host(partner))


def test_R_SC_2_selfcare_sets_its_own_host_only_csrf_cookie(partner, settings):
    settings.CSRF_COOKIE_DOMAIN = ".localhost"  # a back-office cookie on the parent domain
    response = _browser(partner).get("/")
    name = settings.SELFCARE_CSRF_COOKIE_NAME
    assert name == "alphalink_selfcare_csrftoken" != settings.CSRF_COOKIE_NAME
    assert settings.CSRF_COOKIE_NAME not in response.cookies
    assert response.cookies[name]["domain"] == ""
    back = _browser().get("/login/")
    assert back.cookies[settings.CSRF_COOKIE_NAME]["domain"] == ".localhost"
    assert name not in back.cookies


def test_R_SC_2_selfcare_login_with_its_own_csrf_cookie_works(partner, access):
    browser = _browser(partner)
    browser.get("/")
    token = browser.cookies[settings.SELFCARE_CSRF_COOKIE_NAME].value
    data = {"username": access.user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert browser.post("/", data).status_code == 302


def test_R_SC_2_backoffice_csrf_cookie_is_refused_on_selfcare(partner, access):
    back = _browser()
    back.get("/login/")
    token = back.cookies[settings.CSRF_COOKIE_NAME].value
    browser = _browser(partner)
    browser.cookies[settings.CSRF_COOKIE_NAME] = token  # the parent-domain cookie the browser would send
    data = {"username": access.user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = browser.post("/", data)
    assert response.status_code == 403
    assert not response.wsgi_request.user.is_authenticated
    # the same token in the header does not help either
    assert browser.post("/", data, HTTP_X_CSRFTOKEN=token).status_code == 403


def test_R_SC_2_selfcare_csrf_cookie_is_refused_on_the_backoffice(partner):
    selfcare = _browser(partner)
    selfcare.get("/")
    token = selfcare.cookies[settings.SELFCARE_CSRF_COOKIE_NAME].value
    staff = MembershipFactory(partner=partner).user
    back = _browser()
    back.cookies[settings.SELFCARE_CSRF_COOKIE_NAME] = token
    data = {"username": staff.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert back.post("/login/", data).status_code == 403
    back.get("/login/")
    data["csrfmiddlewaretoken"] = back.cookies[settings.CSRF_COOKIE_NAME].value
    assert back.post("/login/", data).status_code == 302


def test_R_SC_2_one_partner_selfcare_csrf_cookie_is_not_read_on_another_partner_host(partner, other_partner):
    mine = _browser(partner)
    mine.get("/")
    token = mine.cookies[settings.SELFCARE_CSRF_COOKIE_NAME].value
    theirs = _browser(other_partner)
    theirs.get("/")  # its own cookie, host-only: a different secret
    assert theirs.cookies[settings.SELFCARE_CSRF_COOKIE_NAME].value != token
    data = {"username": "x", "password": "y", "csrfmiddlewaretoken": token}
    assert theirs.post("/", data).status_code == 403
