"""R-SC-7 / R-BO-2: the partner assigns SIM stock to a client one by one or by ICCID range, and releases it."""

import pytest

from core.errors import RuleViolation
from inventory import services
from inventory.models import SimCard
from tests.factories.inventory import SimCardFactory, make_iccid
from tests.factories.partners import ClientAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_account():
    return ClientAccountFactory()


def _range_of_sims(partner, numbers, **kwargs):
    return [SimCardFactory(partner=partner, iccid=make_iccid(n, series=3), **kwargs) for n in numbers]


def _states(sims):
    return [SimCard.objects.get(pk=s.pk).state for s in sims]


def test_R_SC_7_assign_one_by_one_and_release(client_account):
    partner = client_account.partner
    sim = SimCardFactory(partner=partner)
    assert services.sim_assign(partner=partner, client=client_account, iccids=[sim.iccid + "F"]) == 1
    sim.refresh_from_db()
    assert (sim.state, sim.client) == (SimCard.State.ASSIGNED, client_account)
    assert services.sim_release(partner=partner, iccids=[sim.iccid]) == 1
    sim.refresh_from_db()
    assert (sim.state, sim.client) == (SimCard.State.IN_STOCK, None)


def test_R_SC_7_assign_list_is_all_or_nothing(client_account):
    partner = client_account.partner
    free = SimCardFactory(partner=partner)
    used = SimCardFactory(partner=partner, state=SimCard.State.IN_USE)
    foreign = SimCardFactory()
    with pytest.raises(RuleViolation) as exc:
        services.sim_assign(
            partner=partner, client=client_account, iccids=[free.iccid, used.iccid, foreign.iccid]
        )
    assert (exc.value.field, exc.value.rule) == ("iccids", "R-SC-7")
    assert used.iccid in exc.value.message and foreign.iccid in exc.value.message
    assert free.iccid not in exc.value.message
    assert _states([free, used, foreign]) == [
        SimCard.State.IN_STOCK,
        SimCard.State.IN_USE,
        SimCard.State.IN_STOCK,
    ]


def test_R_SC_7_assign_range_ascending_moves_only_this_partners_in_stock_sims(client_account):
    partner = client_account.partner
    mine = _range_of_sims(partner, range(100, 110))
    used = _range_of_sims(partner, [110], state=SimCard.State.IN_USE)
    foreign = _range_of_sims(ClientAccountFactory().partner, [105_000])  # other series, other partner
    outside = _range_of_sims(partner, [200])
    foreign_in_range = SimCardFactory(iccid=make_iccid(111, series=3))  # same range, another partner
    result = services.sim_assign_range(
        partner=partner,
        client=client_account,
        first_iccid=mine[0].iccid,
        last_iccid=make_iccid(111, series=3),
    )
    assert (result.count, result.skipped) == (10, 1)
    assert set(_states(mine)) == {SimCard.State.ASSIGNED}
    assert _states(used + foreign + outside + [foreign_in_range]) == [
        SimCard.State.IN_USE,
        SimCard.State.IN_STOCK,
        SimCard.State.IN_STOCK,
        SimCard.State.IN_STOCK,
    ]
    assert SimCard.objects.get(pk=foreign_in_range.pk).client is None


def test_R_SC_7_descending_range_is_refused_in_french(client_account):
    partner = client_account.partner
    sims = _range_of_sims(partner, range(1, 4))
    with pytest.raises(RuleViolation) as exc:
        services.sim_assign_range(
            partner=partner, client=client_account, first_iccid=sims[2].iccid, last_iccid=sims[0].iccid
        )
    assert (exc.value.field, exc.value.rule) == ("last_iccid", "R-SC-7")
    assert "croissante" in exc.value.message
    assert set(_states(sims)) == {SimCard.State.IN_STOCK}


@pytest.mark.parametrize(
    ("first", "last", "field", "fragment"),
    [
        (
            make_iccid(1, series=3)[:-1] + str((int(make_iccid(1, series=3)[-1]) + 1) % 10),
            make_iccid(5, series=3),
            "first_iccid",
            "Luhn",
        ),
        (make_iccid(1, series=3), make_iccid(5, series=3, length=20), "last_iccid", "même longueur"),
        (make_iccid(900, series=3), make_iccid(905, series=3), "first_iccid", "Aucune carte SIM en stock"),
    ],
)
def test_R_SC_7_bad_ranges_are_refused(client_account, first, last, field, fragment):
    _range_of_sims(client_account.partner, range(1, 6))
    with pytest.raises(RuleViolation) as exc:
        services.sim_assign_range(
            partner=client_account.partner, client=client_account, first_iccid=first, last_iccid=last
        )
    assert exc.value.field == field
    assert fragment in exc.value.message


def test_R_SC_7_release_range_and_release_refuses_non_assigned(client_account):
    partner = client_account.partner
    sims = _range_of_sims(partner, range(10, 15))
    services.sim_assign_range(
        partner=partner, client=client_account, first_iccid=sims[0].iccid, last_iccid=sims[-1].iccid
    )
    with pytest.raises(RuleViolation, match="Aucune SIM n'a été libérée"):
        services.sim_release(partner=partner, iccids=[sims[0].iccid, SimCardFactory(partner=partner).iccid])
    assert _states(sims)[0] == SimCard.State.ASSIGNED
    result = services.sim_release_range(partner=partner, first_iccid=sims[1].iccid, last_iccid=sims[3].iccid)
    assert result.count == 3
    assert _states(sims) == [
        SimCard.State.ASSIGNED,
        SimCard.State.IN_STOCK,
        SimCard.State.IN_STOCK,
        SimCard.State.IN_STOCK,
        SimCard.State.ASSIGNED,
    ]


def test_R_SC_7_assign_to_another_partners_client_is_refused(client_account):
    sim = SimCardFactory()
    with pytest.raises(RuleViolation) as exc:
        services.sim_assign(partner=sim.partner, client=client_account, iccids=[sim.iccid])
    assert exc.value.field == "client_id"
    assert SimCard.objects.get(pk=sim.pk).state == SimCard.State.IN_STOCK
