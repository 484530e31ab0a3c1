"""Demo stock: valid identifiers, number pools, some SIMs assigned (R-SC-7); idempotent."""

import io

import pytest

from inventory import demo as inventory_demo
from inventory import rules
from inventory.models import PhoneNumber, SimCard
from partners import demo as partners_demo

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(SimCard.objects.values_list("iccid", "state", "client_id", "pin", "puk")),
        sorted(PhoneNumber.objects.values_list("msisdn", "state", "network")),
    )


def test_demo_stock_is_valid_and_idempotent():
    out = io.StringIO()
    partners_demo.load(out)
    inventory_demo.load(out)
    first = _snapshot()
    inventory_demo.load(out)
    assert _snapshot() == first  # running twice changes nothing
    sims, numbers = first
    assert len(sims) == 350 + 180
    assert all(rules.iccid_error(iccid) is None for iccid, *_ in sims)
    assert {s.network for s in SimCard.objects.filter(partner__slug="telcom-pro")} == {"orange", "bouygues"}
    assert SimCard.objects.filter(partner__slug="telcom-pro", pin__isnull=True).count() == 100
    assert (
        SimCard.objects.filter(state=SimCard.State.ASSIGNED, client__partner__slug="telcom-pro").count() == 15
    )
    assert (
        SimCard.objects.filter(state=SimCard.State.ASSIGNED, client__partner__slug="reseau-ouest").count()
        == 5
    )
    assert all(rules.mobile_number_error(msisdn) is None for msisdn, *_ in numbers)
    assert PhoneNumber.objects.filter(partner__slug="telcom-pro", network="bouygues").count() == 200
    assert "stock de démonstration" in out.getvalue()
