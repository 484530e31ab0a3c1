"""Ordering and provisioning in a real browser (issues 3 and 4).

1. R-ORD-1, R-ORD-2, R-ORD-3: from a client's page, order 2 Orange Illimité lines step by step (the htmx form
   narrows network → range → blocked → offer), multiple configuration with one eSIM line; an eSIM line without
   contact e-mail is refused in French next to the lines field and nothing is created; once fixed, the order
   page lists the contracts « En cours » and the eSIM contract's Ressources tab shows its ``LPA:1$…$$1`` code.
2. R-CON-7, R-PRV-1/2: the operator confirms (time travel to the first instant both Orange windows are open,
   zero-latency simulator): the contract page shows « Actif », the delivery date and the activation event.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Offer
from contracts.models import Contract, OperatorRequest, Order, SimType
from contracts.services import LineSpec, order_place
from core.networks import Network
from inventory.models import EsimProfile
from provisioning import rules as windows
from provisioning import services as provisioning
from provisioning.adapters import reset_operators
from provisioning.simulators import simulator_tick
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import add_stock
from tests.factories.partners import ClientAccountFactory

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/e2e_order_{}.png"
OFFER_CODE = "OR-ILL-10G-NB"
OFFER_LABEL = "Illimité 10 Go non bloqué"
SWAP_TIMEOUT_MS = 10_000
ACTIVATION_CODE = re.compile(r"^LPA:1\$[^$]+\$[A-Z0-9-]+\$\$1$")


@pytest.fixture
def orange_client(settings, e2e_staff):
    """A client of the e2e partner, the catalog, Orange stock (SIMs with PIN, pool numbers) and a zero-latency
    simulator that never fails; the dispatcher is not woken by the order (the test plays the operator)."""
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.PROVISIONING_WAKE_ON_ORDER = False
    reset_operators()
    load_test_catalog()
    add_stock(e2e_staff.partner, Network.ORANGE, sims=3, numbers=3)
    yield ClientAccountFactory(partner=e2e_staff.partner, company_name="Boulangerie Dupain")
    reset_operators()


def _refresh(page, change) -> None:
    """Run ``change`` (a choice that narrows the form) and wait until htmx has swapped in the new form."""
    page.locator("#order-form").evaluate("form => { form.dataset.stale = '1'; }")
    change()
    page.wait_for_selector("#order-form:not([data-stale])", timeout=SWAP_TIMEOUT_MS)


def _offer_groups(page) -> list[str]:
    return page.locator("#id_offer optgroup").evaluate_all("groups => groups.map(g => g.label)")


def test_R_ORD_1_2_3_order_orange_lines_with_an_esim_in_the_browser(logged_in_page, e2e_staff, orange_client):
    page = logged_in_page
    client = orange_client

    # Client list → client page → "Commander des lignes" (R-ORD-1: the order starts from the client).
    page.get_by_role("navigation").get_by_role("link", name="Clients", exact=True).click()
    page.locator("#client-results").get_by_role("link", name="Boulangerie Dupain").click()
    expect(page.get_by_role("heading", name="Boulangerie Dupain")).to_be_visible()
    page.get_by_role("link", name="Commander des lignes").click()
    page.wait_for_url(f"**/clients/{client.pk}/commander/")
    expect(page.get_by_role("heading", name="Nouvelle commande · Boulangerie Dupain")).to_be_visible()
    expect(page.get_by_role("button", name="Commander")).to_have_count(0)  # no offer chosen yet
    assert any(group.startswith("Bouygues") for group in _offer_groups(page))

    # R-ORD-1: each choice narrows the offers (htmx re-renders the form).
    _refresh(page, lambda: page.get_by_label("Réseau").select_option(label="Orange"))
    groups = _offer_groups(page)
    assert groups and all(group.startswith("Orange · ") for group in groups), groups
    _refresh(page, lambda: page.get_by_label("Gamme").select_option(label="Illimité"))
    assert _offer_groups(page) == ["Orange · Illimité"]
    _refresh(page, lambda: page.get_by_label("Forfait bloqué").select_option(label="Non bloqué"))
    offers = page.locator("#id_offer option").all_inner_texts()
    assert any(text.startswith(OFFER_LABEL) for text in offers), offers
    assert not any(text.startswith("Illimité 10 Go bloqué") for text in offers), offers
    _refresh(page, lambda: page.get_by_label("Offre (enveloppe)").select_option(value=OFFER_CODE))
    expect(page.get_by_role("heading", name="2. Options et services")).to_be_visible()
    expect(page.locator("#order-form")).to_contain_text(f"{OFFER_LABEL} · Orange · Illimité")
    expect(page.get_by_label("eSIM (+1,50 € HT)")).to_be_visible()  # R-OPT-2: eSIM offered on Orange

    # R-ORD-2: 2 lines in the multiple configuration, one per text line; line 2 is an eSIM.
    _refresh(page, lambda: page.get_by_label("Configuration multiple").check())
    page.get_by_label("Quantité").fill("2")
    page.get_by_label("Avec PIN").check()
    lines = page.get_by_label("Lignes (une par ligne)")
    lines.fill("Paul Dupain;;;;pin;\nJeanne Dupain;;;06 12 34 56 78;esim;")
    page.screenshot(path=SCREENSHOT.format("form"), full_page=True)
    page.get_by_role("button", name="Commander").click()

    # R-ORD-3: an eSIM line needs the contact e-mail; the refusal sits next to the lines, nothing is created.
    lines_field = page.locator("#field-lines_csv")
    expect(lines_field.locator(".errorlist")).to_have_text(
        "Ligne 2 : eSIM — l'e-mail du contact est obligatoire (il reçoit le QR code). (R-ORD-3)"
    )
    expect(page.get_by_label("Lignes (une par ligne)")).to_have_value(
        "Paul Dupain;;;;pin;\nJeanne Dupain;;;06 12 34 56 78;esim;"
    )
    expect(page.get_by_label("Offre (enveloppe)")).to_have_value(OFFER_CODE)
    page.screenshot(path=SCREENSHOT.format("error"), full_page=True)
    assert Order.objects.count() == 0
    assert Contract.objects.count() == 0
    assert EsimProfile.objects.count() == 0

    # Fixed: the order is placed and its page lists 2 contracts « En cours ».
    page.get_by_label("Lignes (une par ligne)").fill(
        "Paul Dupain;;;;pin;\nJeanne Dupain;;jeanne@dupain.fr;06 12 34 56 78;esim;"
    )
    page.get_by_role("button", name="Commander").click()
    page.wait_for_url(re.compile(r"/commandes/\d+/$"))
    order = Order.objects.get()
    assert (order.client_id, order.offer.code, order.quantity) == (client.pk, OFFER_CODE, 2)
    assert order.configuration == Order.Configuration.MULTIPLE
    expect(page.get_by_role("heading", name=f"Commande {order.number}")).to_be_visible()
    expect(page.locator(".messages")).to_contain_text(
        f"Commande {order.number} passée : 2 ligne(s) en cours d'activation."
    )
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="En cours")).to_have_count(2)
    page.screenshot(path=SCREENSHOT.format("order"), full_page=True)

    esim_contract = Contract.objects.get(order=order, sim_type=SimType.ESIM)
    assert esim_contract.contact_email == "jeanne@dupain.fr"
    assert esim_contract.contact_mobile == "0612345678"
    assert OperatorRequest.objects.filter(contract__order=order).count() == 2  # one pending request per line

    # The eSIM contract: « En cours », its activation code on the Ressources tab (R-ORD-3/4).
    rows.filter(has_text="eSIM").get_by_role("link", name=esim_contract.number).click()
    expect(page.get_by_role("heading", name=f"Contrat {esim_contract.number}")).to_contain_text("En cours")
    expect(page.locator("#tab-panel")).to_contain_text("jeanne@dupain.fr")
    page.locator("nav.tabs").get_by_role("link", name="Ressources").click()
    page.wait_for_url(f"**/contrats/{esim_contract.pk}/ressources/")
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Ressources")  # the tab bar follows
    code = esim_contract.esim.activation_code
    assert ACTIVATION_CODE.match(code), code
    expect(page.locator("#tab-panel")).to_contain_text(code)
    expect(page.locator("#tab-panel")).to_contain_text("0612345678")
    page.screenshot(path=SCREENSHOT.format("resources"), full_page=True)

    # R-ORD-2: the eSIM one-off fee (FAS +1,50 € HT) is on the Frais tab.
    page.locator("nav.tabs").get_by_role("link", name="Frais").click()
    expect(page.locator("#tab-panel")).to_contain_text("1,50")


def _orange_order_with_an_esim(staff, client) -> Order:
    return order_place(
        partner=staff.partner,
        client=client,
        created_by=staff.user,
        offer=Offer.objects.get(code=OFFER_CODE),
        quantity=2,
        configuration=Order.Configuration.MULTIPLE,
        lines=[
            LineSpec(user_name="Paul Dupain", sim_type=SimType.WITH_PIN),
            LineSpec(
                user_name="Jeanne Dupain",
                sim_type=SimType.ESIM,
                contact_email="jeanne@dupain.fr",
                contact_mobile="0612345678",
            ),
        ],
    )


def _first_instant_both_windows_open(order: Order) -> datetime:
    """R-PRV-1/2: the operator accepts an Orange eSIM creation Mon–Fri 09:00–17:30, a SIM creation Mon–Sat
    07:00–22:00; the later of the two openings from now is inside both windows."""
    now = timezone.now()
    requests = list(OperatorRequest.objects.filter(contract__order=order))
    opening = max(provisioning.planned_time(request, now) for request in requests)
    for request in requests:
        assert windows.is_within_window(
            request.kind, request.network, opening, **provisioning.window_arguments(request)
        )
    return opening


def test_R_CON_7_operator_confirms_and_the_esim_line_goes_live(logged_in_page, e2e_staff, orange_client):
    page = logged_in_page
    order = _orange_order_with_an_esim(e2e_staff, orange_client)
    contract = order.contracts.get(sim_type=SimType.ESIM)

    page.goto(f"/contrats/{contract.pk}/")
    expect(page.get_by_role("heading", name=f"Contrat {contract.number}")).to_contain_text("En cours")
    expect(page.locator("#tab-panel")).to_contain_text("Demandes opérateur")

    # The operator confirms: the test process plays the sweep and the simulator at an instant inside the
    # windows (the live server is idle meanwhile; time is frozen only around these calls).
    with time_machine.travel(_first_instant_both_windows_open(order), tick=False):
        report = provisioning.dispatch_due_requests()
        simulator_tick()
        provisioning.dispatch_due_requests()
    assert report.sent == 2, report
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    assert contract.delivered_at is not None
    assert set(order.contracts.values_list("state", flat=True)) == {Contract.State.ACTIVE}

    page.reload()
    expect(page.get_by_role("heading", name=f"Contrat {contract.number}")).to_contain_text("Actif")
    delivered = timezone.localtime(contract.delivered_at).strftime("%d/%m/%Y %H:%M")
    expect(
        page.locator("#tab-panel dt", has_text="Livrée le").locator("xpath=following-sibling::dd[1]")
    ).to_have_text(delivered)
    page.screenshot(path=SCREENSHOT.format("active"), full_page=True)

    page.locator("nav.tabs").get_by_role("link", name="Historique").click()
    page.wait_for_url(f"**/contrats/{contract.pk}/historique/")
    history = page.locator("#tab-panel")
    expect(history).to_contain_text("Ligne activée par l'opérateur")
    activation = history.locator("tr", has_text="Ligne activée par l'opérateur")
    expect(activation).to_contain_text("Opérateur")
    expect(activation).to_contain_text("En cours → Actif")  # R-CON-8 labels, not raw state values
    page.screenshot(path=SCREENSHOT.format("history"), full_page=True)
