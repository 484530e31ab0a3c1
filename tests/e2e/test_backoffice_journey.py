"""Back-office journey in a real browser (R-BO-1): log in, create a client with a bad SIRET, read the French
error, fix it, find the client through the search-as-you-type list."""

import re

import pytest
from playwright.sync_api import expect

from partners.models import ClientAccount
from tests.factories.partners import ClientAccountFactory, make_siret

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/alphalink_e2e_clients.png"


def _bad(siret: str) -> str:
    return siret[:-1] + str((int(siret[-1]) + 1) % 10)


def test_R_BO_1_create_client_fix_siret_and_find_it(logged_in_page, e2e_staff):
    page = logged_in_page
    ClientAccountFactory(partner=e2e_staff.partner, company_name="Transports Leroy")
    good_siret = make_siret(2026)

    # Home → client list → new client form
    page.get_by_role("navigation").get_by_role("link", name="Clients", exact=True).click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.get_by_role("link", name="Nouveau client").click()
    expect(page.get_by_role("heading", name="Nouveau client")).to_be_visible()

    page.get_by_label("Raison sociale *").fill("Boulangerie Dupain")
    page.get_by_label("SIRET *").fill(_bad(good_siret))
    page.get_by_label("E-mail *").fill("jeanne@dupain.fr")
    page.get_by_label("Nom", exact=True).fill("Dupain")
    page.get_by_label("Prénom").fill("Jeanne")
    page.get_by_label("Mobile").fill("06 12 34 56 78")
    page.get_by_label("Code postal").fill("75006")
    page.get_by_label("Ville").fill("Paris")
    page.get_by_role("button", name="Créer le client").click()

    # The service refuses the SIRET: French message next to the field, input kept, nothing saved.
    siret_field = page.locator("#field-siret")
    expect(siret_field).to_contain_text("Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas.")
    expect(page.get_by_label("Raison sociale *")).to_have_value("Boulangerie Dupain")
    assert not ClientAccount.objects.filter(company_name="Boulangerie Dupain").exists()
    page.screenshot(path=SCREENSHOT.replace(".png", "_error.png"), full_page=True)

    # Fix it: the client is created and its page shows it.
    page.get_by_label("SIRET *").fill(good_siret)
    page.get_by_role("button", name="Créer le client").click()
    expect(page.get_by_role("heading", name="Boulangerie Dupain")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Le client « Boulangerie Dupain » a été créé.")
    expect(page.get_by_text("06 12 34 56 78")).to_be_visible()
    page.screenshot(path=SCREENSHOT.replace(".png", "_detail.png"), full_page=True)
    client = ClientAccount.objects.get(company_name="Boulangerie Dupain")
    assert (client.partner_id, client.siret) == (e2e_staff.partner.pk, good_siret)

    # Find it in the list: typing in the search box swaps the results (htmx) and pushes the URL.
    page.get_by_role("link", name="Clients").first.click()
    results = page.locator("#client-results")
    expect(results).to_contain_text("Transports Leroy")
    page.get_by_role("searchbox").press_sequentially("dupain", delay=30)
    expect(results).not_to_contain_text("Transports Leroy")
    expect(results.get_by_role("link", name="Boulangerie Dupain")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/clients/\?q=dupain$"))
    page.screenshot(path=SCREENSHOT, full_page=True)

    # A search by SIRET works too, and the plain GET form (no JavaScript needed) gives the same result.
    page.goto(f"/clients/?q={good_siret[:9]}")
    expect(results.get_by_role("link", name="Boulangerie Dupain")).to_be_visible()
    expect(results).not_to_contain_text("Transports Leroy")
    results.get_by_role("link", name="Boulangerie Dupain").click()
    expect(page.get_by_role("heading", name="Boulangerie Dupain")).to_be_visible()
