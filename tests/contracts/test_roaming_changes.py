"""R-OPT-4: a roaming choice changed back and forth within one month (B → A → B) — the operator ends the
replaced option and starts the new one (``replaces``), so a choice ended earlier in the month may come back;
every choice live during the month is billed for it, and the envelope is the last one (never a sum).

Lines made the real way (``order_place`` → dispatcher → zero-latency Orange simulator), clock frozen."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts import lifecycle
from contracts.models import ContractOption, OperatorRequest
from core.operator_kinds import RequestKind
from provisioning.models import SimulatedOperatorLine, SimulatedOperatorRequest
from tests.provisioning.test_dispatch_support import Stock

from .test_lifecycle_support import TUESDAY_10H, last_request, lifecycle_settings, live_line, paris, sweep

pytestmark = pytest.mark.django_db

ZONE = "usa_canada"
FIVE = "OR-ROA-ILL-USCA-OPT-5G"  # B: 45.00 € HT a month
TEN = "OR-ROA-ILL-USCA-OPT-10G"  # A: 85.00 € HT a month
OptStatus = ContractOption.Status


@pytest.fixture(autouse=True)
def _lifecycle(settings):
    lifecycle_settings(settings)


@pytest.fixture
def stock(time_machine):
    time_machine.move_to(TUESDAY_10H, tick=False)
    return Stock()


def change(contract, code: str) -> OperatorRequest:
    request = lifecycle.contract_roaming_change(contract=contract, zone=ZONE, choice_code=code)
    sweep()
    request.refresh_from_db()
    assert request.state == OperatorRequest.State.COMPLETED, request.last_error
    return request


def test_R_OPT_4_roaming_changed_back_and_forth_within_the_month_all_billed_envelope_is_the_last(
    stock, time_machine
):
    contract = live_line(stock)
    first = change(contract, FIVE)  # B, 9 March
    time_machine.move_to(paris(2027, 3, 15, 10), tick=False)
    change(contract, TEN)  # A, 15 March
    time_machine.move_to(paris(2027, 3, 20, 10), tick=False)
    back = change(contract, FIVE)  # B again, 20 March: no longer refused "option exists"

    rows = list(ContractOption.objects.filter(contract=contract, zone=ZONE, code__in=[FIVE, TEN]))
    assert sorted((o.code, o.status) for o in rows) == sorted(
        [(FIVE, OptStatus.TERMINATED), (TEN, OptStatus.TERMINATED), (FIVE, OptStatus.ACTIVE)]
    )
    envelope = lifecycle.roaming_envelope(contract, ZONE)
    assert envelope.code == FIVE and envelope.pk == back.payload["contract_option_id"]
    assert envelope.pk != first.payload["contract_option_id"]
    assert envelope.roaming_choice.limit == 5 * 10**9  # the last choice's envelope, not 5 + 10 + 5 Go

    march = [o for o in lifecycle.options_billed_for_month(contract, 2027, 3) if o.zone == ZONE]
    assert sorted(o.monthly_fee_ht for o in march if o.code in (FIVE, TEN)) == [
        Decimal("45.00"),
        Decimal("45.00"),
        Decimal("85.00"),
    ]  # B, A and B again: each live during March, each billed for it
    april = [o.code for o in lifecycle.options_billed_for_month(contract, 2027, 4) if o.zone == ZONE]
    assert april == [FIVE]

    # At the operator: the replaced option ended each time, the line holds the last choice once.
    contract.refresh_from_db()
    line = SimulatedOperatorLine.objects.get(network=contract.network, msisdn=contract.msisdn)
    assert line.options.count(FIVE) == 1 and TEN not in line.options
    answer = SimulatedOperatorRequest.objects.get(idempotency_key=back.idempotency_key)
    assert answer.result["replaced"] == [TEN]
    assert last_request(contract, RequestKind.ADD_OPTION).pk == back.pk


def test_R_OPT_4_operator_refuses_an_option_already_on_the_line_unless_it_is_replaced(stock):
    from provisioning.adapters import get_operator
    from provisioning.errors import OperatorRefusal

    contract = live_line(stock)
    change(contract, FIVE)
    contract.refresh_from_db()
    operator = get_operator(contract.network)
    line = {"msisdn": contract.msisdn}

    with pytest.raises(OperatorRefusal) as exists:
        operator.add_option(key="same-again", payload={**line, "option_code": FIVE})
    assert exists.value.code == "option_exists"

    ticket = operator.add_option(
        key="replaced-by-itself", payload={**line, "option_code": TEN, "replaces": FIVE}
    )
    status = operator.request_status(ticket.reference)
    assert status.result["options"].count(TEN) == 1 and FIVE not in status.result["options"]
    assert status.result["replaced"] == [FIVE]
