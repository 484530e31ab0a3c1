"""The demo gives a Telcom Pro client a self-care login (idempotent) and demo_info prints it."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from partners import demo
from partners.models import SelfcareAccess

pytestmark = pytest.mark.django_db


def test_demo_selfcare_user_logs_in_on_telcom_pro_and_loading_twice_changes_nothing():
    demo.load(io.StringIO())
    demo.load(io.StringIO())
    access = SelfcareAccess.objects.select_related("client", "partner").get()
    assert (access.partner.slug, access.client.company_name) == ("telcom-pro", "Boulangerie Martin")
    browser = Client(HTTP_HOST="telcom-pro.espaceclient.localhost")
    response = browser.post("/", {"username": "flotte@boulangerie-martin", "password": "demo-alphalink-2026"})
    assert response.status_code == 302 and browser.get("/parc/").status_code == 200
    refused = Client(HTTP_HOST="reseau-ouest.espaceclient.localhost").post(
        "/", {"username": "flotte@boulangerie-martin", "password": "demo-alphalink-2026"}
    )
    assert refused.context["error"] == "Identifiant ou mot de passe incorrect."


def test_demo_info_prints_the_selfcare_login_and_url():
    out = io.StringIO()
    call_command("demo_info", port="8000", stdout=out)
    text = out.getvalue()
    assert "flotte@boulangerie-martin / demo-alphalink-2026" in text
    assert "http://telcom-pro.espaceclient.localhost:8000/" in text
