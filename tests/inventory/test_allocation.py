"""Allocation services used by ordering: SIMs, numbers (drawn at random, R-CON-6), eSIM profiles (R-OPT-2)."""

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from core.errors import RuleViolation
from core.networks import Network
from inventory import services
from inventory.models import EsimProfile, PhoneNumber, SimCard
from tests.factories.inventory import PhoneNumberFactory, SimCardFactory, make_msisdn
from tests.factories.partners import ClientAccountFactory, PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerFactory()


@pytest.mark.django_db(transaction=True)
def test_allocation_requires_the_callers_transaction(partner):
    SimCardFactory(partner=partner)
    with pytest.raises(TransactionManagementError):
        services.sim_allocate(partner=partner, network=Network.ORANGE, count=1, with_pin=True)
    with pytest.raises(TransactionManagementError):
        services.number_allocate(partner=partner, network=Network.BOUYGUES, count=1)
    with pytest.raises(TransactionManagementError):
        services.esim_allocate(partner=partner, count=1)


def test_sim_allocate_takes_in_stock_sims_of_the_partner_network_and_pin_kind(partner):
    wanted = SimCardFactory.create_batch(3, partner=partner, network=Network.ORANGE, pin="1234")
    SimCardFactory(partner=partner, network=Network.ORANGE, pin=None)  # sans PIN
    SimCardFactory(partner=partner, network=Network.BOUYGUES)
    SimCardFactory(network=Network.ORANGE)  # another partner's
    SimCardFactory(partner=partner, network=Network.ORANGE, state=SimCard.State.IN_USE)
    client = ClientAccountFactory(partner=partner)
    with transaction.atomic():
        sims = services.sim_allocate(
            partner=partner, network=Network.ORANGE, client=client, count=3, with_pin=True
        )
    assert sorted(s.iccid for s in sims) == sorted(s.iccid for s in wanted)
    assert SimCard.objects.filter(partner=partner, state=SimCard.State.IN_USE, client=client).count() == 3
    assert all(s.state == SimCard.State.IN_USE and s.client == client for s in sims)


def test_R_SC_7_sim_allocate_uses_the_clients_assigned_sims_first(partner):
    client = ClientAccountFactory(partner=partner)
    other_client = ClientAccountFactory(partner=partner)
    free = SimCardFactory(partner=partner)
    assigned = SimCardFactory(partner=partner, client=client, state=SimCard.State.ASSIGNED)
    SimCardFactory(partner=partner, client=other_client, state=SimCard.State.ASSIGNED)
    with transaction.atomic():
        sims = services.sim_allocate(
            partner=partner, network=Network.ORANGE, client=client, count=2, with_pin=True
        )
    assert [s.iccid for s in sims] == [assigned.iccid, free.iccid]
    with (
        transaction.atomic(),
        pytest.raises(RuleViolation) as exc,
    ):  # the other client's SIM is not a candidate
        services.sim_allocate(partner=partner, network=Network.ORANGE, client=client, count=1, with_pin=True)
    assert exc.value.field == "sim_type"
    assert "Stock de cartes SIM insuffisant" in exc.value.message


def test_R_CON_6_sim_allocate_never_hands_out_a_retired_sim(partner):
    sim = SimCardFactory(partner=partner)
    with transaction.atomic():
        services.sim_retire(partner=partner, iccids=[sim.iccid])
    with transaction.atomic(), pytest.raises(RuleViolation) as exc:
        services.sim_allocate(partner=partner, network=Network.ORANGE, count=1, with_pin=True)
    assert exc.value.rule == "R-ORD-2"
    assert SimCard.objects.get(pk=sim.pk).state == SimCard.State.RETIRED


def test_sim_allocate_refuses_another_partners_client(partner):
    SimCardFactory(partner=partner)
    with transaction.atomic(), pytest.raises(RuleViolation) as exc:
        services.sim_allocate(
            partner=partner, network=Network.ORANGE, client=ClientAccountFactory(), count=1, with_pin=True
        )
    assert exc.value.field == "client_id"


def test_R_CON_6_numbers_are_drawn_at_random(partner):
    PhoneNumberFactory.create_batch(40, partner=partner)
    draws = set()
    for _ in range(6):
        with transaction.atomic():
            numbers = services.number_allocate(partner=partner, network=Network.BOUYGUES, count=3)
            draws.add(tuple(n.msisdn for n in numbers))
            transaction.set_rollback(True)
    assert len(draws) > 1  # 6 draws of 3 among 40 all equal: probability ~1e-16


def test_R_ORD_2_chosen_numbers_come_first_then_random_ones(partner):
    pool = PhoneNumberFactory.create_batch(5, partner=partner)
    chosen = [pool[3].msisdn, "+33 " + pool[1].msisdn[1:]]  # any input form
    client = ClientAccountFactory(partner=partner)
    with transaction.atomic():
        numbers = services.number_allocate(
            partner=partner, network=Network.BOUYGUES, count=4, chosen=chosen, client=client
        )
    assert [n.msisdn for n in numbers[:2]] == [pool[3].msisdn, pool[1].msisdn]
    assert len({n.msisdn for n in numbers}) == 4
    assert (
        PhoneNumber.objects.filter(partner=partner, state=PhoneNumber.State.RESERVED, client=client).count()
        == 4
    )


@pytest.mark.parametrize("case", ["other_partner", "reserved", "retired", "unknown", "other_network"])
def test_R_ORD_2_chosen_number_must_be_available_in_the_partners_pool(partner, case):
    free = PhoneNumberFactory(partner=partner)
    if case == "other_partner":
        target = PhoneNumberFactory().msisdn
    elif case == "reserved":
        target = PhoneNumberFactory(partner=partner, state=PhoneNumber.State.RESERVED).msisdn
    elif case == "retired":
        number = PhoneNumberFactory(partner=partner)
        with transaction.atomic():
            services.number_retire(partner=partner, msisdns=[number.msisdn])
        target = number.msisdn
    elif case == "other_network":
        target = PhoneNumberFactory(partner=partner, network=Network.ORANGE).msisdn
    else:
        target = make_msisdn(12345, prefix="07")
    with transaction.atomic(), pytest.raises(RuleViolation) as exc:
        services.number_allocate(partner=partner, network=Network.BOUYGUES, count=2, chosen=[target])
    assert (exc.value.field, exc.value.rule) == ("number", "R-ORD-2")
    assert target in exc.value.message
    assert PhoneNumber.objects.get(pk=free.pk).state == PhoneNumber.State.AVAILABLE  # nothing changed


def test_number_allocate_refuses_duplicates_and_too_many_choices(partner):
    a, b = PhoneNumberFactory.create_batch(2, partner=partner)
    with transaction.atomic(), pytest.raises(RuleViolation, match="plusieurs lignes"):
        services.number_allocate(
            partner=partner, network=Network.BOUYGUES, count=2, chosen=[a.msisdn, a.msisdn]
        )
    with transaction.atomic(), pytest.raises(RuleViolation, match="2 numéros choisis pour 1"):
        services.number_allocate(
            partner=partner, network=Network.BOUYGUES, count=1, chosen=[a.msisdn, b.msisdn]
        )


def test_R_CON_6_pool_exhausted_is_refused_in_french_and_changes_nothing(partner):
    PhoneNumberFactory.create_batch(2, partner=partner)
    with transaction.atomic(), pytest.raises(RuleViolation) as exc:
        services.number_allocate(partner=partner, network=Network.BOUYGUES, count=3)
    assert exc.value.rule == "R-CON-6"
    assert "Plus assez de numéros disponibles" in exc.value.message
    assert PhoneNumber.objects.filter(state=PhoneNumber.State.AVAILABLE).count() == 2


@pytest.mark.parametrize("count", [1, 50, 500])
def test_allocation_costs_a_constant_number_of_queries(partner, count):
    SimCardFactory.create_batch(count, partner=partner)
    PhoneNumberFactory.create_batch(count, partner=partner)
    client = ClientAccountFactory(partner=partner)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        sims = services.sim_allocate(
            partner=partner, network=Network.ORANGE, client=client, count=count, with_pin=True
        )
        numbers = services.number_allocate(
            partner=partner, network=Network.BOUYGUES, count=count, client=client
        )
        esims = services.esim_allocate(partner=partner, count=count, client=client)
    assert (len(sims), len(numbers), len(esims)) == (count, count, count)
    # sim: SELECT … FOR UPDATE + UPDATE; number: SELECT + UPDATE; esim: SAVEPOINT + INSERT + RELEASE
    assert len(queries) == 7, [q["sql"][:80] for q in queries]


def test_R_OPT_2_esim_allocate_creates_unique_orange_profiles_in_the_transaction(partner, settings):
    settings.ESIM_SMDP_ADDRESS = "smdp.orange-test.example"
    client = ClientAccountFactory(partner=partner)
    with transaction.atomic():
        profiles = services.esim_allocate(partner=partner, count=20, client=client)
        transaction.set_rollback(True)  # the order failed: no profile survives
    assert EsimProfile.objects.count() == 0
    assert len({p.iccid for p in profiles}) == len({p.matching_id for p in profiles}) == 20
    with transaction.atomic():
        profiles = services.esim_allocate(partner=partner, count=2, client=client)
    stored = EsimProfile.objects.get(pk=profiles[0].pk)
    assert stored.network == Network.ORANGE and stored.state == EsimProfile.State.ALLOCATED
    assert stored.activation_code == f"LPA:1$smdp.orange-test.example${stored.matching_id}$$1"
    assert stored.iccid.startswith("8933") and len(stored.iccid) == 20


def test_number_lifecycle_reserved_in_use_retired(partner):
    client = ClientAccountFactory(partner=partner)
    PhoneNumberFactory.create_batch(2, partner=partner)
    with transaction.atomic():
        a, b = services.number_allocate(partner=partner, network=Network.BOUYGUES, count=2, client=client)
        assert services.number_mark_in_use(partner=partner, msisdns=[a.msisdn], client=client) == 1
        assert services.number_mark_in_use(partner=partner, msisdns=[a.msisdn]) == 1  # idempotent
        assert services.number_release(partner=partner, msisdns=[b.msisdn]) == 1
    assert PhoneNumber.objects.get(pk=b.pk).state == PhoneNumber.State.AVAILABLE
    assert PhoneNumber.objects.get(pk=b.pk).client is None
    with transaction.atomic(), pytest.raises(RuleViolation) as exc:
        services.number_release(partner=partner, msisdns=[a.msisdn])
    assert exc.value.rule == "R-CON-6"
    with transaction.atomic(), pytest.raises(RuleViolation):
        services.number_mark_in_use(partner=partner, msisdns=[b.msisdn])  # available, not reserved
    with transaction.atomic():
        assert services.number_retire(partner=partner, msisdns=[a.msisdn], reason="résiliation") == 1
    with transaction.atomic(), pytest.raises(RuleViolation):
        services.number_allocate(partner=partner, network=Network.BOUYGUES, count=1, chosen=[a.msisdn])


def test_sim_allocation_cancel_returns_sims_where_they_came_from(partner):
    client = ClientAccountFactory(partner=partner)
    SimCardFactory.create_batch(2, partner=partner)
    with transaction.atomic():
        with_client = services.sim_allocate(
            partner=partner, network=Network.ORANGE, client=client, count=1, with_pin=True
        )
        without = services.sim_allocate(partner=partner, network=Network.ORANGE, count=1, with_pin=True)
        assert (
            services.sim_allocation_cancel(partner=partner, iccids=[with_client[0].iccid, without[0].iccid])
            == 2
        )
    states = dict(SimCard.objects.values_list("iccid", "state"))
    assert states == {with_client[0].iccid: SimCard.State.ASSIGNED, without[0].iccid: SimCard.State.IN_STOCK}


def test_R_ORD_5_sim_mark_in_use_for_a_chosen_sim(partner):
    client = ClientAccountFactory(partner=partner)
    mine = SimCardFactory(partner=partner, client=client, state=SimCard.State.ASSIGNED)
    others = SimCardFactory(
        partner=partner, client=ClientAccountFactory(partner=partner), state=SimCard.State.ASSIGNED
    )
    with transaction.atomic():
        [sim] = services.sim_mark_in_use(partner=partner, iccids=[mine.iccid + "F"], client=client)
    assert sim.state == SimCard.State.IN_USE
    for iccids in ([others.iccid], [sim.iccid]):  # another client's SIM; a SIM already in use (no sharing)
        with transaction.atomic(), pytest.raises(RuleViolation) as exc:
            services.sim_mark_in_use(partner=partner, iccids=iccids, client=client)
        assert exc.value.rule == "R-ORD-5"
    free = SimCardFactory(partner=partner)
    with transaction.atomic(), pytest.raises(RuleViolation, match="plusieurs fois"):
        services.sim_mark_in_use(partner=partner, iccids=[free.iccid, free.iccid + "F"], client=client)
    assert SimCard.objects.get(pk=free.pk).state == SimCard.State.IN_STOCK


@pytest.mark.parametrize(
    ("network", "msisdn", "kind", "ok"),
    [
        (Network.ORANGE, "07001234567890", "m2m_data", True),
        (Network.BOUYGUES, "07001234567890", "m2m_data", False),
        (Network.ORANGE, "0700123456", "m2m_data", False),
    ],
)
def test_R_CAT_6_operator_supplied_number_is_recorded_in_use(partner, network, msisdn, kind, ok):
    if ok:
        number = services.number_record_external(partner=partner, network=network, msisdn=msisdn, kind=kind)
        assert number.state == PhoneNumber.State.IN_USE
        with pytest.raises(RuleViolation) as exc:
            services.number_record_external(partner=partner, network=network, msisdn=msisdn, kind=kind)
        assert exc.value.rule == "R-CON-6"
    else:
        with pytest.raises(RuleViolation):
            services.number_record_external(partner=partner, network=network, msisdn=msisdn, kind=kind)
