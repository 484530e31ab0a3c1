"""Constraints held by the database itself: identifier formats, state/client consistency, and R-CON-6
(a retired SIM, eSIM or number can never come back — not even through code that forgets to check)."""

import pytest
from django.db import IntegrityError, connection, transaction

from core.networks import Network
from inventory import services
from inventory.models import EsimProfile, PhoneNumber, RetiredIdentifier, SimCard
from tests.factories.inventory import (
    EsimProfileFactory,
    PhoneNumberFactory,
    SimCardFactory,
    make_iccid,
    make_m2m_number,
    make_msisdn,
)
from tests.factories.partners import ClientAccountFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def _refused(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        SimCard.objects.create(**kwargs)


def test_state_lists_in_constraints_match_the_choices():
    constraints = {c.name: c for m in (SimCard, EsimProfile, PhoneNumber) for c in m._meta.constraints}
    for model, name in (
        (SimCard, "sim_state_valid"),
        (EsimProfile, "esim_state_valid"),
        (PhoneNumber, "number_state_valid"),
    ):
        values = dict(constraints[name].condition.children)["state__in"]
        assert sorted(values) == sorted(model.State.values)


@pytest.mark.parametrize(
    "changes",
    [
        {"iccid": "8944" + make_iccid(1)[4:]},  # not a French ICCID
        {"iccid": make_iccid(1)[:-1]},  # 18 digits
        {"pin": "12"},
        {"puk": "1234"},
        {"network": "sfr"},
        {"state": "lost"},
        {"state": SimCard.State.ASSIGNED},  # assigned without a client
    ],
)
def test_sim_row_constraints(changes):
    partner = PartnerFactory()
    values = {
        "partner": partner,
        "iccid": make_iccid(1),
        "pin": "1234",
        "puk": "12345678",
        "network": Network.ORANGE,
    }
    _refused(**{**values, **changes})


def test_sim_in_stock_cannot_have_a_client():
    client = ClientAccountFactory()
    _refused(
        partner=client.partner, client=client, iccid=make_iccid(2), puk="12345678", network=Network.ORANGE
    )


def test_iccid_is_unique_across_partners():
    SimCardFactory(iccid=make_iccid(3))
    _refused(partner=PartnerFactory(), iccid=make_iccid(3), puk="12345678", network=Network.ORANGE)


@pytest.mark.parametrize(
    ("kind", "network", "msisdn"),
    [
        (PhoneNumber.Kind.MOBILE, Network.BOUYGUES, "0512345678"),
        (PhoneNumber.Kind.MOBILE, Network.BOUYGUES, make_m2m_number(1)),
        (PhoneNumber.Kind.M2M_DATA, Network.ORANGE, make_msisdn(1)),
        (PhoneNumber.Kind.M2M_DATA, Network.BOUYGUES, make_m2m_number(1)),  # 0700… numbers are Orange's
    ],
)
def test_number_format_per_kind(kind, network, msisdn):
    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneNumber.objects.create(partner=PartnerFactory(), kind=kind, network=network, msisdn=msisdn)


def test_R_OPT_2_esim_is_orange_only_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        EsimProfileFactory(network=Network.BOUYGUES)
    with pytest.raises(IntegrityError), transaction.atomic():
        EsimProfileFactory(matching_id="lower-case")


def test_R_OPT_2_activation_code_of_a_profile():
    profile = EsimProfileFactory(smdp_address="smdp.orange.example", matching_id="AB12C-DE34F")
    assert profile.activation_code == "LPA:1$smdp.orange.example$AB12C-DE34F$$1"


# --- R-CON-6: retired is forever, held by the database ---------------------------------------------------


def _retire_sim():
    sim = SimCardFactory(state=SimCard.State.IN_USE)
    with transaction.atomic():
        assert services.sim_retire(partner=sim.partner, iccids=[sim.iccid], reason="résiliation") == 1
    sim.refresh_from_db()
    return sim


def test_R_CON_6_retired_sim_iccid_cannot_be_inserted_again():
    sim = _retire_sim()
    assert sim.state == SimCard.State.RETIRED
    _refused(partner=sim.partner, iccid=sim.iccid, puk="12345678", network=sim.network)
    _refused(partner=PartnerFactory(), iccid=sim.iccid, puk="12345678", network=sim.network)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetiredIdentifier.objects.create(partner=sim.partner, kind="iccid", value=sim.iccid, sim=sim)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite FK pins are PostgreSQL only")
@pytest.mark.parametrize("new_state", [SimCard.State.IN_STOCK, SimCard.State.IN_USE])
def test_R_CON_6_database_refuses_to_bring_a_retired_sim_back(new_state):
    sim = _retire_sim()
    with pytest.raises(IntegrityError), transaction.atomic():
        SimCard.objects.filter(pk=sim.pk).update(state=new_state)  # code that "forgets to check"
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM inventory_simcard WHERE id = %s", [sim.pk])
    sim.refresh_from_db()
    assert sim.state == SimCard.State.RETIRED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite FK pins are PostgreSQL only")
def test_R_CON_6_database_refuses_to_bring_a_retired_number_or_esim_back():
    number = PhoneNumberFactory(state=PhoneNumber.State.IN_USE)
    profile = EsimProfileFactory(partner=number.partner)
    with transaction.atomic():
        assert services.number_retire(partner=number.partner, msisdns=[number.msisdn]) == 1
        assert services.esim_retire(partner=number.partner, iccids=[profile.iccid]) == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneNumber.objects.filter(pk=number.pk).update(state=PhoneNumber.State.AVAILABLE)
    with pytest.raises(IntegrityError), transaction.atomic():
        PhoneNumber.objects.create(partner=PartnerFactory(), network=number.network, msisdn=number.msisdn)
    with pytest.raises(IntegrityError), transaction.atomic():
        EsimProfile.objects.filter(pk=profile.pk).update(state=EsimProfile.State.ALLOCATED)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetiredIdentifier.objects.create(
            partner=number.partner, kind="msisdn", value=number.msisdn, number=number
        )
    assert RetiredIdentifier.objects.filter(value__in=[number.msisdn, profile.iccid]).count() == 2


def test_R_CON_6_register_row_must_point_at_exactly_one_target_of_its_kind():
    sim = SimCardFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RetiredIdentifier.objects.create(partner=sim.partner, kind="msisdn", value=sim.iccid, sim=sim)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetiredIdentifier.objects.create(
            partner=sim.partner, kind="iccid", value=sim.iccid, sim=sim, target_state="in_stock"
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="composite FK pins are PostgreSQL only")
def test_R_CON_6_register_cannot_name_a_sim_that_is_not_retired():
    sim = SimCardFactory()  # in stock
    with pytest.raises(IntegrityError), transaction.atomic():
        RetiredIdentifier.objects.create(partner=sim.partner, kind="iccid", value=sim.iccid, sim=sim)


def test_R_CON_6_retire_is_idempotent():
    sim = _retire_sim()
    with transaction.atomic():
        assert services.sim_retire(partner=sim.partner, iccids=[sim.iccid]) == 0
    assert RetiredIdentifier.objects.filter(value=sim.iccid).count() == 1
