"""R-SC-6 / R-SC-8: the partner sees its clients' self-care orders — on the client page (« Commandes selfcare »,
the latest ones), on the client's full list (number, date, self-care user, line, action, state) and, for
platform staff, read-only in the Django admin. Another partner's client is a 404 (STYLE 16, 26)."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Offer
from contracts.models import Contract, OperatorRequest
from selfcare.models import SelfcareOrder
from selfcare.services import selfcare_action_perform
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory
from tests.factories.partners import ClientAccountFactory, PartnerFactory, SelfcareAccessFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PROVISIONING_WAKE_ON_ORDER = False


@pytest.fixture
def client_account(partner):
    return ClientAccountFactory(partner=partner, company_name="Boulangerie Martin")


@pytest.fixture
def fleet_manager(client_account):
    return SelfcareAccessFactory(client=client_account, user__username="flotte@boulangerie").user


@pytest.fixture
def line(client_account):
    load_test_catalog()
    return ContractFactory(
        order__client=client_account,
        order__offer=Offer.objects.get(code="OR-ILL-10G-B"),
        state=Contract.State.ACTIVE,
        user_name="Jeanne Martin",
        msisdn="0611223344",
    )


def _order(line, user, action, key, **data) -> SelfcareOrder:
    return selfcare_action_perform(
        contract=line, client=line.client, user=user, action=action, request_key=key, data=data
    )


def _list_url(client) -> str:
    return reverse("backoffice:client_selfcare_orders", kwargs={"client_id": client.pk})


def test_R_SC_6_client_orders_list_shows_number_date_user_line_action_state(
    staff_client, client_account, fleet_manager, line
):
    suspend = _order(line, fleet_manager, "suspendre", "k1")
    rename = _order(line, fleet_manager, "utilisateur", "k2", user_name="Paul Durand")
    response = staff_client.get(_list_url(client_account))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    for order in (suspend, rename):
        assert f'data-order="{order.number}"' in html
        assert order.created_at.astimezone().strftime("%d/%m/%Y") in html
    assert html.index(rename.number) < html.index(suspend.number)  # newest first
    assert "flotte@boulangerie" in html and line.number in html and "06 11 22 33 44" not in html
    assert "0611223344" in html
    assert "Suspension de la ligne" in html and "Changement d'utilisateur" in html
    assert (
        str(OperatorRequest.State(suspend.operator_request.state).label) in html
    )  # the operator request's state
    assert "Effectuée" in html  # a rename has no operator request: done at once


def test_R_SC_6_client_page_shows_latest_selfcare_orders_with_a_link(
    staff_client, client_account, fleet_manager, line
):
    empty = unescape(staff_client.get(f"/clients/{client_account.pk}/").content.decode())
    assert "Commandes selfcare" in empty and "Aucune commande passée depuis l'espace client." in empty
    orders = [_order(line, fleet_manager, "utilisateur", f"n{i}", user_name=f"U{i}") for i in range(7)]
    html = unescape(staff_client.get(f"/clients/{client_account.pk}/").content.decode())
    shown = [o.number for o in orders if f'data-order="{o.number}"' in html]
    assert shown == [o.number for o in orders[-5:]]  # the 5 latest
    assert _list_url(client_account) in html


def test_R_SC_6_other_partners_client_orders_are_404(staff_client, fleet_manager, line):
    other = PartnerFactory(name="Autre Réseau")
    foreign = ClientAccountFactory(partner=other, company_name="Secret SARL")
    foreign_line = ContractFactory(order__client=foreign, state=Contract.State.ACTIVE, user_name="Secret")
    foreign_user = SelfcareAccessFactory(client=foreign).user
    order = _order(foreign_line, foreign_user, "utilisateur", "f1", user_name="Secret Renamed")
    response = staff_client.get(_list_url(foreign))
    assert response.status_code == 404
    assert order.number not in response.content.decode()
    # and the own client's list never shows the foreign order
    assert order.number not in staff_client.get(_list_url(line.client)).content.decode()


def test_R_SC_6_client_orders_list_query_budget(
    staff_client, client_account, fleet_manager, line, django_assert_max_num_queries
):
    for i in range(30):
        _order(line, fleet_manager, "utilisateur", f"b{i}", user_name=f"U{i}")
    with django_assert_max_num_queries(10):
        response = staff_client.get(_list_url(client_account))
    assert response.status_code == 200
    assert unescape(response.content.decode()).count("data-order=") == 25  # one page


def test_R_SC_6_admin_lists_selfcare_orders_read_only_for_platform_admins(fleet_manager, line, staff_client):
    order = _order(line, fleet_manager, "suspendre", "a1")
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = admin.get("/admin/selfcare/selfcareorder/")
    assert changelist.status_code == 200 and order.number in changelist.content.decode()
    change = admin.get(f"/admin/selfcare/selfcareorder/{order.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()  # read-only: no save button
    assert admin.get("/admin/selfcare/selfcareorder/add/").status_code == 403
    assert admin.post(f"/admin/selfcare/selfcareorder/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert SelfcareOrder.objects.filter(pk=order.pk).exists()
    # partner staff are not platform admins
    assert staff_client.get("/admin/selfcare/selfcareorder/").status_code == 302
