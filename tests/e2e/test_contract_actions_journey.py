"""Contract actions in a real browser (R-CON-9, R-CON-5): from the "Actions possibles" tab of a live Bouygues line,
open "Suspendre", read that billing goes on, confirm, land on the History tab with the message; once the operator
confirms, the line shows "Suspendu" and "Réactiver" becomes available."""

import pytest
from playwright.sync_api import expect

from catalog.models import Offer
from contracts.models import Contract
from contracts.services import LineSpec, order_place
from core.networks import Network
from provisioning import services as provisioning
from provisioning.adapters import reset_operators
from provisioning.simulators import simulator_tick
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import add_stock
from tests.factories.partners import ClientAccountFactory

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/alphalink_e2e_contract_suspend.png"


@pytest.fixture
def live_bouygues_line(settings, e2e_staff) -> Contract:
    """A Bouygues line (operator open 24/7, R-PRV-3) ordered and activated through the zero-latency simulator."""
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.PROVISIONING_WAKE_ON_ORDER = False
    reset_operators()
    load_test_catalog()
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
    assert contract.state == Contract.State.ACTIVE
    yield contract
    reset_operators()


def _operator_answers() -> None:
    simulator_tick()
    provisioning.dispatch_due_requests()


def test_R_CON_5_suspend_a_line_in_the_browser(logged_in_page, live_bouygues_line):
    page = logged_in_page
    contract = live_bouygues_line

    page.goto(f"/contrats/{contract.pk}/actions/")
    expect(page.get_by_role("heading", name="Actions possibles")).to_be_visible()
    expect(page.locator('[data-action="resume"] .reason')).to_have_text("La ligne n'est pas suspendue.")
    page.locator('[data-action="suspend"]').get_by_role("link", name="Suspendre").click()

    expect(page.get_by_role("heading", name="Suspendre la ligne")).to_be_visible()
    expect(page.locator(".confirmation")).to_contain_text("La facturation continue")
    page.get_by_role("button", name="Suspendre").click()

    page.wait_for_url(f"**/contrats/{contract.pk}/historique/")
    expect(page.locator(".messages")).to_contain_text(
        "La facturation continue pendant la suspension (R-CON-5)"
    )
    expect(page.locator("#tab-panel")).to_contain_text("Suspension demandée")

    _operator_answers()  # the operator confirms
    page.reload()
    expect(page.locator("#tab-panel")).to_contain_text("Ligne suspendue par l'opérateur")
    page.goto(f"/contrats/{contract.pk}/actions/")
    expect(page.locator('[data-action="resume"]').get_by_role("link", name="Réactiver")).to_be_visible()
    expect(page.locator('[data-action="suspend"] .reason')).to_have_text("La ligne est déjà suspendue.")
    page.screenshot(path=SCREENSHOT, full_page=True)
    contract.refresh_from_db()
    assert contract.state == Contract.State.SUSPENDED
