"""``order_place`` (R-ORD-1..3): accepted orders create everything in one batch; refusals name the field and the rule
and create nothing. Also the contract state machine service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contracts.models import (
    Contract,
    ContractEvent,
    ContractOption,
    OneOffFee,
    OperatorRequest,
    Order,
    SimType,
)
from contracts.services import LineSpec, contract_transition, order_place
from core.errors import RuleViolation
from core.money import GB
from core.networks import Network
from inventory.models import EsimProfile, PhoneNumber, SimCard
from tests.factories.contracts import add_stock, offer
from tests.factories.partners import ClientAccountFactory, PartnerFactory

pytestmark = pytest.mark.django_db

PORT_NUMBER = "0612345678"
PORT_RIO = "01P12345636Q"  # ID-RIO example: key 36Q for 0612345678


def place(partner, client, user, code, quantity=1, **kwargs):
    return order_place(
        partner=partner, client=client, created_by=user, offer=offer(code), quantity=quantity, **kwargs
    )


def snapshot():
    return {
        "orders": Order.objects.count(),
        "contracts": Contract.objects.count(),
        "options": ContractOption.objects.count(),
        "fees": OneOffFee.objects.count(),
        "requests": OperatorRequest.objects.count(),
        "events": ContractEvent.objects.count(),
        "esims": EsimProfile.objects.count(),
        "sims_in_use": SimCard.objects.filter(state=SimCard.State.IN_USE).count(),
        "numbers_taken": PhoneNumber.objects.exclude(state=PhoneNumber.State.AVAILABLE).count(),
    }


# --- accepted orders ------------------------------------------------------------------------------------------


def test_R_ORD_1_one_line_order_creates_order_contract_options_request_and_history(
    catalog, partner, staff, client_account, orange_stock
):
    order = place(partner, client_account, staff, "OR-ILL-10G-B", lines=[LineSpec(user_name="Marie Durand")])

    year = timezone.localdate().year
    assert order.number == f"CMD-{year}-000001"
    contract = order.contracts.get()
    assert contract.number == f"CTR-{year}-000001"
    assert contract.state == Contract.State.PENDING and contract.get_state_display() == "En cours"
    assert contract.partner == partner and contract.client == client_account
    assert contract.user_name == "Marie Durand"
    assert contract.sim.state == SimCard.State.IN_USE and contract.sim.client == client_account
    assert contract.sim.pin is not None  # SIM type "with PIN" by default
    assert contract.phone_number.state == PhoneNumber.State.RESERVED
    assert contract.msisdn == contract.phone_number.msisdn
    request = OperatorRequest.objects.get(contract=contract)
    assert request.state == OperatorRequest.State.PENDING
    assert request.kind == OperatorRequest.Kind.CREATE_LINE
    assert request.payload["iccid"] == contract.sim.iccid and request.payload["offer_code"] == "OR-ILL-10G-B"
    assert request.partner == partner and request.network == Network.ORANGE
    kinds = list(contract.events.values_list("kind", flat=True))
    assert kinds == [ContractEvent.Kind.CREATED, ContractEvent.Kind.OPERATOR_REQUEST]
    assert contract.events.first().actor == staff
    # R-ROA-3: Orange Europe cut-off = the envelope; other zones default to the lowest cut-off (R-OPT-5)
    labels = set(contract.options.values_list("label", flat=True))
    assert "Cut-off Europe 10 Go" in labels
    assert {
        "Cut-off USA/Canada 0 Mo",
        "Cut-off Maghreb/Turquie 0 Mo",
        "Cut-off Reste du monde 0 Mo",
    } <= labels


def test_R_ORD_2_fifty_lines_multiple_configuration_mixed_esim_sim_and_one_portability(
    catalog, partner, staff, client_account, orange_stock
):
    lines = []
    for i in range(50):
        if i == 0:
            lines.append(
                LineSpec(user_name="Porté", portability=True, msisdn=PORT_NUMBER, rio=PORT_RIO.lower())
            )
        elif i % 3 == 0:
            lines.append(
                LineSpec(
                    user_name=f"eSIM {i}",
                    sim_type=SimType.ESIM,
                    contact_email=f"user{i}@client.fr",
                    contact_mobile="06 99 88 77 66",
                )
            )
        elif i % 7 == 0:
            lines.append(LineSpec(user_name=f"Sans PIN {i}", sim_type=SimType.WITHOUT_PIN))
        else:
            lines.append(LineSpec(user_name=f"Utilisateur {i}"))
    esim_count = sum(1 for line in lines if line.sim_type == SimType.ESIM)
    no_pin_count = sum(1 for line in lines if line.sim_type == SimType.WITHOUT_PIN)

    order = place(
        partner, client_account, staff, "OR-ILL-30G-NB", quantity=50, lines=lines, configuration="multiple"
    )

    contracts = list(order.contracts.order_by("number"))
    assert len(contracts) == 50 and {c.state for c in contracts} == {Contract.State.PENDING}
    assert order.configuration == "multiple"
    assert sum(1 for c in contracts if c.esim_id) == esim_count == 16
    assert sum(1 for c in contracts if c.sim_id and c.sim.pin is None) == no_pin_count
    assert len({c.msisdn for c in contracts}) == 50  # no number given twice
    assert len({c.sim_id for c in contracts if c.sim_id}) == 50 - esim_count
    ported = next(c for c in contracts if c.portability)
    assert ported.msisdn == PORT_NUMBER and ported.rio == PORT_RIO and ported.phone_number is None
    assert ported.operator_requests.get().kind == OperatorRequest.Kind.PORT_IN
    assert ported.operator_requests.get().payload["rio"] == PORT_RIO
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.RESERVED).count() == 49
    # R-OPT-2: every eSIM line has its profile, the "eSIM Orange" option and a FAS of 1.50 € HT
    esim_contract = next(c for c in contracts if c.esim_id)
    assert esim_contract.esim.activation_code.startswith(
        "LPA:1$"
    ) and esim_contract.esim.activation_code.endswith("$$1")
    assert esim_contract.operator_requests.get().kind == OperatorRequest.Kind.CREATE_LINE_ESIM
    assert OneOffFee.objects.filter(kind=OneOffFee.Kind.ESIM, amount_ht=Decimal("1.50")).count() == esim_count
    assert ContractOption.objects.filter(code="esim").count() == esim_count
    assert OperatorRequest.objects.filter(contract__order=order).count() == 50
    assert ContractEvent.objects.filter(contract__order=order, kind=ContractEvent.Kind.CREATED).count() == 50


def test_order_query_count_does_not_grow_with_lines(catalog, partner, staff, client_account):
    add_stock(partner, Network.ORANGE, sims=150, numbers=150)

    def count(quantity):
        lines = [
            LineSpec(
                user_name=f"U{i}",
                sim_type=SimType.ESIM if i % 2 else "",
                contact_email="a@b.fr",
                contact_mobile="0699887766",
            )
            for i in range(quantity)
        ]
        with CaptureQueriesContext(connection) as queries:
            place(
                partner,
                client_account,
                staff,
                "OR-ILL-5G-B",
                quantity=quantity,
                lines=lines,
                configuration="multiple",
            )
        return len(queries.captured_queries)

    assert count(5) == count(100)


def test_R_CON_6_bouygues_number_chosen_from_pool_others_drawn_at_random(
    catalog, partner, staff, client_account, bouygues_stock
):
    chosen = bouygues_stock["numbers"][7].msisdn
    order = place(
        partner,
        client_account,
        staff,
        "BY-ILL-10G-B",
        quantity=3,
        lines=[LineSpec(), LineSpec(msisdn=chosen), LineSpec()],
    )
    numbers = list(order.contracts.order_by("number").values_list("msisdn", flat=True))
    assert numbers[1] == chosen
    pool = {n.msisdn for n in bouygues_stock["numbers"]}
    assert set(numbers) <= pool and len(set(numbers)) == 3
    assert PhoneNumber.objects.filter(msisdn__in=numbers, state=PhoneNumber.State.RESERVED).count() == 3


@pytest.mark.parametrize("code, rule", [("OR-DATA-10G-B", "R-CAT-5"), ("OR-M2M-10M-B", "R-CAT-6")])
def test_R_CAT_5_R_CAT_6_orange_data_lines_get_their_number_later(
    catalog, partner, staff, client_account, orange_stock, code, rule
):
    before = PhoneNumber.objects.filter(state=PhoneNumber.State.AVAILABLE).count()
    order = place(partner, client_account, staff, code, quantity=2)
    assert list(order.contracts.values_list("msisdn", flat=True)) == [None, None]
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.AVAILABLE).count() == before
    assert not order.contracts.filter(options__zone__gt="").exists()  # no roaming on these ranges


def test_R_CAT_9_five_g_ordered_where_not_included(catalog, partner, staff, client_account, orange_stock):
    order = place(partner, client_account, staff, "OR-ILL-10G-B", five_g=True)
    contract = order.contracts.get()
    assert contract.five_g and contract.options.filter(code="five_g").exists()
    assert "five_g" in contract.operator_requests.get().payload["options"]


def test_R_CAT_9_five_g_included_from_50_go_is_recorded_without_option(
    catalog, partner, staff, client_account, orange_stock
):
    contract = place(partner, client_account, staff, "OR-ILL-50G-B").contracts.get()
    assert contract.five_g and not contract.options.filter(code="five_g").exists()


def test_R_OPT_5_roaming_option_recorded_with_its_price(
    catalog, partner, staff, client_account, orange_stock
):
    contract = place(
        partner,
        client_account,
        staff,
        "OR-ILL-10G-B",
        roaming={"usa_canada": "OR-ROA-ILL-USCA-OPT-3G", "maghreb_turquie": "OR-ROA-ILL-MT-CUT-5G"},
    ).contracts.get()
    usa = contract.options.get(zone="usa_canada")
    assert usa.label == "Option roaming Data USA/Canada 3 Go" and usa.monthly_fee_ht == Decimal("25.00")
    assert usa.roaming_choice.code == "OR-ROA-ILL-USCA-OPT-3G"
    assert contract.options.get(zone="maghreb_turquie").label == "Cut-off Maghreb/Turquie 5 Go"
    assert contract.order.roaming["usa_canada"] == "OR-ROA-ILL-USCA-OPT-3G"


def test_R_ROA_4_bouygues_cutoffs_in_euros(catalog, partner, staff, client_account, bouygues_stock):
    contract = place(
        partner, client_account, staff, "BY-ILL-10G-NB", roaming={"europe": "BY-ROA-EU-CUT-100E"}
    ).contracts.get()
    assert contract.options.get(zone="europe").label == "Cut-off Europe 100 €"
    assert contract.options.get(zone="monde").label == "Cut-off Monde 0 €"


def test_R_ORD_1_sva_not_allowed_records_the_sva_block_option(
    catalog, partner, staff, client_account, bouygues_stock
):
    contract = place(partner, client_account, staff, "BY-ILL-10G-B", allow_sva=False).contracts.get()
    assert not contract.allow_sva
    assert contract.options.get(code="sva_block").label == "Blocage des SVA"


def test_R_ORD_2_future_activation_date_is_the_operator_request_floor(
    catalog, partner, staff, client_account, orange_stock
):
    when = timezone.localdate() + dt.timedelta(days=10)
    contract = place(partner, client_account, staff, "OR-ILL-10G-B", activation_date=when).contracts.get()
    request = contract.operator_requests.get()
    assert timezone.localtime(request.not_before).date() == when
    assert timezone.localtime(request.not_before).time() == dt.time(0, 0)


def test_R_ORD_2_given_sim_of_the_stock_is_used(catalog, partner, staff, client_account, orange_stock):
    sim = orange_stock["sims"][5]
    contract = place(
        partner, client_account, staff, "OR-ILL-10G-B", lines=[LineSpec(iccid=sim.iccid + "F")]
    ).contracts.get()
    assert contract.sim == sim


def test_sims_assigned_to_the_client_are_used_first(catalog, partner, staff, client_account, orange_stock):
    assigned = orange_stock["sims"][40]
    SimCard.objects.filter(pk=assigned.pk).update(state=SimCard.State.ASSIGNED, client=client_account)
    contract = place(partner, client_account, staff, "OR-ILL-10G-B").contracts.get()
    assert contract.sim == assigned


# --- refusals: each names the field and the rule, and creates nothing --------------------------------------------

YESTERDAY = object()


REFUSALS = {
    "quantity_zero": (dict(code="OR-ILL-10G-B", quantity=0), "quantity", "R-ORD-1"),
    "quantity_too_big": (dict(code="OR-ILL-10G-B", quantity=1001), "quantity", "R-ORD-1"),
    "activation_in_the_past": (
        dict(code="OR-ILL-10G-B", activation_date=YESTERDAY),
        "activation_date",
        "R-ORD-2",
    ),
    "lines_count_mismatch": (dict(code="OR-ILL-10G-B", quantity=2, lines=[LineSpec()]), "lines", "R-ORD-2"),
    "esim_on_bouygues": (
        dict(
            code="BY-ILL-10G-B",
            lines=[LineSpec(sim_type="esim", contact_email="a@b.fr", contact_mobile="0699887766")],
        ),
        "lines[0].sim_type",
        "R-OPT-2",
    ),
    "esim_without_contact_email": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(sim_type="esim", contact_mobile="0699887766")]),
        "lines[0].contact_email",
        "R-ORD-3",
    ),
    "esim_without_contact_mobile": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(sim_type="esim", contact_email="a@b.fr")]),
        "lines[0].contact_mobile",
        "R-ORD-3",
    ),
    "contact_mobile_not_a_mobile": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(contact_mobile="0145454545")]),
        "lines[0].contact_mobile",
        "R-ORD-3",
    ),
    "rio_bad_key": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(portability=True, msisdn=PORT_NUMBER, rio="01P12345636A")]),
        "lines[0].rio",
        "R-ORD-2",
    ),
    "rio_missing": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(portability=True, msisdn=PORT_NUMBER)]),
        "lines[0].rio",
        "R-ORD-2",
    ),
    "ported_number_invalid": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(portability=True, msisdn="0112345678", rio=PORT_RIO)]),
        "lines[0].msisdn",
        "R-ORD-2",
    ),
    "duplicate_number": (
        dict(
            code="OR-ILL-10G-B",
            quantity=2,
            lines=[
                LineSpec(portability=True, msisdn=PORT_NUMBER, rio=PORT_RIO),
                LineSpec(portability=True, msisdn=PORT_NUMBER, rio=PORT_RIO),
            ],
        ),
        "lines[1].msisdn",
        "R-ORD-2",
    ),
    "orange_number_cannot_be_chosen": (
        dict(code="OR-ILL-10G-B", lines=[LineSpec(msisdn="0612345678")]),
        "lines[0].msisdn",
        "R-CON-6",
    ),
    "bouygues_number_not_in_pool": (
        dict(code="BY-ILL-10G-B", lines=[LineSpec(msisdn="0611111111")]),
        "lines[0].msisdn",
        "R-CON-6",
    ),
    "orange_data_only_number_given_by_orange": (
        dict(code="OR-DATA-10G-B", lines=[LineSpec(msisdn="0612345678")]),
        "lines[0].msisdn",
        "R-CAT-5",
    ),
    "portability_on_m2m": (
        dict(code="OR-M2M-10M-B", lines=[LineSpec(portability=True, msisdn=PORT_NUMBER, rio=PORT_RIO)]),
        "lines[0].portability",
        "R-CAT-6",
    ),
    "five_g_already_included": (dict(code="OR-ILL-50G-B", five_g=True), "five_g", "R-CAT-9"),
    "five_g_on_m2m": (dict(code="OR-M2M-10M-B", five_g=True), "five_g", "R-CAT-6"),
    "fixed_ip_on_orange_non_blocked": (
        dict(code="OR-ILL-10G-NB", option_codes=["fixed_ip"]),
        "options",
        "R-OPT-3",
    ),
    "unknown_option": (dict(code="OR-ILL-10G-B", option_codes=["teleportation"]), "options", "R-ORD-1"),
    "bouygues_option_on_orange": (
        dict(code="OR-ILL-10G-B", option_codes=["sva_block"]),
        "options",
        "R-ORD-1",
    ),
    "sva_question_on_data_only": (dict(code="OR-DATA-10G-B", allow_sva=False), "allow_sva", "R-ORD-1"),
    "roaming_on_data_only": (
        dict(code="OR-DATA-10G-B", roaming={"usa_canada": "OR-ROA-ILL-USCA-CUT-0"}),
        "roaming.usa_canada",
        "R-CAT-5",
    ),
    "travel_roaming_on_illimite": (
        dict(code="OR-ILL-10G-B", roaming={"maghreb_turquie": "OR-ROA-TRV-MT-DATA-1G"}),
        "roaming.maghreb_turquie",
        "R-OPT-5",
    ),
    "orange_europe_is_the_envelope": (
        dict(code="OR-ILL-10G-B", roaming={"europe": "BY-ROA-EU-CUT-0E"}),
        "roaming.europe",
        "R-ROA-3",
    ),
    "usa_canada_included_in_travel": (
        dict(code="OR-TRV-20G", roaming={"usa_canada": "OR-ROA-ILL-USCA-CUT-0"}),
        "roaming.usa_canada",
        "R-CAT-4",
    ),
    "bouygues_cutoff_unknown": (
        dict(code="BY-ILL-10G-B", roaming={"monde": "BY-ROA-MONDE-CUT-75E"}),
        "roaming.monde",
        "R-ROA-4",
    ),
    "not_enough_sims": (dict(code="BY-ILL-10G-B", quantity=21), "sim_type", "R-ORD-2"),
    "not_enough_numbers_after_sims_were_taken": (
        dict(code="BY-ILL-10G-B", quantity=3, numbers=2),
        "number",
        "R-CON-6",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_R_ORD_refusal_names_field_and_rule_and_creates_nothing(
    case, catalog, staff, client_account, partner
):
    kwargs, field, rule = REFUSALS[case]
    kwargs = dict(kwargs)
    add_stock(partner, Network.ORANGE, sims=5, sims_no_pin=2, numbers=5)
    add_stock(partner, Network.BOUYGUES, sims=20, numbers=kwargs.pop("numbers", 30))
    if kwargs.get("activation_date") is YESTERDAY:
        kwargs["activation_date"] = timezone.localdate() - dt.timedelta(days=1)
    code = kwargs.pop("code")
    quantity = kwargs.pop("quantity", 1)
    before = snapshot()

    with pytest.raises(RuleViolation) as excinfo:
        place(partner, client_account, staff, code, quantity, **kwargs)

    assert (excinfo.value.field, excinfo.value.rule) == (field, rule)
    assert excinfo.value.message  # French reason
    assert snapshot() == before


def test_R_ORD_1_client_of_another_partner_refused(catalog, partner, staff, orange_stock):
    other = ClientAccountFactory(partner=PartnerFactory())
    with pytest.raises(RuleViolation) as excinfo:
        place(partner, other, staff, "OR-ILL-10G-B")
    assert (excinfo.value.field, excinfo.value.rule) == ("client", "R-ORD-1")
    assert not Contract.objects.exists()


def test_R_ORD_2_ported_number_already_live_refused(catalog, partner, staff, client_account, orange_stock):
    port = [LineSpec(portability=True, msisdn=PORT_NUMBER, rio=PORT_RIO)]
    place(partner, client_account, staff, "OR-ILL-10G-B", lines=port)
    before = snapshot()
    with pytest.raises(RuleViolation) as excinfo:
        place(partner, client_account, staff, "OR-ILL-10G-B", lines=port)
    assert (excinfo.value.field, excinfo.value.rule) == ("lines[0].msisdn", "R-ORD-2")
    assert snapshot() == before


def test_R_ORD_3_esim_contact_mobile_must_differ_from_the_new_line_number(
    catalog, partner, staff, client_account
):
    """The only Orange number of the pool is drawn for the line: it cannot be the eSIM contact mobile."""
    stock = add_stock(partner, Network.ORANGE, sims=1, numbers=1)
    own = stock["numbers"][0].msisdn
    before = snapshot()
    with pytest.raises(RuleViolation) as excinfo:
        place(
            partner,
            client_account,
            staff,
            "OR-ILL-10G-B",
            lines=[LineSpec(sim_type="esim", contact_email="a@b.fr", contact_mobile=own)],
        )
    assert (excinfo.value.field, excinfo.value.rule) == ("lines[0].contact_mobile", "R-ORD-3")
    assert snapshot() == before


def test_R_ORD_3_ported_esim_line_may_use_its_own_number_as_contact(
    catalog, partner, staff, client_account, orange_stock
):
    contract = place(
        partner,
        client_account,
        staff,
        "OR-ILL-10G-B",
        lines=[
            LineSpec(
                sim_type="esim",
                portability=True,
                msisdn=PORT_NUMBER,
                rio=PORT_RIO,
                contact_email="a@b.fr",
                contact_mobile=PORT_NUMBER,
            )
        ],
    ).contracts.get()
    assert contract.is_esim and contract.contact_mobile == contract.msisdn == PORT_NUMBER
    request = contract.operator_requests.get()
    assert request.kind == OperatorRequest.Kind.PORT_IN and request.payload["esim"] is True


# --- the contract state machine ----------------------------------------------------------------------------------


def test_R_CON_8_contract_transition_writes_history_and_is_idempotent(
    catalog, partner, staff, client_account, orange_stock
):
    contract = place(partner, client_account, staff, "OR-ILL-10G-B").contracts.get()
    now = timezone.now()
    moved = contract_transition(
        contract=contract, to_state=Contract.State.ACTIVE, actor_label="Orange", delivered_at=now
    )
    assert moved.state == Contract.State.ACTIVE and moved.delivered_at == now
    event = contract.events.filter(kind=ContractEvent.Kind.STATE_CHANGED).get()
    assert (event.from_state, event.to_state, event.who) == ("pending", "active", "Orange")
    contract_transition(contract=contract, to_state=Contract.State.ACTIVE)  # already there: nothing new
    assert contract.events.filter(kind=ContractEvent.Kind.STATE_CHANGED).count() == 1
    with pytest.raises(RuleViolation) as excinfo:
        contract_transition(contract=contract, to_state=Contract.State.PENDING)
    assert excinfo.value.rule == "R-CON-8"


@pytest.mark.parametrize("state, targets", list(Contract.TRANSITIONS.items()))
def test_R_CON_8_transitions_table_is_closed(state, targets):
    assert state in Contract.State.values
    assert targets <= set(Contract.State.values)
    assert state not in targets


def test_R_CON_8_user_states_are_the_four_labels():
    assert {Contract.State(Contract.USER_STATE[s]).label for s in Contract.State.values} == {
        "En cours",
        "Actif",
        "Suspendu",
        "Résilié",
    }


def test_envelope_bytes_unit(catalog):
    assert offer("OR-ILL-10G-B").data_bytes == 10 * GB
