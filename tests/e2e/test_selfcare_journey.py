"""Issue 8 « Done when », in a real browser: the partner's staff user creates a self-care access from the client's
« Configuration selfcare » and sends the link; the client opens the single-use link read from the outbox on
``<slug>.espaceclient.localhost:<port>``, sets a password, logs in, sees « Mon parc » and its line, orders a
top-up and suspends the line through the confirmation pages; the opted-in staff user has both emails in the
outbox; a client of another partner is refused on this host with the wrong-password message; every self-care
page fits a 390 px wide screen."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from catalog.models import Offer
from contracts.models import Contract, ContractTopup, OperatorRequest
from contracts.services import LineSpec, order_place
from core.networks import Network
from notifications.models import OutboxMessage
from partners.models import PartnerMembership, SelfcareAccess
from provisioning import services as provisioning
from provisioning.adapters import reset_operators
from provisioning.simulators import simulator_tick
from selfcare.models import SelfcareOrder
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import add_stock
from tests.factories.partners import ClientAccountFactory, PartnerFactory, SelfcareAccessFactory

from .conftest import CHROMIUM, DEFAULT_TIMEOUT_MS, login

pytestmark = pytest.mark.e2e

CLIENT_EMAIL = "flotte@leroy-transports.fr"
CLIENT_LOGIN = "flotte@leroy"
CLIENT_PASSWORD = "Selfcare-Leroy-2026!"
STAFF_EMAIL = "marie@telcom-parcours.fr"
REFUSED = "Identifiant ou mot de passe incorrect."
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _chromium_required_in_ci():
    """Under CI a browser journey fails, never skips, when Chromium is missing."""
    if os.environ.get("CI", "").lower() == "true" and not CHROMIUM.exists():
        pytest.fail(f"CI=true but Debian chromium is missing at {CHROMIUM}")


def _operator_answers() -> None:
    simulator_tick()
    provisioning.dispatch_due_requests()


@pytest.fixture
def live_line(settings, e2e_staff) -> Contract:
    """A Bouygues ILL line (top-ups allowed, operator open 24/7) with a physical SIM, ordered and activated
    through the zero-latency simulator; the staff admin has an email and is opted in to « Commande selfcare »."""
    settings.DEBUG = True  # the self-care link keeps the live server's port (partners.hosts.selfcare_url)
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.PROVISIONING_WAKE_ON_ORDER = False
    reset_operators()
    load_test_catalog()
    e2e_staff.user.email = STAFF_EMAIL
    e2e_staff.user.save(update_fields=["email"])
    PartnerMembership.objects.filter(user=e2e_staff.user).update(notify_selfcare_orders=True)
    add_stock(e2e_staff.partner, Network.BOUYGUES, sims=3, numbers=3)
    client = ClientAccountFactory(partner=e2e_staff.partner, company_name="Transports Leroy")
    order = order_place(
        partner=e2e_staff.partner,
        client=client,
        created_by=e2e_staff.user,
        offer=Offer.objects.get(code="BY-ILL-10G-B"),
        quantity=1,
        lines=[LineSpec(user_name="Paul Leroy")],
    )
    _operator_answers()
    contract = order.contracts.get()
    assert contract.state == Contract.State.ACTIVE and contract.sim_id and not contract.is_esim
    yield contract
    reset_operators()


def _fits_390(page) -> None:
    """No horizontal scroll at 390 px (measured once the stylesheet is applied); names the widest offenders."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    offenders = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390)"
        ".slice(0, 8).map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)"
    )
    assert width <= 390, f"{page.url} scrolls horizontally at 390 px ({width} px): {offenders}"


def _order_number(page) -> str:
    message = page.locator(".messages")
    expect(message).to_contain_text("est enregistrée : bon de commande n°")
    return re.search(r"BDC-[\w-]+", message.inner_text()).group(0)


def test_issue_8_selfcare_journey_from_backoffice_invitation_to_partner_emails(
    browser, page, live_server, e2e_staff, live_line
):
    contract = live_line
    partner = e2e_staff.partner
    port = urlsplit(live_server.url).port
    selfcare_root = f"http://{partner.slug}.espaceclient.localhost:{port}"

    # 1. the staff user creates the access and sends the link from « Configuration selfcare »
    login(page, e2e_staff.user.username, e2e_staff.password)
    page.goto(f"/clients/{contract.client_id}/")
    page.get_by_role("link", name="Configuration selfcare").click()
    expect(page.get_by_role("heading", name="Configuration selfcare", level=1)).to_be_visible()
    expect(page.locator("#selfcare-url")).to_have_text(f"{selfcare_root}/")
    page.get_by_label("E-mail").fill(CLIENT_EMAIL)
    page.get_by_label("Identifiant selfcare").fill(CLIENT_LOGIN)
    page.get_by_role("button", name="Créer l'accès et envoyer les informations par mail").click()
    expect(page.locator(".messages")).to_contain_text(
        f"Un lien pour choisir le mot de passe de « {CLIENT_LOGIN} » a été envoyé à {CLIENT_EMAIL}."
    )
    expect(page.locator("#selfcare-users")).to_contain_text(CLIENT_LOGIN)
    access = SelfcareAccess.objects.get(user__username=CLIENT_LOGIN)
    assert access.client_id == contract.client_id and access.invitation_sent_at is not None

    # 2. the single-use link, read from the outbox, is on the partner's self-care host and the live server's port
    invitation = OutboxMessage.objects.get(channel="email", to=CLIENT_EMAIL)
    links = set(re.findall(r"https?://[^\s\"<]+/mot-de-passe/[^\s\"<]+/", invitation.body_text))
    assert len(links) == 1, invitation.body_text
    link = links.pop()
    assert link.startswith(f"{selfcare_root}/mot-de-passe/") and link in invitation.body_html

    # 3.–7. the client, on a 390 × 844 screen
    context = browser.new_context(locale="fr-FR", viewport=MOBILE)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    mobile = context.new_page()
    try:
        mobile.goto(link)
        expect(mobile.get_by_role("heading", name="Choisir mon mot de passe")).to_be_visible()
        expect(mobile.locator("main, body").first).to_contain_text(CLIENT_LOGIN)
        _fits_390(mobile)
        mobile.locator("#id_new_password1").fill(CLIENT_PASSWORD)
        mobile.locator("#id_new_password2").fill(CLIENT_PASSWORD)
        mobile.get_by_role("button", name="Enregistrer mon mot de passe").click()
        expect(mobile.get_by_role("heading", name=f"Espace client {partner.name}")).to_be_visible()
        assert urlsplit(mobile.url).hostname == f"{partner.slug}.espaceclient.localhost"

        mobile.goto(link)  # single use: the link no longer sets a password
        expect(mobile.get_by_role("heading", name="Ce lien n'est plus valide")).to_be_visible()
        expect(mobile.get_by_role("heading", name="Choisir mon mot de passe")).to_have_count(0)
        _fits_390(mobile)

        # 6. a client of another partner is refused here exactly like a wrong password
        other = SelfcareAccessFactory(
            client=ClientAccountFactory(partner=PartnerFactory(name="Autre Réseau", slug="autre-reseau")),
            user__username="flotte@autre",
        )
        other.user.set_password(CLIENT_PASSWORD)
        other.user.save()
        for username, password in (
            (CLIENT_LOGIN, "pas-le-bon-mot-de-passe"),
            ("flotte@autre", CLIENT_PASSWORD),
        ):
            mobile.goto(f"{selfcare_root}/")
            mobile.get_by_label("Identifiant selfcare").fill(username)
            mobile.get_by_label("Mot de passe").fill(password)
            mobile.get_by_role("button", name="Se connecter").click()
            expect(mobile.get_by_role("alert")).to_have_text(REFUSED)
            expect(mobile.get_by_role("heading", name="Mon parc")).to_have_count(0)
            _fits_390(mobile)

        # 3. the client logs in and sees « Mon parc » and its line
        mobile.goto(f"{selfcare_root}/")
        _fits_390(mobile)
        mobile.get_by_label("Identifiant selfcare").fill(CLIENT_LOGIN)
        mobile.get_by_label("Mot de passe").fill(CLIENT_PASSWORD)
        mobile.get_by_role("button", name="Se connecter").click()
        expect(mobile.get_by_role("heading", name="Mon parc")).to_be_visible()
        assert urlsplit(mobile.url).hostname == f"{partner.slug}.espaceclient.localhost"
        fleet = mobile.locator("table")
        expect(fleet).to_contain_text("Paul Leroy")
        _fits_390(mobile)
        mobile.get_by_role("link", name="Voir la ligne").click()
        mobile.wait_for_url(f"**/lignes/{contract.pk}/")
        expect(mobile.locator("h1")).to_contain_text("Ligne")
        expect(mobile.locator("main, body").first).to_contain_text("Paul Leroy")
        _fits_390(mobile)

        # 4a. top-up through its confirmation page
        mobile.locator('#line-actions [data-action="recharge"]').get_by_role("link").click()
        expect(mobile.locator(".action-page")).to_contain_text("jusqu'à 30 minutes")
        _fits_390(mobile)
        volume = mobile.locator('input[name="volume_bytes"]').first
        volume.check()
        volume_bytes = int(volume.get_attribute("value"))
        mobile.get_by_role("button", name="Confirmer").click()
        mobile.wait_for_url(f"**/lignes/{contract.pk}/")
        topup_number = _order_number(mobile)
        _fits_390(mobile)
        topup = ContractTopup.objects.get(contract=contract)
        assert topup.source == ContractTopup.Source.SELFCARE and topup.volume_bytes == volume_bytes
        topup_order = SelfcareOrder.objects.get(number=topup_number)
        assert topup_order.operator_request == topup.operator_request

        _operator_answers()  # the operator applies the top-up

        # 4b. suspension through its confirmation page
        mobile.reload()
        mobile.locator('#line-actions [data-action="suspendre"]').get_by_role("link").click()
        expect(mobile.locator(".action-page")).to_contain_text(
            "Cette action n'entraîne pas l'arrêt de la facturation de la ligne."
        )
        _fits_390(mobile)
        mobile.get_by_role("button", name="Confirmer").click()
        mobile.wait_for_url(f"**/lignes/{contract.pk}/")
        suspend_number = _order_number(mobile)
        _fits_390(mobile)
        suspend = OperatorRequest.objects.get(contract=contract, kind="suspend")
        assert SelfcareOrder.objects.get(number=suspend_number).operator_request == suspend
        assert topup_number != suspend_number
    finally:
        context.close()

    # 5. the opted-in staff user has both emails: client, line, contract number, order number
    emails = list(OutboxMessage.objects.filter(channel="email", to=STAFF_EMAIL).order_by("pk"))
    assert len(emails) == 2, [m.subject for m in emails]
    for email, number in zip(emails, (topup_number, suspend_number), strict=True):
        for text in ("Transports Leroy", "Paul Leroy", contract.number, number):
            assert text in email.body_text and text in email.body_html, (text, email.subject)
