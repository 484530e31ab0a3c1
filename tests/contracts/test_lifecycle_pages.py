"""Back-office doors of the lifecycle actions (``backoffice.contract_actions_views``): the "Actions possibles" tab
links each enabled action to its form (greyed ones keep their reason, R-CON-9); each form shows its French
confirmation text, POSTs with CSRF, re-renders a refusal next to its field, and a success lands on the History tab
with a message. Options tab: "Ajouter une option", "Changer l'itinérance", "Résilier" (R-OPT-3/4/8)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from contracts import datablocks, outcomes
from contracts.models import Contract, ContractOption, OperatorRequest, ScheduledChange
from core.operator_kinds import RequestKind
from inventory.models import SimCard
from tests.factories.partners import ClientAccountFactory, MembershipFactory
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import (
    TUESDAY_10H,
    last_request,
    lifecycle_settings,
    live_line,
    order_line,
    spare_sim,
    sweep,
)

pytestmark = pytest.mark.django_db

State = Contract.State


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


def action_url(contract: Contract, action: str) -> str:
    return reverse("backoffice:contract_action", kwargs={"contract_id": contract.pk, "action": action})


def tab_url(contract: Contract, tab: str) -> str:
    return reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": tab})


def done(response, contract: Contract) -> str:
    """A success: redirected to the History tab, which shows the message."""
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == tab_url(contract, "historique")
    return response


def test_R_CON_9_actions_tab_links_enabled_actions_and_greys_the_others(web, stock):
    contract = live_line(stock)
    page = web.get(tab_url(contract, "actions")).content.decode()
    assert f'href="{action_url(contract, "suspend")}"' in page
    assert f'href="{action_url(contract, "terminate")}"' in page
    assert f'href="{action_url(contract, "resume")}"' not in page  # greyed: not suspended
    assert "La ligne n&#x27;est pas suspendue." in page


def test_R_CON_5_suspend_through_the_page(web, stock):
    contract = live_line(stock)
    form = web.get(action_url(contract, "suspend")).content.decode()
    assert "La facturation continue" in form and "csrfmiddlewaretoken" in form

    response = done(web.post(action_url(contract, "suspend")), contract)
    history = web.get(response["Location"]).content.decode()
    assert "Suspension demandée à l&#x27;opérateur" in history and "La facturation continue" in history
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.SUSPENDED

    again = web.post(action_url(contract, "suspend"))  # refused: re-rendered with the rule
    assert again.status_code == 200
    assert "La ligne est déjà suspendue. (R-CON-5)" in again.content.decode()

    done(web.post(action_url(contract, "resume")), contract)
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE


def test_csrf_is_required_on_action_posts(stock):
    contract = live_line(stock)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(MembershipFactory(partner=stock.partner).user)
    assert strict.post(action_url(contract, "suspend")).status_code == 403
    assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SUSPEND).exists()


def test_R_CON_6_terminate_through_the_page(web, stock):
    contract = live_line(stock)
    assert "jamais réattribués (R-CON-6)" in web.get(action_url(contract, "terminate")).content.decode()
    done(web.post(action_url(contract, "terminate")), contract)
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.TERMINATED and contract.sim.state == SimCard.State.RETIRED
    twice = web.post(action_url(contract, "terminate")).content.decode()
    assert "La ligne est déjà résiliée. (R-CON-6)" in twice


def test_R_ORD_5_sim_swap_through_the_page_with_the_error_next_to_the_field(web, stock):
    contract = live_line(stock)
    other_clients = spare_sim(stock)
    SimCard.objects.filter(pk=other_clients.pk).update(
        state=SimCard.State.ASSIGNED, client=ClientAccountFactory(partner=stock.partner)
    )
    form = web.get(action_url(contract, "swap_sim")).content.decode()
    assert 'list="sim-choices"' in form

    error = web.post(action_url(contract, "swap_sim"), {"iccid": other_clients.iccid}).content.decode()
    assert 'class="field field-error" id="field-iccid"' in error and "(R-ORD-5)" in error

    new_sim = spare_sim(stock)
    done(web.post(action_url(contract, "swap_sim"), {"iccid": new_sim.iccid}), contract)
    sweep()
    contract.refresh_from_db()
    assert contract.sim_id == new_sim.pk


def test_R_OPT_2_esim_swap_greyed_and_refused_on_bouygues(web, stock):
    contract = live_line(stock, "bouygues")
    page = web.get(action_url(contract, "swap_esim")).content.decode()
    assert "L&#x27;eSIM n&#x27;est disponible que sur le réseau Orange." in page and "disabled" in page
    refused = web.post(
        action_url(contract, "swap_esim"), {"contact_email": "a@example.fr", "contact_mobile": "0611223344"}
    ).content.decode()
    assert "(R-OPT-2)" in refused
    assert not OperatorRequest.objects.filter(contract=contract, kind=RequestKind.SWAP_SIM_ESIM).exists()


def test_R_ORD_5_esim_swap_through_the_page(web, stock):
    contract = live_line(stock)
    missing = web.post(action_url(contract, "swap_esim"), {"contact_email": "a@example.fr"}).content.decode()
    assert 'id="field-contact_mobile"' in missing and "field-error" in missing
    done(
        web.post(
            action_url(contract, "swap_esim"),
            {"contact_email": "a@example.fr", "contact_mobile": "0611223344"},
        ),
        contract,
    )
    assert last_request(contract).kind == RequestKind.SWAP_SIM_ESIM


def test_R_CON_1_upgrade_then_cancel_through_the_pages(web, stock):
    contract = live_line(stock)
    form = web.get(action_url(contract, "change_speed")).content.decode()
    assert 'value="OR-ILL-30G-B"' in form and 'value="OR-ILL-10G-NB"' not in form  # migrations elsewhere
    assert 'value="OR-ILL-10G-NB"' in web.get(action_url(contract, "migrate")).content.decode()
    done(web.post(action_url(contract, "change_speed"), {"offer": "OR-ILL-30G-B"}), contract)
    change = ScheduledChange.objects.get(contract=contract)
    assert change.state == ScheduledChange.State.SCHEDULED
    actions = web.get(tab_url(contract, "actions")).content.decode()
    assert "Un changement d&#x27;offre est déjà programmé" in actions
    assert f'href="{action_url(contract, "cancel_change")}"' in actions
    confirm = web.get(action_url(contract, "cancel_change")).content.decode()
    assert "Upgrade" in confirm and "01/04/2027 à 00:00" in confirm

    done(web.post(action_url(contract, "cancel_change")), contract)
    change.refresh_from_db()
    assert change.state == ScheduledChange.State.CANCELLED


def test_R_CON_7_retry_through_the_page(web, stock):
    contract = order_line(stock)
    outcomes.operator_request_failed(request_id=last_request(contract).pk, error="Panne", final=True)
    assert f'href="{action_url(contract, "retry")}"' in web.get(tab_url(contract, "actions")).content.decode()
    done(web.post(action_url(contract, "retry")), contract)
    sweep()
    contract.refresh_from_db()
    assert contract.state == State.ACTIVE


def test_R_OPT_8_options_tab_add_and_terminate(web, stock):
    contract = live_line(stock)
    tab = web.get(tab_url(contract, "options")).content.decode()
    add_url = reverse("backoffice:contract_option_add", kwargs={"contract_id": contract.pk})
    assert "Ajouter une option" in tab and add_url in tab
    assert "Résilier</a>" not in tab  # roaming rows are changed, not terminated

    form = web.get(add_url).content.decode()
    assert 'value="fixed_ip"' in form and 'value="partner_platform"' not in form  # not an Init Sys partner
    refused = web.post(add_url, {"option": "partner_platform"})
    assert refused.status_code == 200 and "field-error" in refused.content.decode()  # not a choice here
    done(web.post(add_url, {"option": "fixed_ip"}), contract)
    sweep()
    option = ContractOption.objects.get(contract=contract, code="fixed_ip")
    assert option.status == ContractOption.Status.ACTIVE

    terminate_url = reverse(
        "backoffice:contract_option_terminate", kwargs={"contract_id": contract.pk, "option_id": option.pk}
    )
    assert terminate_url in web.get(tab_url(contract, "options")).content.decode()
    confirm = web.get(terminate_url).content.decode()
    assert "01/04/2027" in confirm and "R-OPT-3" in confirm  # Orange: 1st of next month
    done(web.post(terminate_url), contract)
    option.refresh_from_db()
    assert option.status == ContractOption.Status.TERMINATING
    assert "déjà programmée" in web.post(terminate_url).content.decode()


def test_R_OPT_4_R_ALR_5_roaming_change_through_the_page(web, stock):
    contract = live_line(stock)
    block = datablocks.contract_data_block(
        contract_id=contract.pk, scope="roaming", zone="usa_canada", rule="R-ALR-3", reason="cut-off atteint"
    )
    url = reverse("backoffice:contract_roaming", kwargs={"contract_id": contract.pk})
    page = web.get(url).content.decode()
    assert "ne s&#x27;additionnent pas" in page and "OR-ROA-ILL-USCA-OPT-5G" in page
    done(web.post(url, {"zone": "usa_canada", "choice": "OR-ROA-ILL-USCA-OPT-5G"}), contract)
    sweep()
    assert ContractOption.objects.get(contract=contract, code="OR-ROA-ILL-USCA-OPT-5G").status == "active"
    wrong_zone = web.post(
        url, {"zone": "maghreb_turquie", "choice": "OR-ROA-ILL-USCA-OPT-10G"}
    ).content.decode()
    assert "(R-OPT-5)" in wrong_zone
    block.refresh_from_db()
    assert block.lifted_at is not None  # R-ALR-5: unblocked at once
    history = web.get(tab_url(contract, "historique")).content.decode()
    assert "Data de la ligne débloquée par l&#x27;opérateur (USA/Canada)" in history


def test_unknown_action_is_404(web, stock):
    contract = live_line(stock)
    assert web.get(action_url(contract, "dance")).status_code == 404


@pytest.mark.parametrize("action", ["suspend", "terminate", "swap_sim", "cancel_change"])
def test_other_partner_contract_action_pages_are_404(web, stock, action):
    theirs = live_line(Stock(base=600))
    assert web.get(action_url(theirs, action)).status_code == 404
    assert web.post(action_url(theirs, action), {"iccid": ""}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == State.ACTIVE and OperatorRequest.objects.filter(contract=theirs).count() == 1
