"""Login lockout (django-axes) for self-care, the back-office and /admin/: AXES_FAILURE_LIMIT failures for one
username from one IP, then refused even with the right password until AXES_COOLOFF_MINUTES have passed."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories.partners import MembershipFactory, UserFactory

from .conftest import PASSWORD, REFUSED, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True


def test_settings_document_the_threshold_and_cool_off(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert (
        settings.AXES_COOLOFF_TIME
        == dt.timedelta(minutes=settings.AXES_COOLOFF_MINUTES)
        == dt.timedelta(minutes=15)
    )
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_R_SC_2_selfcare_lockout_after_the_threshold_then_back_after_the_cool_off(selfcare, access, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert login(selfcare, "flotte@boulangerie", "faux").context["error"] == REFUSED
        locked = login(selfcare, "flotte@boulangerie", "faux")  # the 5th failure locks
        assert locked.status_code == 429
        right = login(selfcare, "flotte@boulangerie", PASSWORD)
        assert right.status_code == 429
        body = right.content.decode()
        assert "Trop de tentatives de connexion" in body and "15 minutes" in body
        assert "Telcom Test" in body  # the partner's page, in French
        assert not right.wsgi_request.user.is_authenticated
        # another IP address is not locked out (username + IP)
        assert login(selfcare, "flotte@boulangerie", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302
        traveller.shift(dt.timedelta(minutes=settings.AXES_COOLOFF_MINUTES - 1))
        assert (
            login(Client(HTTP_HOST=selfcare.defaults["HTTP_HOST"]), "flotte@boulangerie").status_code == 429
        )
        traveller.shift(dt.timedelta(minutes=2))
        assert (
            login(Client(HTTP_HOST=selfcare.defaults["HTTP_HOST"]), "flotte@boulangerie").status_code == 302
        )


def test_success_before_the_threshold_resets_the_count(selfcare, access, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(selfcare, "flotte@boulangerie", "faux")
    assert login(selfcare, "flotte@boulangerie").status_code == 302
    selfcare.post("/deconnexion/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(selfcare, "flotte@boulangerie", "faux").status_code == 200
    assert login(selfcare, "flotte@boulangerie").status_code == 302


def test_backoffice_login_works_and_locks_out_in_french(settings):
    user = MembershipFactory().user
    browser = Client()
    assert browser.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    other = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        other.post("/login/", {"username": user.username, "password": "faux"})
    locked = other.post("/login/", {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Trop de tentatives de connexion" in locked.content.decode()


def test_admin_login_works_with_axes(settings):
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    response = browser.post("/admin/login/?next=/admin/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_api_token_endpoint_works_with_axes():
    user = MembershipFactory().user
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    assert response.json()["token"]
