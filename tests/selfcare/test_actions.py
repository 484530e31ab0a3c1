"""R-SC-6 / R-SC-7 / R-SC-8 / R-PRV-5: the client's actions on its line page — each a confirmation page whose
POST goes through the same contract services as the back-office, gets a « bon de commande » number and emails
the partner's staff who opted in; greyed actions are refused by the server; a double submit is one action."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse

from catalog.models import Offer
from contracts.models import Contract, ContractEvent, ContractTopup, OperatorRequest
from core.money import GB
from inventory.models import SimCard
from notifications.models import OutboxMessage
from selfcare.models import SelfcareOrder
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory
from tests.factories.inventory import SimCardFactory
from tests.factories.partners import ClientAccountFactory, MembershipFactory, UserFactory

from .conftest import login

pytestmark = pytest.mark.django_db
URLCONF = "alphalink.urls_selfcare"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PROVISIONING_WAKE_ON_ORDER = False


@pytest.fixture
def catalog(db):
    return load_test_catalog()


@pytest.fixture
def staff(partner):
    MembershipFactory(partner=partner, user=UserFactory(email="ops@p.fr"))
    MembershipFactory(partner=partner, user=UserFactory(email="quiet@p.fr"), notify_selfcare_orders=False)


@pytest.fixture
def line(catalog, client_account):
    offer = Offer.objects.get(code="OR-ILL-10G-B")
    return ContractFactory(
        order__client=client_account,
        order__offer=offer,
        state=Contract.State.ACTIVE,
        user_name="Jeanne Martin",
        msisdn="0611223344",
    )


@pytest.fixture
def web(selfcare, access):
    assert login(selfcare, access.user.username).status_code == 302
    return selfcare


def _url(contract, action=None) -> str:
    if action is None:
        return reverse("selfcare:line", urlconf=URLCONF, kwargs={"pk": contract.pk})
    return reverse("selfcare:line_action", urlconf=URLCONF, kwargs={"pk": contract.pk, "action": action})


def _requests(contract, kind=None):
    qs = OperatorRequest.objects.filter(contract=contract)
    return qs.filter(kind=kind) if kind else qs


def _order_number(response) -> str:
    order = SelfcareOrder.objects.order_by("-pk").first()
    assert order is not None
    return order.number


def test_R_SC_6_topup_end_to_end_with_source_selfcare_and_order_number(web, line, staff):
    page = unescape(web.get(_url(line, "recharge")).content.decode())
    assert "jusqu'à 30 minutes" in page and "ne pas la recommander pendant ce délai" in page
    response = web.post(_url(line, "recharge"), {"volume_bytes": GB, "request_key": "k-topup-1"}, follow=True)
    assert response.status_code == 200
    topup = ContractTopup.objects.get(contract=line)
    assert topup.source == ContractTopup.Source.SELFCARE and topup.volume_bytes == GB
    assert _requests(line, "topup").count() == 1
    order = SelfcareOrder.objects.get()
    assert order.number.startswith("BDC-") and order.number in unescape(response.content.decode())
    assert order.operator_request == topup.operator_request
    emails = OutboxMessage.objects.filter(channel="email")
    assert [m.to for m in emails] == ["ops@p.fr"]
    for text in ("Boulangerie Martin", "Jeanne Martin", "06 11 22 33 44", line.number, order.number):
        assert text in emails[0].body_text, text


def test_R_SC_6_double_submit_is_one_action(web, line, staff):
    for _ in range(2):
        web.post(_url(line, "suspendre"), {"request_key": "same-key"})
    assert _requests(line, "suspend").count() == 1
    assert SelfcareOrder.objects.count() == 1
    assert OutboxMessage.objects.filter(channel="email").count() == 1


def test_R_PRV_5_second_topup_within_30_minutes_needs_confirmation(web, line):
    web.post(_url(line, "recharge"), {"volume_bytes": GB, "request_key": "k1"})
    second = web.post(_url(line, "recharge"), {"volume_bytes": GB, "request_key": "k2"})
    assert second.status_code == 422
    html = unescape(second.content.decode())
    assert "Commander quand même" in html and "R-PRV-5" not in html
    assert ContractTopup.objects.filter(contract=line).count() == 1
    web.post(_url(line, "recharge"), {"volume_bytes": GB, "request_key": "k2", "confirm_repeat": "on"})
    assert ContractTopup.objects.filter(contract=line).count() == 2


def test_R_SC_6_suspend_warns_billing_continues_and_resume(web, line, staff):
    page = unescape(web.get(_url(line, "suspendre")).content.decode())
    assert "Cette action n'entraîne pas l'arrêt de la facturation de la ligne" in page
    assert web.post(_url(line, "suspendre"), {"request_key": "s1"}).status_code == 302
    assert _requests(line, "suspend").count() == 1
    Contract.objects.filter(pk=line.pk).update(state=Contract.State.SUSPENDED)
    OperatorRequest.objects.filter(contract=line).update(state="completed")
    assert web.post(_url(line, "reactiver"), {"request_key": "r1"}).status_code == 302
    assert _requests(line, "resume").count() == 1
    assert SelfcareOrder.objects.count() == 2


def test_R_SC_6_greyed_action_is_shown_with_reason_and_refused_by_the_server(web, line):
    html = unescape(web.get(_url(line)).content.decode())
    assert 'data-action="reactiver" class="greyed"' in html and "La ligne n'est pas suspendue." in html
    response = web.post(_url(line, "reactiver"), {"request_key": "g1"})
    assert response.status_code == 422
    assert "La ligne n'est pas suspendue." in unescape(response.content.decode())
    assert not _requests(line).exists() and not SelfcareOrder.objects.exists()


def test_R_SC_7_sim_swap_only_with_a_sim_assigned_to_this_client(web, line, client_account, partner):
    mine = SimCardFactory(partner=partner, state=SimCard.State.ASSIGNED, client=client_account)
    in_stock = SimCardFactory(partner=partner)
    neighbour = ClientAccountFactory(partner=partner)
    theirs = SimCardFactory(partner=partner, state=SimCard.State.ASSIGNED, client=neighbour)
    sims = web.get(reverse("selfcare:line_sims", urlconf=URLCONF, kwargs={"pk": line.pk}), {"iccid": ""})
    listed = unescape(sims.content.decode())
    assert mine.iccid in listed and in_stock.iccid not in listed and theirs.iccid not in listed
    for i, sim in enumerate((in_stock, theirs)):
        response = web.post(_url(line, "sim-swap"), {"iccid": sim.iccid, "request_key": f"x{i}"})
        assert response.status_code == 422
        assert "ne fait pas partie des cartes qui vous sont affectées" in unescape(response.content.decode())
    assert not _requests(line).exists()
    assert web.post(_url(line, "sim-swap"), {"iccid": mine.iccid, "request_key": "ok"}).status_code == 302
    request = _requests(line, "swap_sim").get()
    assert request.payload["iccid"] == mine.iccid


def test_R_SC_6_sim_swap_greyed_without_assigned_sim(web, line, partner):
    SimCardFactory(partner=partner)  # the partner's stock is not the client's
    html = unescape(web.get(_url(line)).content.decode())
    assert 'data-action="sim-swap" class="greyed"' in html


def test_R_SC_6_esim_swap_refused_when_not_allowed_then_done_when_allowed(web, line, client_account):
    client_account.selfcare_esim_swap_allowed = False
    client_account.save()
    data = {"contact_email": "j@b.fr", "contact_mobile": "0699887766", "request_key": "e1"}
    response = web.post(_url(line, "esim-swap"), data)
    assert response.status_code == 422
    assert "n'est pas autorisé" in unescape(response.content.decode())
    assert not _requests(line).exists()
    client_account.selfcare_esim_swap_allowed = True
    client_account.save()
    assert web.post(_url(line, "esim-swap"), {**data, "request_key": "e2"}).status_code == 302
    assert _requests(line, "swap_sim_esim").count() == 1


def test_R_SC_6_rename_the_user(web, line, staff):
    page = unescape(web.get(_url(line, "utilisateur")).content.decode())
    assert "Jeanne Martin" in page
    assert (
        web.post(_url(line, "utilisateur"), {"user_name": "Paul Durand", "request_key": "n1"}).status_code
        == 302
    )
    line.refresh_from_db()
    assert line.user_name == "Paul Durand"
    assert ContractEvent.objects.filter(contract=line, message__contains="Paul Durand").exists()
    email = OutboxMessage.objects.get(channel="email")
    assert "Paul Durand" in email.body_text and SelfcareOrder.objects.get().number in email.body_text


def test_R_SC_6_another_clients_line_is_404_and_nothing_changed(web, line, partner, other_partner):
    neighbour = ContractFactory(order__client=ClientAccountFactory(partner=partner), user_name="Voisin")
    foreign = ContractFactory(order__client=ClientAccountFactory(partner=other_partner), user_name="Autre")
    for contract in (neighbour, foreign):
        for action in ("suspendre", "utilisateur"):
            assert web.get(_url(contract, action)).status_code == 404
            response = web.post(_url(contract, action), {"user_name": "Pirate", "request_key": "p"})
            assert response.status_code == 404
        sims = reverse("selfcare:line_sims", urlconf=URLCONF, kwargs={"pk": contract.pk})
        assert web.get(sims).status_code == 404
    assert not OperatorRequest.objects.exists() and not SelfcareOrder.objects.exists()
    assert {c.user_name for c in Contract.objects.filter(pk__in=[neighbour.pk, foreign.pk])} == {
        "Voisin",
        "Autre",
    }


def test_R_SC_6_unknown_action_is_404(web, line):
    assert web.get(_url(line, "resilier")).status_code == 404
