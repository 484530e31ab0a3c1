"""Back-office doors of top-ups, data blocks and the data threshold (``backoffice.contract_actions_views``): the
« Recharge data » page (volumes with their price HT or « prix à définir », the 30-minute warning always shown, a
hidden request key so a double submit makes one top-up, R-PRV-5's « Commander quand même »), the Options tab's
top-ups, the Informations tab's blocks and « Seuil data » (R-CAT-7/8, R-CAT-10, R-PRV-5, R-ALR-1..3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Offer, Topup
from contracts import datablocks, topups
from contracts.models import Contract, ContractTopup
from contracts.services import LineSpec, order_place
from core.money import GB
from tests.factories.partners import MembershipFactory
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import TUESDAY_10H, lifecycle_settings, live_line, sweep

pytestmark = pytest.mark.django_db

WARNING = "Une recharge peut mettre jusqu&#x27;à 30 minutes à apparaître sur la ligne"


@pytest.fixture(autouse=True)
def _lifecycle(settings, time_machine):
    lifecycle_settings(settings)
    time_machine.move_to(TUESDAY_10H, tick=False)


@pytest.fixture
def stock():
    return Stock()


@pytest.fixture
def web(client, stock):
    client.force_login(MembershipFactory(partner=stock.partner).user)
    return client


def live(stock: Stock, code: str) -> Contract:
    order = order_place(
        partner=stock.partner,
        client=stock.client,
        created_by=None,
        offer=Offer.objects.get(code=code),
        quantity=1,
        lines=[LineSpec(user_name="Ligne test")],
    )
    sweep()
    return order.contracts.get()


def topup_url(contract: Contract) -> str:
    return reverse("backoffice:contract_action", kwargs={"contract_id": contract.pk, "action": "topup"})


def tab_url(contract: Contract, tab: str) -> str:
    return reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": tab})


def threshold_url(contract: Contract) -> str:
    return reverse("backoffice:contract_data_threshold", kwargs={"contract_id": contract.pk})


def request_key(page: str) -> str:
    marker = 'name="request_key" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_R_CAT_10_topup_page_shows_volumes_prices_and_the_30_minute_warning(web, stock):
    Topup.objects.filter(code="OR-TOP-ILL-5G").update(price_ht=Decimal("7.00"))
    contract = live_line(stock)
    actions = web.get(tab_url(contract, "actions")).content.decode()
    assert f'href="{topup_url(contract)}"' in actions and "Recharge data" in actions

    page = web.get(topup_url(contract)).content.decode()
    assert WARNING in page and "facturée deux fois" in page
    assert (
        "5 Go — 7,00 € HT" in page and "1 Go — prix à définir" in page and "500 Go — prix à définir" in page
    )
    assert len(request_key(page)) == 32
    assert 'name="confirm_repeat"' in page and "Commander quand même" not in page  # only after a refusal
    assert "R-CAT" not in page and "R-PRV" not in page  # French only (STYLE 31)


def test_STYLE_33_topup_double_submit_makes_one_topup(web, stock):
    contract = live_line(stock)
    key = request_key(web.get(topup_url(contract)).content.decode())
    data = {"volume": str(5 * GB), "request_key": key}

    first = web.post(topup_url(contract), data)
    second = web.post(topup_url(contract), data)  # the double click

    assert first.status_code == second.status_code == 302
    assert first["Location"] == tab_url(contract, "historique")
    topup = ContractTopup.objects.get(contract=contract)
    assert topup.volume_bytes == 5 * GB and topup.source == "backoffice" and topup.request_key == key
    history = web.get(first["Location"]).content.decode()
    assert "Recharge de 5 Go commandée" in history


def test_R_PRV_5_topup_page_asks_to_confirm_a_repeat_within_30_minutes(web, stock):
    contract = live_line(stock)
    web.post(topup_url(contract), {"volume": str(GB), "request_key": "k1"})

    page = web.get(topup_url(contract)).content.decode()
    key = request_key(page)
    refused = web.post(topup_url(contract), {"volume": str(GB), "request_key": key})
    assert refused.status_code == 200
    body = refused.content.decode()
    assert "Une recharge a été commandée il y a moins de 30 minutes" in body
    assert 'type="checkbox" name="confirm_repeat"' in body and "Commander quand même" in body
    assert "R-PRV-5" not in body
    assert request_key(body) == key  # the same key goes with the confirmation
    assert ContractTopup.objects.filter(contract=contract).count() == 1

    confirmed = web.post(topup_url(contract), {"volume": str(GB), "request_key": key, "confirm_repeat": "on"})
    assert confirmed.status_code == 302
    assert ContractTopup.objects.filter(contract=contract).count() == 2


def test_R_CAT_4_topup_greyed_on_travel_with_its_reason(web, stock):
    contract = live(stock, "OR-TRV-20G")
    actions = web.get(tab_url(contract, "actions")).content.decode()
    assert f'href="{topup_url(contract)}"' not in actions and "upgrade est nécessaire" in actions
    page = web.get(topup_url(contract)).content.decode()
    assert 'disabled aria-disabled="true"' in page


def test_options_tab_lists_the_topups(web, stock):
    contract = live_line(stock)
    topups.contract_topup(contract=contract, volume_bytes=5 * GB, source="api")
    sweep()
    page = web.get(tab_url(contract, "options")).content.decode()
    assert "Recharges data" in page and "5 Go" in page and "Confirmée" in page and "03/2027" in page
    assert "à définir" in page and "API" in page
    assert "R-CAT" not in page.split("Recharges data", 1)[1]  # French labels, no rule ids


def test_R_ALR_1_informations_tab_shows_open_blocks_in_french(web, stock):
    contract = live_line(stock)
    datablocks.contract_data_block(
        contract_id=contract.pk, scope="data", rule="R-ALR-1", reason="enveloppe atteinte"
    )
    datablocks.contract_data_block(
        contract_id=contract.pk, scope="roaming", zone="usa_canada", rule="R-ALR-3", reason="cut-off atteint"
    )
    page = web.get(tab_url(contract, "informations")).content.decode()
    assert "Data bloquée (France et Europe, enveloppe atteinte)</strong> depuis le 09/03/2027 à 10:00" in page
    assert "Data bloquée (USA/Canada, cut-off atteint)" in page
    section = page.split("Blocages et seuil data", 1)[1]
    assert (
        "R-ALR" not in section and "Seuil data" not in section.split("</section>")[0]
    )  # a plan: no threshold


def test_R_CAT_7_data_threshold_page_of_a_compteur_line(web, stock):
    contract = live(stock, "OR-CPT")
    info = web.get(tab_url(contract, "informations")).content.decode()
    assert "Seuil data" in info and f'href="{threshold_url(contract)}"' in info

    page = web.get(threshold_url(contract)).content.decode()
    assert "Seuil actuel : aucun." in page and "De 1 à 100 Go" in page
    wrong = web.post(threshold_url(contract), {"threshold_go": "0"})
    assert wrong.status_code == 200 and "supérieure ou égale à 1" in wrong.content.decode()
    assert web.post(threshold_url(contract), {"threshold_go": "10"}).status_code == 302
    contract.refresh_from_db()
    assert contract.data_threshold_bytes == 10 * GB
    assert "Seuil data :</strong> 10 Go" in web.get(tab_url(contract, "informations")).content.decode()
    assert web.post(threshold_url(contract), {"threshold_go": ""}).status_code == 302
    contract.refresh_from_db()
    assert contract.data_threshold_bytes is None


def test_R_CAT_7_data_threshold_page_greyed_on_a_plan(web, stock):
    contract = live_line(stock)
    page = web.get(threshold_url(contract)).content.decode()
    assert 'disabled aria-disabled="true"' in page and "Compteur" in page
    refused = web.post(threshold_url(contract), {"threshold_go": "10"}).content.decode()
    assert "Un seuil data ne se règle que sur les offres Compteur" in refused and "R-CAT" not in refused
    contract.refresh_from_db()
    assert contract.data_threshold_bytes is None


def test_other_partner_topup_and_threshold_pages_are_404(web, stock):
    theirs = live_line(Stock(base=600))
    assert web.get(topup_url(theirs)).status_code == 404
    assert web.post(topup_url(theirs), {"volume": str(GB), "request_key": "x"}).status_code == 404
    assert web.post(threshold_url(theirs), {"threshold_go": "10"}).status_code == 404
    assert not ContractTopup.objects.filter(contract=theirs).exists()
