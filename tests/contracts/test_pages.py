"""Back-office pages: the order flow (R-ORD-1..3), order list/page, contract list with filters, contract page tabs
(R-ORD-6), and partner scoping (404 for another partner's objects)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, Order
from contracts.services import LineSpec, contract_transition, order_place
from tests.factories.contracts import ContractFactory, offer
from tests.factories.partners import ClientAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, staff):
    client.force_login(staff)
    return client


def form_data(client_account, **extra):
    data = {
        "client": client_account.pk,
        "network": "orange",
        "range": "illimite",
        "blocked": "1",
        "offer": "OR-ILL-10G-B",
        "quantity": "1",
        "configuration": "unit",
        "portability": "0",
        "sim_type": "pin",
        "activation_date": timezone.localdate().isoformat(),
        "allow_sva": "1",
        "roaming_usa_canada": "OR-ROA-ILL-USCA-CUT-0",
        "roaming_maghreb_turquie": "OR-ROA-ILL-MT-CUT-0",
        "roaming_reste_du_monde": "OR-ROA-ILL-RDM-CUT-0",
    }
    data.update(extra)
    return data


# --- order flow ---------------------------------------------------------------------------------------------


def test_R_ORD_1_order_form_narrows_offers_and_shows_catalog_choices(catalog, web, client_account):
    url = reverse("backoffice:order_create_for_client", kwargs={"client_id": client_account.pk})
    page = web.get(url, {"network": "bouygues", "range": "data_only", "blocked": "1"})
    offers = [code for code, _label in _flat(page.context["form"].fields["offer"].choices)]
    assert offers and all(code.startswith("BY-DATA-") and code.endswith("-B") for code in offers)

    refreshed = web.post(url, {**form_data(client_account), "refresh": "1"}, HTTP_HX_REQUEST="true")
    body = refreshed.content.decode()
    assert refreshed.status_code == 200 and 'id="order-form"' in body and "<html" not in body  # htmx partial
    assert "Roaming USA/Canada" in body and "Cut-off (compteur) 0 Mo" in body  # R-OPT-5
    assert "cut-off égal à l'enveloppe du forfait, 10 Go" in body  # R-ROA-3
    assert "eSIM (+1,50 € HT)" in body  # R-OPT-2
    assert "5G (en option" in body  # R-CAT-9: 10 Go Orange, 5G not included
    assert "IP fixe" in body and "Conférence" in body
    assert not Order.objects.exists()


def test_R_CAT_9_five_g_not_offered_where_included(catalog, web, client_account):
    url = reverse("backoffice:order_create")
    page = web.post(url, {**form_data(client_account, offer="OR-ILL-50G-B"), "refresh": "1"})
    assert "five_g" not in page.context["form"].fields


def test_R_OPT_2_no_esim_choice_on_bouygues(catalog, web, client_account):
    url = reverse("backoffice:order_create")
    page = web.post(
        url, {**form_data(client_account, network="bouygues", offer="BY-ILL-10G-B"), "refresh": "1"}
    )
    assert "esim" not in dict(page.context["form"].fields["sim_type"].choices)


def test_R_ORD_1_order_one_line_through_the_page(catalog, web, client_account, orange_stock):
    url = reverse("backoffice:order_create_for_client", kwargs={"client_id": client_account.pk})
    response = web.post(
        url,
        form_data(client_account, line_0_user_name="Marie Durand", options=["conference"]),
    )
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "backoffice:order_detail", kwargs={"order_id": order.pk}
    )
    contract = order.contracts.get()
    assert contract.user_name == "Marie Durand" and contract.state == Contract.State.PENDING
    assert contract.options.filter(code="conference").exists()
    detail = web.get(response["Location"]).content.decode()
    assert order.number in detail and contract.number in detail and "En cours" in detail


def test_R_ORD_2_order_fifty_lines_multiple_configuration_through_the_page(
    catalog, web, client_account, orange_stock
):
    rows = ["utilisateur;numéro;email;mobile;type;rio", "Porté;0612345678;;;pin;01P12345636Q"]
    rows += [f"U{i};;u{i}@client.fr;0699887766;esim;" if i % 2 else f"U{i};;;;;" for i in range(1, 50)]
    response = web.post(
        reverse("backoffice:order_create"),
        form_data(
            client_account, configuration="multiple", portability="1", quantity="1", lines_csv="\n".join(rows)
        ),
        HTTP_HX_REQUEST="true",
    )
    order = Order.objects.get()
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("backoffice:order_detail", kwargs={"order_id": order.pk})
    assert order.quantity == 50 and order.configuration == "multiple"
    contracts = order.contracts.all()
    assert contracts.count() == 50
    assert contracts.filter(sim_type="esim").count() == 25
    assert contracts.get(portability=True).rio == "01P12345636Q"


def test_R_ORD_2_refusal_rerenders_the_form_with_the_message_next_to_the_field(
    catalog, web, client_account, orange_stock
):
    response = web.post(
        reverse("backoffice:order_create"),
        form_data(client_account, portability="1", line_0_msisdn="0612345678", line_0_rio="01P12345636A"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "line_0_rio" in form.errors
    assert "La clé du RIO ne correspond pas" in form.errors["line_0_rio"][0]
    assert "(R-ORD-2)" in form.errors["line_0_rio"][0]
    assert "La clé du RIO ne correspond pas" in response.content.decode()
    assert not Order.objects.exists()


def test_R_ORD_3_esim_without_contact_email_refused_on_the_page(catalog, web, client_account, orange_stock):
    response = web.post(reverse("backoffice:order_create"), form_data(client_account, sim_type="esim"))
    errors = response.context["form"].errors
    assert "line_0_contact_email" in errors and "(R-ORD-3)" in errors["line_0_contact_email"][0]
    assert not Order.objects.exists()


def test_R_ORD_2_rio_without_portability_is_a_form_error(catalog, web, client_account, orange_stock):
    response = web.post(
        reverse("backoffice:order_create"), form_data(client_account, line_0_rio="01P12345636Q")
    )
    assert "line_0_rio" in response.context["form"].errors
    assert not Order.objects.exists()


def test_order_form_for_another_partner_client_is_404(catalog, web):
    foreign = ClientAccountFactory()
    url = reverse("backoffice:order_create_for_client", kwargs={"client_id": foreign.pk})
    assert web.get(url).status_code == 404
    assert web.post(url, form_data(foreign)).status_code == 404
    response = web.post(reverse("backoffice:order_create"), form_data(foreign))  # client not in the choices
    assert "client" in response.context["form"].errors
    assert not Order.objects.exists()


# --- lists --------------------------------------------------------------------------------------------------


def test_order_and_contract_lists_filter_and_paginate(
    catalog, web, partner, staff, client_account, orange_stock
):
    order = order_place(
        partner=partner, client=client_account, created_by=staff, offer=offer("OR-ILL-10G-B"), quantity=30
    )
    other_client = ClientAccountFactory(partner=partner)
    order_place(
        partner=partner, client=other_client, created_by=staff, offer=offer("OR-DATA-10G-B"), quantity=2
    )
    orders = web.get(reverse("backoffice:order_list"))
    assert orders.context["page"].paginator.count == 2

    listing = web.get(reverse("backoffice:contract_list"))
    assert listing.context["page"].paginator.count == 32 and len(listing.context["contracts"]) == 25
    page2 = web.get(reverse("backoffice:contract_list"), {"page": 2})
    assert len(page2.context["contracts"]) == 7
    by_client = web.get(reverse("backoffice:contract_list"), {"client": other_client.pk})
    assert by_client.context["page"].paginator.count == 2
    by_offer = web.get(reverse("backoffice:contract_list"), {"offer": "OR-ILL-10G-B"})
    assert by_offer.context["page"].paginator.count == 30
    first = order.contracts.order_by("number").first()
    by_number = web.get(reverse("backoffice:contract_list"), {"number": first.msisdn})
    assert [c.pk for c in by_number.context["contracts"]] == [first.pk]
    by_sim = web.get(reverse("backoffice:contract_list"), {"sim": first.sim.iccid})
    assert [c.pk for c in by_sim.context["contracts"]] == [first.pk]
    contract_transition(contract=first, to_state=Contract.State.ACTIVE)
    by_state = web.get(reverse("backoffice:contract_list"), {"state": "user:active"}, HTTP_HX_REQUEST="true")
    assert [c.pk for c in by_state.context["contracts"]] == [first.pk]
    assert "<html" not in by_state.content.decode()  # htmx: only the results partial
    assert by_state.context["counts"]["active"] == 1 and by_state.context["counts"]["pending"] == 31


# --- contract page ------------------------------------------------------------------------------------------

TABS = ["informations", "options", "frais", "technique", "ressources", "actions", "historique"]


@pytest.fixture
def esim_contract(catalog, partner, staff, client_account, orange_stock):
    order = order_place(
        partner=partner,
        client=client_account,
        created_by=staff,
        offer=offer("OR-ILL-10G-B"),
        quantity=1,
        lines=[
            LineSpec(
                user_name="Anne", sim_type="esim", contact_email="anne@client.fr", contact_mobile="0787561725"
            )
        ],
        option_codes=["fixed_ip"],
        roaming={"usa_canada": "OR-ROA-ILL-USCA-OPT-3G"},
    )
    return order.contracts.get()


@pytest.mark.parametrize("tab", TABS)
def test_R_ORD_6_contract_tabs_render_as_page_and_as_htmx_partial(web, esim_contract, tab):
    url = reverse("backoffice:contract_tab", kwargs={"contract_id": esim_contract.pk, "tab": tab})
    page = web.get(url)
    assert page.status_code == 200 and "<html" in page.content.decode()
    partial = web.get(url, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and f'data-tab="{tab}"' in body


def test_R_ORD_6_contract_tab_contents(web, esim_contract):
    def tab(name):
        return web.get(
            reverse("backoffice:contract_tab", kwargs={"contract_id": esim_contract.pk, "tab": name})
        ).content.decode()

    info = tab("informations")
    assert esim_contract.number in info and "Anne" in info and "Création de ligne eSIM" in info
    options = tab("options")
    assert (
        "Option roaming Data USA/Canada 3 Go" in options and "eSIM Orange" in options and "25,00 €" in options
    )
    assert "Prix HT" in options and "Abonnement HT" in options and "FAS HT" in options
    fees = tab("frais")
    assert "FAS eSIM" in fees and "1,50 €" in fees and "R-OPT-2" in fees
    technical = tab("technique")
    assert "888" in technical and "Orange internet" in technical  # R-SET-1, R-SET-2
    assert f"{esim_contract.msisdn.replace('0', '33', 1)}@alpha.otd" in technical  # fixed IP login (R-SET-2)
    assert "Réseau affiché" in technical and "R-SET-4" in technical
    resources = tab("ressources")
    assert esim_contract.esim.activation_code in resources and esim_contract.esim.iccid in resources
    assert "0787561725" in resources
    actions = tab("actions")
    assert "À résilier" in actions and "SIM Swap vers eSIM" in actions
    assert "La ligne est en cours d&#x27;activation." in actions and "disabled" in actions  # R-CON-9
    history = tab("historique")
    assert "Ligne commandée" in history and "Demande opérateur enregistrée" in history


def test_R_CON_9_actions_enabled_once_active(web, esim_contract):
    contract_transition(contract=esim_contract, to_state=Contract.State.ACTIVE)
    page = web.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": esim_contract.pk, "tab": "actions"})
    )
    actions = {a.code: a for a in page.context["actions"]}
    assert actions["suspend"].enabled and actions["terminate"].enabled
    assert not actions["resume"].enabled and actions["resume"].reason == "La ligne n'est pas suspendue."


def test_R_SET_4_bouygues_line_shows_bouygues_settings(
    catalog, web, partner, staff, client_account, bouygues_stock
):
    contract = order_place(
        partner=partner, client=client_account, created_by=staff, offer=offer("BY-ILL-10G-B"), quantity=1
    ).contracts.get()
    body = web.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "technique"})
    ).content.decode()
    assert "777" in body and "mmsbouygtel.com" in body and "Bouygues Tel" in body


def test_R_ORD_6_resources_of_a_physical_sim_show_puk(
    catalog, web, partner, staff, client_account, orange_stock
):
    contract = order_place(
        partner=partner, client=client_account, created_by=staff, offer=offer("OR-ILL-10G-B"), quantity=1
    ).contracts.get()
    body = web.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "ressources"})
    ).content.decode()
    assert contract.sim.iccid in body and contract.sim.puk in body


def test_unknown_tab_is_404(web, esim_contract):
    url = reverse("backoffice:contract_tab", kwargs={"contract_id": esim_contract.pk, "tab": "secret"})
    assert web.get(url).status_code == 404


def test_client_page_lists_its_lines_and_the_order_button(web, esim_contract):
    body = web.get(
        reverse("backoffice:client_detail", kwargs={"client_id": esim_contract.client_id})
    ).content.decode()
    assert esim_contract.number in body
    assert (
        reverse("backoffice:order_create_for_client", kwargs={"client_id": esim_contract.client_id}) in body
    )


# --- tenancy ------------------------------------------------------------------------------------------------


def test_other_partner_contract_and_order_pages_are_404(catalog, web):
    foreign = ContractFactory(user_name="Secret-B")
    for tab in TABS:
        url = reverse("backoffice:contract_tab", kwargs={"contract_id": foreign.pk, "tab": tab})
        assert web.get(url).status_code == 404
    assert (
        web.get(reverse("backoffice:contract_detail", kwargs={"contract_id": foreign.pk})).status_code == 404
    )
    assert (
        web.get(reverse("backoffice:order_detail", kwargs={"order_id": foreign.order_id})).status_code == 404
    )
    listing = web.get(reverse("backoffice:contract_list")).content.decode()
    assert "Secret-B" not in listing and foreign.number not in listing
    assert foreign.order.number not in web.get(reverse("backoffice:order_list")).content.decode()


def _flat(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from label
        elif value:
            yield value, label
