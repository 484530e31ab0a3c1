"""R-SC-5 / R-ORD-6: month totals and consumption journal of a line — the selectors (``usage.selectors``), the display
helpers (``usage.display``) and the back-office tab « Journal de consommations »."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts import selectors as contract_selectors
from core.clock import PARIS
from core.money import GB, MB
from tests.factories.catalog import OfferFactory
from tests.factories.contracts import ContractFactory
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory
from tests.factories.usage import CdrFactory, UsageCounterFactory, add_cdrs, paris_time, topup
from usage import selectors
from usage.display import (
    format_amount,
    format_duration,
    format_month,
    format_units,
    format_volume,
    journal_row,
)
from usage.models import Category, Cdr, Metric, Service, UsageZone

pytestmark = pytest.mark.django_db

# Mid-March 2024 in Paris: the journal covers January, February and March 2024.
NOW = paris_time(2024, 3, 15, 10)
MARCH, FEBRUARY, JANUARY = dt.date(2024, 3, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1)
RULE_ID = re.compile(r"\bR-[A-Z]{2,4}-\d")


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def partner():
    return PartnerFactory(name="Telcom Journal")


@pytest.fixture
def contract(partner):
    client = ClientAccountFactory(partner=partner, company_name="Client Journal")
    return ContractFactory(order__client=client, state="active", msisdn="0699887766")


@pytest.fixture
def scoped(contract, partner):
    """The contract as the doors get it: through the partner-scoped selector."""
    return contract_selectors.contract_get_for_partner_or_404(partner, contract.pk)


@pytest.fixture
def web(client, partner):
    client.force_login(MembershipFactory(partner=partner).user)
    return client


def _ids(qs) -> list[int]:
    return [c.pk for c in qs]


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


# --------------------------------------------------------------------------------------------------------
# Months
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOW, [MARCH, FEBRUARY, JANUARY]),
        (paris_time(2024, 1, 10), [dt.date(2024, 1, 1), dt.date(2023, 12, 1), dt.date(2023, 11, 1)]),
        # 2024-01-31 23:30 UTC is already February in Paris.
        (
            dt.datetime(2024, 1, 31, 23, 30, tzinfo=dt.UTC),
            [dt.date(2024, 2, 1), dt.date(2024, 1, 1), dt.date(2023, 12, 1)],
        ),
    ],
)
def test_R_SC_5_journal_months_are_the_current_paris_month_and_the_two_before(now, expected):
    assert selectors.journal_months(now) == expected


# --------------------------------------------------------------------------------------------------------
# Journal selector
# --------------------------------------------------------------------------------------------------------


def test_R_SC_5_journal_covers_last_3_months_only(contract, scoped, partner):
    before = CdrFactory(contract=contract, event_at=dt.datetime(2023, 12, 31, 23, 59, 59, tzinfo=PARIS))
    first = CdrFactory(contract=contract, event_at=dt.datetime(2024, 1, 1, 0, 0, 0, tzinfo=PARIS))
    middle = CdrFactory(contract=contract, event_at=paris_time(2024, 2, 10))
    last = CdrFactory(contract=contract, event_at=paris_time(2024, 3, 15, 9))
    same_time = CdrFactory(contract=contract, event_at=paris_time(2024, 3, 15, 9))
    other_line = ContractFactory(order__client=contract.client, msisdn="0699887700")
    CdrFactory(contract=other_line, event_at=paris_time(2024, 3, 1))

    journal = selectors.contract_consumptions(scoped)

    # Newest first, ties broken by id (descending); December 2023 and the other line are left out.
    assert _ids(journal) == [same_time.pk, last.pk, middle.pk, first.pk]
    assert before.pk not in _ids(journal)
    # The window is bounded on the partition key: PostgreSQL reads only the 3 months' partitions.
    sql = str(journal.query)
    assert '"usage_cdr"."event_at" >= 2024-01-01 00:00:00+01:00' in sql
    assert '"usage_cdr"."event_at" < 2024-04-01 00:00:00+02:00' in sql
    assert '"usage_cdr"."contract_id" =' in sql


def test_R_SC_5_journal_is_pruned_to_the_three_partitions(contract, scoped):
    CdrFactory(contract=contract, event_at=paris_time(2023, 11, 5))  # creates an older partition
    CdrFactory(contract=contract, event_at=paris_time(2024, 2, 5))
    journal = selectors.contract_consumptions(scoped)
    plan = journal.explain()
    assert "usage_cdr_202311" not in plan
    assert "usage_cdr_202402" in plan


def _one_of_each(contract) -> dict[str, Cdr]:
    at = paris_time(2024, 3, 2)
    rows = {
        "voice": dict(category=Category.VOICE, event_at=at, destination="0612345678", quantity=125),
        "voice_sva": dict(
            category=Category.VOICE_SVA,
            event_at=at + dt.timedelta(minutes=1),
            destination="0899123456",
            quantity=90,
            oop_quantity=90,
            amount_ht=Decimal("0.8000"),
            premium=True,
            premium_billable=True,
        ),
        "sms": dict(category=Category.SMS_MMS, event_at=at + dt.timedelta(minutes=2), quantity=1),
        "data_oop": dict(
            category=Category.DATA,
            event_at=at + dt.timedelta(minutes=3),
            usage_zone=UsageZone.USA_CANADA,
            quantity=5 * MB,
            oop_quantity=5 * MB,
            amount_ht=Decimal("2.5000"),
        ),
        "data_in_plan": dict(category=Category.DATA, event_at=at + dt.timedelta(minutes=4), quantity=50 * MB),
    }
    created = add_cdrs(contract, list(rows.values()))
    return dict(zip(rows, created, strict=True))


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("all", ["data_oop", "sms", "voice_sva", "voice"]),
        ("voice", ["voice"]),
        ("voice_sva", ["voice_sva"]),
        ("sms_mms", ["sms"]),
        ("data", ["data_oop"]),
    ],
)
def test_R_SC_5_tabs_all_voice_premium_sms_data(contract, scoped, tab, expected):
    records = _one_of_each(contract)
    assert _ids(selectors.contract_consumptions(scoped, tab=tab)) == [records[k].pk for k in expected]


def test_R_SC_5_data_tab_shows_only_out_of_plan(contract, scoped):
    records = _one_of_each(contract)
    data = list(selectors.contract_consumptions(scoped, tab="data"))
    assert [c.pk for c in data] == [records["data_oop"].pk]
    assert all(c.oop_quantity > 0 for c in data)
    # Asking for in-plan data finds nothing: the journal never lists in-plan data.
    assert not selectors.contract_consumptions(scoped, tab="data", out_of_plan=False).exists()


def test_unknown_tab_is_refused(scoped):
    with pytest.raises(ValueError):
        selectors.contract_consumptions(scoped, tab="roaming")


@pytest.fixture
def filter_records(contract):
    rows = {
        "fr_mobile": dict(destination="0612345678", label="Appel", event_at=paris_time(2024, 2, 1, 0, 0)),
        "spain": dict(
            destination="+34911234567",
            label="Appel vers l'Europe",
            dest_zone=UsageZone.ZONE1,
            country="ESP",
            event_at=dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=PARIS),
        ),
        "usa": dict(
            destination="12125550100",
            label="Appel en itinérance USA/Canada",
            usage_zone=UsageZone.USA_CANADA,
            dest_zone=UsageZone.USA_CANADA,
            country="USA",
            oop_quantity=60,
            amount_ht=Decimal("1.2000"),
            event_at=paris_time(2024, 3, 1, 0, 0),
        ),
        "data_europe": dict(
            category=Category.DATA,
            usage_zone=UsageZone.ZONE1,
            quantity=2 * MB,
            oop_quantity=2 * MB,
            label="Session data en Europe",
            event_at=paris_time(2024, 3, 3),
        ),
    }
    return dict(zip(rows, add_cdrs(contract, list(rows.values())), strict=True))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"number": "+33 6 12 34 56 78"}, ["fr_mobile"]),  # stored nationally: 0612345678
        ({"number": "33612345678"}, ["fr_mobile"]),
        ({"number": "06 12"}, ["fr_mobile"]),
        ({"number": "+34 911"}, ["spain"]),
        ({"label": "EUROPE"}, ["data_europe", "spain"]),
        ({"label": "itinérance"}, ["usa"]),
        ({"destination": "zone1"}, ["data_europe", "spain"]),  # called zone 1, or data used in zone 1
        ({"destination": "usa_canada"}, ["usa"]),
        ({"destination": "esp"}, ["spain"]),
        ({"destination": "Espagne"}, []),
        # Inclusive Paris days: 29 February 23:59:59 is in « au 29/02 », 1 March 00:00 is not.
        ({"date_to": dt.date(2024, 2, 29)}, ["spain", "fr_mobile"]),
        ({"date_from": dt.date(2024, 3, 1)}, ["data_europe", "usa"]),
        ({"date_from": dt.date(2024, 2, 29), "date_to": dt.date(2024, 2, 29)}, ["spain"]),
        ({"date_from": dt.date(2024, 3, 2), "date_to": dt.date(2024, 3, 1)}, []),
        ({"date_from": dt.date(2023, 6, 1), "date_to": dt.date(2023, 12, 31)}, []),  # before the 3 months
        ({"out_of_plan": True}, ["data_europe", "usa"]),
        ({"out_of_plan": False}, ["spain", "fr_mobile"]),
        ({"number": "0612", "out_of_plan": True}, []),
    ],
)
def test_R_SC_5_filters_number_label_destination_date_out_of_plan(scoped, filter_records, filters, expected):
    found = selectors.contract_consumptions(scoped, **filters)
    assert _ids(found) == [filter_records[k].pk for k in expected]


def test_number_search_normalises_like_the_platform():
    assert selectors.number_search_digits("+33 6 12 34 56 78") == "0612345678"
    assert selectors.number_search_digits("0033 6.12") == "0612"
    assert selectors.number_search_digits("33612345678") == "0612345678"
    assert selectors.number_search_digits("+34 911") == "34911"
    assert selectors.number_search_digits("  ") == ""


# --------------------------------------------------------------------------------------------------------
# Month totals
# --------------------------------------------------------------------------------------------------------


def _february_counters(contract):
    c = {"contract": contract, "month": FEBRUARY}
    UsageCounterFactory(**c, metric=Metric.DATA, zone="", quantity=11 * GB)
    # Bouygues keeps its Europe data apart (zone « europe », R-ROA-4): still the envelope's data.
    UsageCounterFactory(**c, metric=Metric.DATA, zone="europe", quantity=1 * GB)
    UsageCounterFactory(
        **c,
        metric=Metric.ROAMING_DATA,
        zone=UsageZone.USA_CANADA,
        quantity=300 * MB,
        oop_quantity=300 * MB,
        amount_ht=Decimal("3.0000"),
    )
    UsageCounterFactory(  # no rate in the catalog yet: « à tarifer »
        **c,
        metric=Metric.ROAMING_DATA,
        zone=UsageZone.MAGHREB_TURQUIE,
        quantity=20 * MB,
        oop_quantity=20 * MB,
        unpriced_quantity=20 * MB,
    )
    UsageCounterFactory(
        **c, metric=Metric.VOICE, zone="", quantity=3600, oop_quantity=120, amount_ht=Decimal("0.4")
    )
    UsageCounterFactory(
        **c,
        metric=Metric.VOICE,
        zone=UsageZone.USA_CANADA,
        quantity=600,
        oop_quantity=600,
        amount_ht=Decimal("1.2000"),
    )
    UsageCounterFactory(
        **c, metric=Metric.VOICE_SVA, quantity=300, oop_quantity=120, amount_ht=Decimal("0.8000")
    )
    UsageCounterFactory(
        **c, metric=Metric.SMS_MMS, quantity=12, oop_quantity=2, amount_ht=Decimal("0"), unpriced_quantity=2
    )
    # Another month and another line do not count.
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.DATA, quantity=1 * GB)
    other = ContractFactory(order__client=contract.client, msisdn="0699887701")
    UsageCounterFactory(contract=other, month=FEBRUARY, metric=Metric.VOICE, quantity=999)


def _february_topups(contract):
    """5 Go of top-ups confirmed in February (2 + 3 Go); a pending one and March's do not count."""
    topup(contract, 2 * GB, month=FEBRUARY)
    topup(contract, 3 * GB, month=FEBRUARY)
    topup(contract, 10 * GB, state="pending")
    topup(contract, 1 * GB, month=MARCH)


def test_R_SC_5_month_totals(contract, scoped, django_assert_num_queries):
    _february_counters(contract)
    _february_topups(contract)

    with django_assert_num_queries(2):  # the counters, the month's confirmed top-ups
        totals = selectors.contract_usage_totals(scoped, FEBRUARY)

    assert totals.month == FEBRUARY
    # Data: used 12 Go of a 10 Go envelope, the 2 Go beyond taken out of the 5 Go top-up; out of plan = roaming.
    assert (totals.data_used, totals.data_envelope) == (12 * GB, 10 * GB)
    assert (totals.data_topup_used, totals.data_topup) == (2 * GB, 5 * GB)
    assert totals.data_oop == 320 * MB
    assert [
        (r.zone, r.zone_label, r.quantity, r.oop_quantity, r.amount_ht, r.unpriced_quantity)
        for r in totals.roaming
    ] == [
        ("usa_canada", "USA/Canada", 300 * MB, 300 * MB, Decimal("3.0000"), 0),
        ("maghreb_turquie", "Maghreb/Turquie", 20 * MB, 20 * MB, Decimal("0"), 20 * MB),
    ]
    # Voice: every zone summed.
    assert (totals.voice_used, totals.voice_oop) == (4200, 720)
    # Premium numbers: 300 s, of which 120 s billed.
    assert (totals.premium_not_billable, totals.premium_billed) == (180, 120)
    assert (totals.sms_mms_used, totals.sms_mms_oop) == (12, 2)
    assert totals.amount_ht == Decimal("5.4000")
    assert totals.unpriced is True


def test_R_SC_5_month_totals_of_an_empty_month_and_the_topup_cap(contract, scoped):
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.DATA, quantity=18 * GB)
    topup(contract, 5 * GB, month=MARCH)
    march = selectors.contract_usage_totals(scoped)  # default: the current month
    assert march.month == MARCH
    assert (march.data_used, march.data_topup_used, march.data_topup) == (18 * GB, 5 * GB, 5 * GB)

    january = selectors.contract_usage_totals(scoped, JANUARY)
    assert (january.data_used, january.data_topup_used, january.voice_used, january.sms_mms_used) == (
        0,
        0,
        0,
        0,
    )
    assert january.amount_ht == Decimal("0") and january.unpriced is False


def test_R_SC_5_month_totals_without_envelope(partner):
    offer = OfferFactory(code="T-CPT", range="compteur", data_bytes=None, blocked=None)
    client = ClientAccountFactory(partner=partner)
    line = ContractFactory(order__client=client, order__offer=offer, msisdn="0699887702")
    UsageCounterFactory(contract=line, month=MARCH, metric=Metric.DATA, quantity=2 * GB, oop_quantity=2 * GB)
    topup(line, GB, month=MARCH)
    totals = selectors.contract_usage_totals(
        contract_selectors.contract_get_for_partner_or_404(partner, line.pk)
    )
    assert totals.data_envelope is None
    assert (totals.data_used, totals.data_topup_used, totals.data_oop) == (2 * GB, 0, 2 * GB)


def test_R_SC_5_topup_not_used_while_within_the_envelope(contract, scoped):
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.DATA, quantity=9 * GB)
    topup(contract, 5 * GB, month=MARCH)
    totals = selectors.contract_usage_totals(scoped, MARCH)
    assert (totals.data_used, totals.data_topup_used, totals.data_topup) == (9 * GB, 0, 5 * GB)


# --------------------------------------------------------------------------------------------------------
# Display helpers
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00:00"), (59, "00:00:59"), (3725, "01:02:05"), (90000, "25:00:00")]
)
def test_R_SC_5_durations_as_hh_mm_ss(seconds, text):
    assert format_duration(seconds) == text


def test_R_SC_5_volumes_units_and_amounts_in_french():
    assert format_volume(0) == "0 Mo"
    assert format_volume(10 * GB) == "10 Go"
    assert format_volume(2_400_000_000) == "2,40 Go"
    assert format_volume(None) == "—"
    assert [format_units(n) for n in (0, 1, 2)] == ["0 unité", "1 unité", "2 unités"]
    assert format_amount(Decimal("0.8000")) == "0,80 €"
    assert format_amount(Decimal("0.0125")) == "0,0125 €"
    assert format_amount(Decimal("12")) == "12,00 €"
    assert format_month(FEBRUARY) == "Février 2024"


def test_R_SC_5_journal_row_as_shown(contract):
    call, sva, data, unpriced = add_cdrs(
        contract,
        [
            dict(destination="0612345678", quantity=3725, event_at=paris_time(2024, 3, 2, 8, 5, 9)),
            dict(
                category=Category.VOICE_SVA,
                destination="0899123456",
                quantity=90,
                oop_quantity=90,
                amount_ht=Decimal("0.8000"),
            ),
            dict(
                category=Category.DATA,
                usage_zone=UsageZone.USA_CANADA,
                quantity=5 * MB,
                oop_quantity=5 * MB,
                amount_ht=Decimal("2.5"),
            ),
            dict(service=Service.SMS, category=Category.SMS_MMS, oop_quantity=1, unpriced=True, quantity=1),
        ],
    )
    row = journal_row(call)
    assert (row.number, row.destination, row.quantity, row.out_of_plan, row.amount) == (
        "06 12 34 56 78",
        "France",
        "01:02:05",
        False,
        "—",
    )
    assert row.at.tzinfo is not None and row.at.hour == 8
    assert journal_row(sva).amount == "0,80 €"
    data_row = journal_row(data)
    assert (data_row.number, data_row.destination, data_row.quantity, data_row.amount) == (
        "—",
        "USA/Canada",
        "5 Mo",
        "2,50 €",
    )
    assert (journal_row(unpriced).amount, journal_row(unpriced).quantity) == ("à tarifer", "1 unité")


# --------------------------------------------------------------------------------------------------------
# Back-office tab
# --------------------------------------------------------------------------------------------------------


def _tab_url(contract) -> str:
    return reverse("backoffice:contract_usage", kwargs={"contract_id": contract.pk})


def test_R_ORD_6_contract_page_lists_the_journal_tab(web, contract):
    page = web.get(reverse("backoffice:contract_detail", kwargs={"contract_id": contract.pk}))
    body = page.content.decode()
    assert "Journal de consommations" in body
    assert f'href="{_tab_url(contract)}"' in body
    # The generic tab URL of the contract page leads to the same tab.
    assert reverse(
        "backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "consommations"}
    ) == (_tab_url(contract))


def test_R_SC_5_journal_tab_shows_month_totals_and_records_in_french(web, contract):
    _february_counters(contract)
    UsageCounterFactory(contract=contract, month=MARCH, metric=Metric.VOICE, quantity=3725, oop_quantity=0)
    add_cdrs(
        contract,
        [
            dict(
                destination="0612345678",
                label="Appel",
                quantity=3725,
                event_at=paris_time(2024, 3, 2, 8, 5, 9),
                rule="R-ROA-1",
            ),
            dict(
                category=Category.SMS_MMS,
                service=Service.SMS,
                label="SMS vers l'international",
                dest_zone=UsageZone.RESTE_DU_MONDE,
                destination="+81312345678",
                oop_quantity=1,
                unpriced=True,
                event_at=paris_time(2024, 2, 20, 18),
                rule="R-ROA-1",
            ),
        ],
    )

    page = web.get(_tab_url(contract))

    assert page.status_code == 200
    body = page.content.decode()
    text = _visible_text(body)
    # The month totals, current month by default (R-SC-5).
    assert "Totaux des consommations Mars 2024" in " ".join(text.split())
    assert "Les totaux de consommations sont affichés par défaut sur le mois en cours." in body
    for label in (
        "Consommé",
        "Recharge",
        "Hors forfait",
        "Voix",
        "Nombres spéciaux et surtaxés",
        "Non facturable",
        "Facturé",
        "Total SMS / MMS",
    ):
        assert label in text
    assert 'data-total="voice-used">01:02:05<' in body
    assert 'data-total="data-used">1 Go / 10 Go<' in body
    assert 'data-total="sms-used">0 unité<' in body
    # The journal: sub-tabs, columns, rows.
    for label in ("Toutes", "Voix SVA", "SMS &amp; MMS", "Data"):
        assert label in body
    for column in (
        "N° appelé",
        "Désignation",
        "Destination",
        "Date",
        "Quantité",
        "Hors forfait",
        "Montant HT",
    ):
        assert f"<th>{column}</th>" in body
    assert "06 12 34 56 78" in body and "02/03/2024 08:05:09" in body and "01:02:05" in body
    assert "à tarifer" in body and "Reste du monde" in body
    # Never an internal code or a rule id (STYLE 31).
    assert not RULE_ID.search(body)
    for code in ("voice_sva", "sms_mms", "reste_du_monde", "usa_canada", "zone1"):
        assert code not in text, code
    assert "Vary" in page and "HX-Request" in page["Vary"]


def test_R_SC_5_month_selector_shows_the_chosen_month(web, contract):
    _february_counters(contract)
    _february_topups(contract)
    page = web.get(_tab_url(contract), {"month": "2024-02"})
    body = page.content.decode()
    assert 'data-total="data-used">12 Go / 10 Go<' in body
    assert 'data-total="data-topup">2 Go / 5 Go<' in body
    assert 'data-total="data-oop">320 Mo<' in body
    assert 'data-total="voice-used">01:10:00<' in body and 'data-total="voice-oop">00:12:00<' in body
    assert 'data-total="premium-not-billable">00:03:00<' in body
    assert 'data-total="premium-billed">00:02:00<' in body
    assert 'data-total="sms-used">12 unités<' in body and 'data-total="sms-oop">2 unités<' in body
    assert "5,40 €" in body and "à tarifer" in body
    # Roaming per zone, « à tarifer » where the catalog has no rate yet.
    assert "<td>USA/Canada</td><td>300 Mo</td><td>300 Mo</td><td>3,00 €</td>" in body
    assert "<td>Maghreb/Turquie</td><td>20 Mo</td><td>20 Mo</td><td>à tarifer</td>" in body
    assert '<option value="2024-02" selected>Février 2024</option>' in body
    assert '<option value="2023-12"' not in body  # only the last 3 months

    outside = web.get(_tab_url(contract), {"month": "2023-12"})
    assert outside.status_code == 200
    assert '<option value="2024-03" selected>Mars 2024</option>' in outside.content.decode()


def test_R_SC_5_filters_and_tabs_on_the_page(web, contract, filter_records):
    page = web.get(_tab_url(contract), {"number": "+33 6 12 34 56 78"})
    assert [r.number for r in page.context["rows"]] == ["06 12 34 56 78"]

    page = web.get(_tab_url(contract), {"out_of_plan": "1", "destination": "zone1"})
    assert [r.label for r in page.context["rows"]] == ["Session data en Europe"]

    page = web.get(
        _tab_url(contract), {"date_from": "2024-02-29", "date_to": "2024-02-29", "label": "europe"}
    )
    assert [r.label for r in page.context["rows"]] == ["Appel vers l'Europe"]

    page = web.get(_tab_url(contract), {"tab": "data"})
    assert [r.label for r in page.context["rows"]] == ["Session data en Europe"]
    body = page.content.decode()
    assert "apparaît dans le journal que pour sa part hors forfait." in body

    # Sub-tab links keep the filters and go back to page 1 (plain links: no JavaScript needed).
    page = web.get(_tab_url(contract), {"number": "0612", "page": "1"})
    assert 'href="?number=0612&amp;tab=voice"' in page.content.decode()


def test_R_SC_5_bad_filter_values_are_reported_in_french(web, contract, filter_records):
    page = web.get(_tab_url(contract), {"date_from": "2024-03-02", "date_to": "2024-03-01", "tab": "xx"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "La date de fin précède la date de début." in body
    assert "Sélectionnez un choix valide" in body
    # The bad values are ignored (tab → « Toutes », no end date), the valid ones still apply (from 2 March).
    assert [r.label for r in page.context["rows"]] == ["Session data en Europe"]


def test_R_SC_5_journal_is_paginated_by_25(web, contract, django_assert_max_num_queries):
    add_cdrs(
        contract,
        [
            dict(destination=f"06{i:08d}", event_at=paris_time(2024, 3, 1) + dt.timedelta(minutes=i))
            for i in range(30)
        ],
    )
    with django_assert_max_num_queries(10):
        first = web.get(_tab_url(contract), {"number": "06"})
    assert len(first.context["rows"]) == 25
    assert first.context["rows"][0].number == "06 00 00 00 29"
    assert "30 consommations" in first.content.decode()
    assert 'href="?number=06&amp;page=2"' in first.content.decode()
    second = web.get(_tab_url(contract), {"number": "06", "page": "2"})
    assert [r.number for r in second.context["rows"]] == [f"06 00 00 00 0{i}" for i in (4, 3, 2, 1, 0)]


def test_R_SC_5_journal_tab_query_budget_does_not_grow_with_rows(
    web, contract, django_assert_max_num_queries
):
    _february_counters(contract)
    add_cdrs(contract, [dict(event_at=paris_time(2024, 3, 1) + dt.timedelta(minutes=i)) for i in range(5)])
    with django_assert_max_num_queries(10) as few:
        web.get(_tab_url(contract))
    add_cdrs(contract, [dict(event_at=paris_time(2024, 2, 1) + dt.timedelta(minutes=i)) for i in range(60)])
    with django_assert_max_num_queries(10) as many:
        web.get(_tab_url(contract))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_R_SC_5_htmx_swaps_only_the_journal_block(web, contract, filter_records):
    partial = web.get(_tab_url(contract), {"tab": "voice"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="usage")
    body = partial.content.decode()
    assert partial.status_code == 200
    assert body.lstrip().startswith('<div id="usage"') and "<html" not in body
    assert 'id="contract-tabs"' not in body
    assert "HX-Request" in partial["Vary"]

    tab = web.get(_tab_url(contract), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="tab-panel")
    body = tab.content.decode()
    assert "<html" not in body and 'id="contract-tabs"' in body and 'hx-swap-oob="true"' in body
    assert 'id="tab-panel" data-tab="consommations"' in body


def test_R_SC_5_the_page_works_without_javascript(web, contract):
    body = web.get(_tab_url(contract)).content.decode()
    # Both forms are plain GET forms to the tab's URL; sub-tabs and pages are plain links.
    assert body.count(f'method="get" action="{_tab_url(contract)}"') == 2
    assert '<button type="submit">Filtrer</button>' in body


def test_R_SC_5_other_partner_gets_404_on_the_tab(client, contract):
    intruder = MembershipFactory(partner=PartnerFactory(name="Autre")).user
    client.force_login(intruder)
    CdrFactory(contract=contract, label="Secret-B", event_at=paris_time(2024, 3, 2))
    response = client.get(_tab_url(contract))
    assert response.status_code == 404
    assert "Secret-B" not in response.content.decode()
