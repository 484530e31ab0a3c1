"""R-SC-5: the self-care line page — user, state, delivery date, offer, options, SIM and PUK, month totals and
the consumption journal (tabs, filters, htmx partial with plain-GET fallback); scoped to the logged-in client."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import ContractOption
from core.money import MB
from tests.factories.contracts import ContractFactory
from tests.factories.inventory import SimCardFactory
from tests.factories.partners import ClientAccountFactory, SelfcareAccessFactory
from tests.factories.usage import CdrFactory, paris_time
from usage.models import Category

from .conftest import login

pytestmark = pytest.mark.django_db

NOW = paris_time(2024, 3, 15, 10)
RULE_ID = re.compile(r"\bR-[A-Z]{2,4}-\d")


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def line(client_account):
    sim = SimCardFactory(partner=client_account.partner, puk="12345678")
    contract = ContractFactory(
        order__client=client_account,
        state="suspended",
        user_name="Jeanne Martin",
        sim=sim,
        msisdn="0611223344",
        delivered_at=paris_time(2024, 1, 10, 9),
    )
    ContractOption.objects.create(
        partner=contract.partner,
        contract=contract,
        code="OPT_5G_XYZ",
        label="Option 5G",
        status="active",
        created_at=paris_time(2024, 1, 10, 9),
    )
    return contract


@pytest.fixture
def web(selfcare, access):
    assert login(selfcare, access.user.username).status_code == 302
    return selfcare


def _url(contract, **query) -> str:
    url = reverse("selfcare:line", urlconf="alphalink.urls_selfcare", kwargs={"pk": contract.pk})
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def test_R_SC_5_line_page_shows_user_state_offer_options_sim_and_puk(web, line):
    response = web.get(_url(line))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Jeanne Martin", "Suspendu", "10/01/2024", line.offer.label, "Option 5G", line.sim.iccid):
        assert text in html, text
    assert "12345678" in html
    assert "OPT_5G_XYZ" not in html
    assert not RULE_ID.search(html)
    assert "HX-Request" in response["Vary"]


def test_R_SC_5_month_totals_and_journal_tabs_and_filters(web, line):
    CdrFactory(contract=line, event_at=paris_time(2024, 3, 2, 10), destination="0700000001")
    CdrFactory(contract=line, event_at=paris_time(2024, 3, 3, 10), category=Category.SMS_MMS)
    CdrFactory(contract=line, event_at=paris_time(2024, 3, 4, 10), category=Category.DATA, quantity=5 * MB)
    html = web.get(_url(line)).content.decode()
    assert "Totaux des consommations" in html and "Journal de consommations" in html
    assert "2 consommations" in html  # data only shows its out-of-plan part
    assert "1 consommation" in web.get(_url(line, tab="sms_mms")).content.decode()
    filtered = web.get(_url(line, number="0700000001")).content.decode()
    assert "1 consommation" in filtered
    january = web.get(_url(line, month="2024-01")).content.decode()
    assert "janvier 2024" in january.lower()


def test_R_SC_5_htmx_swaps_the_journal_block_only(web, line):
    response = web.get(_url(line, tab="voice"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="usage")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="usage"')
    assert "Jeanne Martin" not in html
    assert "HX-Request" in response["Vary"]


def test_R_SC_5_another_client_of_the_same_partner_gets_404(web, partner, line):
    other = ClientAccountFactory(partner=partner, company_name="Voisin SARL")
    SelfcareAccessFactory(client=other)
    foreign = ContractFactory(order__client=other, user_name="Secret Voisin")
    response = web.get(_url(foreign))
    assert response.status_code == 404
    assert "Secret Voisin" not in response.content.decode()


def test_R_SC_5_anonymous_is_sent_to_login(selfcare, line):
    response = selfcare.get(_url(line))
    assert response.status_code == 302


def test_R_SC_5_line_page_query_budget(web, line):
    for day in range(1, 6):
        CdrFactory(contract=line, event_at=paris_time(2024, 3, day, 10))
    web.get(_url(line))
    with CaptureQueriesContext(connection) as ctx:
        assert web.get(_url(line)).status_code == 200
    assert len(ctx.captured_queries) <= 20, [q["sql"] for q in ctx.captured_queries]
