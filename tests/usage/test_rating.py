"""Rating (issue 7, item 3): the pure rules of ``usage/rules.py`` and the SQL of the ingestion held to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from catalog.models import Offer, UsageRate
from core.money import MB
from tests.usage.conftest import (
    bouygues_file,
    bouygues_line,
    bouygues_name,
    orange_file,
    orange_line,
    orange_name,
    paris,
)
from usage import rules
from usage.ingestion import ingest_bytes
from usage.models import Cdr, UsageCounter

NOW = paris(2026, 12, 15, 12, 0)
ILL_OR = rules.Profile("orange", "illimite", rules.CUTOFF, rules.OPTION, rules.CUTOFF)
ILL_BY = rules.Profile("bouygues", "illimite")


def rate(code: str, price: str, network: str = "orange") -> None:
    UsageRate.objects.filter(network=network, code=code).update(price_ht=Decimal(price))


# --- R-ROA-1: the inclusion table, as a rule ---------------------------------------------------------------

ROA_1 = [
    # (profile, service, direction, where, to, metered)
    (ILL_OR, "data", "out", "zone1", "", False),  # data from zone 1/1B included
    (ILL_OR, "voice", "out", "zone1", "zone1", False),  # calls from zone 1 to zone 1 included
    (ILL_OR, "voice", "out", "zone1", "france", False),
    (ILL_OR, "voice", "in", "zone1", "reste_du_monde", False),  # incoming in zone 1 included
    (ILL_OR, "sms", "out", "zone1", "zone1", False),
    (ILL_OR, "sms", "in", "reste_du_monde", "france", False),  # SMS received: included from any zone
    (ILL_OR, "mms", "out", "zone1", "reste_du_monde", False),  # MMS from zone 1 included
    (ILL_OR, "voice", "out", "usa_canada", "france", True),  # from any other zone: metered
    (ILL_OR, "voice", "in", "maghreb_turquie", "france", True),
    (ILL_OR, "sms", "out", "reste_du_monde", "france", True),
    (ILL_OR, "mms", "out", "usa_canada", "france", True),
    (ILL_OR, "voice", "out", "france", "zone1", False),  # France → zone 1/1B calls included
    (ILL_OR, "voice", "out", "france", "usa_canada", True),  # France → other zones metered
    (ILL_OR, "sms", "out", "france", "zone1", False),  # SMS France → zone 1: Orange included…
    (ILL_BY, "sms", "out", "france", "zone1", True),  # …Bouygues metered
    (ILL_BY, "sms", "out", "france", "reste_du_monde", True),
    (ILL_OR, "mms", "out", "france", "zone1", True),  # MMS France → any other country metered
    (ILL_BY, "mms", "out", "france", "usa_canada", True),
    (ILL_OR, "voice", "out", "france", "france", False),
]


@pytest.mark.parametrize(("profile", "service", "direction", "where", "to", "metered"), ROA_1)
def test_R_ROA_1_inclusion_table(profile, service, direction, where, to, metered):
    r = rules.classify(profile, service=service, direction=direction, usage_zone=where, dest_zone=to)
    assert r.metered is metered


@pytest.mark.parametrize(
    ("profile", "where", "metered", "metric", "zone"),
    [
        (ILL_OR, "usa_canada", True, "roaming_data", "usa_canada"),  # cut-off: metered (R-ROA-3)
        (ILL_OR, "maghreb_turquie", False, "roaming_data", "maghreb_turquie"),  # option: included (R-OPT-4)
        (ILL_BY, "reste_du_monde", True, "roaming_data", "monde"),  # Bouygues World cut-off in € (R-ROA-4)
        (ILL_BY, "zone1", False, "data", "europe"),  # Bouygues Europe: in the envelope, kept apart
        (rules.Profile("orange", "travel"), "usa_canada", False, "roaming_data", "usa_canada"),  # R-CAT-4
        (rules.Profile("orange", "data_only"), "usa_canada", True, "roaming_data", "usa_canada"),  # R-CAT-5
    ],
)
def test_R_ROA_1_roaming_data_by_zone_and_choice(profile, where, metered, metric, zone):
    r = rules.classify(profile, service="data", direction="out", usage_zone=where)
    assert (r.metered, r.metric, r.zone) == (metered, metric, zone)


def test_R_CAT_7_compteur_meters_everything_but_received_in_france():
    p = rules.Profile("orange", "compteur")
    assert rules.classify(
        p, service="voice", direction="out", usage_zone="france", dest_zone="france"
    ).rate == ("cpt_voice")
    assert rules.classify(p, service="data", direction="out", usage_zone="france").rate == "cpt_data"
    assert not rules.classify(
        p, service="sms", direction="in", usage_zone="france", dest_zone="france"
    ).metered


def test_R_CAT_11_fair_use_rules():
    assert rules.fair_use_oop(quantity=8000, service="voice", party_rank=3) == 800  # beyond 2 h
    assert rules.fair_use_oop(quantity=60, service="voice", party_rank=251) == 60  # 251st number
    assert rules.fair_use_oop(quantity=60, service="voice", party_rank=250) == 0
    assert rules.fair_use_oop(quantity=1, service="sms", party_rank=251) == 1


def test_allowance_split_and_amounts():
    assert rules.allowance_split(used_before=3000, quantities=[500, 200, 100], allowance=3600) == [
        0,
        100,
        100,
    ]
    assert rules.amount_ht(90, "minute", Decimal("0.30")) == Decimal("0.4500")
    assert rules.amount_ht(90, "minute", None) is None  # « à tarifer », never 0
    assert rules.amount_ht(2 * MB, "mo", Decimal("0.01")) == Decimal("0.0200")


def test_R_CAT_8_compteur_data_tier_reached_prices_every_mo_beyond_500():
    tiers = [
        {"up_to_bytes": 1000 * MB, "price_per_mo_ht": "0.02"},
        {"up_to_bytes": None, "price_per_mo_ht": "0.01"},
    ]
    assert rules.compteur_data_amount(400 * MB, tiers) == Decimal("0")
    assert rules.compteur_data_amount(900 * MB, tiers) == Decimal("8.0000")  # 400 Mo × 0.02
    assert rules.compteur_data_amount(2000 * MB, tiers) == Decimal("15.0000")  # 1500 Mo × 0.01 (tier reached)
    assert rules.compteur_data_amount(900 * MB, None) is None


# --- the SQL held to the rules -----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_R_ROA_1_sql_rating_follows_the_rules_orange(line):
    """Every case of the inclusion table, ingested as an Orange file: the out-of-plan part the SQL stores is
    the one ``rules.classify`` gives."""
    c = line(
        "OR-ILL-10G-NB",
        msisdn="0612100001",
        roaming={
            "usa_canada": "OR-ROA-ILL-USCA-CUT-500M",
            "maghreb_turquie": "OR-ROA-ILL-MT-OPT-1G",
            "reste_du_monde": "OR-ROA-ILL-RDM-CUT-0",
        },
    )
    alpha3 = {
        "france": "FRA",
        "zone1": "ESP",
        "usa_canada": "USA",
        "maghreb_turquie": "MAR",
        "reste_du_monde": "JPN",
    }
    number = {
        "france": "33612999001",
        "zone1": "34911234567",
        "usa_canada": "12125550100",
        "maghreb_turquie": "212522000000",
        "reste_du_monde": "81312345678",
    }
    kinds = {"voice": "VOIX", "sms": "SMS", "mms": "MMS"}
    lines, expected = [], {}
    for i, (profile, service, direction, where, to, metered) in enumerate(ROA_1):
        if profile is not ILL_OR:
            continue
        ticket = f"OR-ROA1-{i:04d}"
        lines.append(
            orange_line(
                "0612100001",
                paris(2026, 12, 15, 8, i),
                kinds[service] if service != "data" else "DATA",
                sens="S" if direction == "out" else "E",
                where=alpha3[where],
                to=number[to] if to else "",
                to_country=alpha3[to] if to else "",
                ko=100 if service == "data" else "",
                ticket=ticket,
            )
        )
        expected[ticket] = metered
    ingest_bytes(name=orange_name(), data=orange_file(*lines))
    stored = {row.record_id: row.oop_quantity > 0 for row in Cdr.objects.filter(contract_id=c.pk)}
    assert stored == expected


@time_machine.travel(NOW, tick=False)
def test_R_ROA_1_sql_sms_to_europe_metered_on_bouygues(line):
    c = line("BY-ILL-30G-NB", msisdn="0660100002")
    at = paris(2026, 12, 15, 9, 0)
    ingest_bytes(
        name=bouygues_name(),
        data=bouygues_file(
            bouygues_line("0660100002", at, "SMS", other="+34911234567", mcc_other="214", record="1"),
            bouygues_line("0660100002", at, "SMS", other="0612345678", mcc_other="208", record="2"),
        ),
    )
    oop = dict(Cdr.objects.filter(contract_id=c.pk).values_list("record_id", "oop_quantity"))
    assert oop == {"1": 1, "2": 0}


@time_machine.travel(NOW, tick=False)
def test_out_of_plan_priced_from_catalog_rates_or_flagged_a_tarifer(line):
    c = line("OR-ILL-10G-NB", msisdn="0612100003")
    rate("intl_voice_reste_du_monde", "0.6000")
    ingest_bytes(
        name=orange_name(),
        data=orange_file(
            orange_line(
                "0612100003", paris(2026, 12, 15, 9, 0), to="81312345678", to_country="JPN", seconds=90
            ),
            orange_line(
                "0612100003", paris(2026, 12, 15, 9, 1), to="12125550100", to_country="USA", seconds=60
            ),
        ),
    )
    rows = {r.dest_zone: r for r in Cdr.objects.filter(contract_id=c.pk)}
    assert rows["reste_du_monde"].amount_ht == Decimal("0.9000") and not rows["reste_du_monde"].unpriced
    assert rows["usa_canada"].amount_ht is None and rows["usa_canada"].unpriced  # no rate in the seed
    voice = UsageCounter.objects.get(contract=c, metric="voice", zone="")
    assert (voice.quantity, voice.oop_quantity, voice.amount_ht, voice.unpriced_quantity) == (
        150,
        150,
        Decimal("0.9000"),
        60,
    )


@time_machine.travel(NOW, tick=False)
def test_R_SC_5_premium_numbers_not_billable_and_billed(line):
    c = line("OR-ILL-10G-NB", msisdn="0612100004")
    ingest_bytes(
        name=orange_name(),
        data=orange_file(
            orange_line(
                "0612100004", paris(2026, 12, 15, 9, 0), to="33899123456", seconds=120, sva="1", fee="1,20"
            ),
            orange_line(
                "0612100004", paris(2026, 12, 15, 9, 5), to="33810123456", seconds=60, sva="1", fee="0,00"
            ),
        ),
    )
    sva = UsageCounter.objects.get(contract=c, metric="voice_sva")
    assert (sva.quantity, sva.oop_quantity, sva.amount_ht) == (180, 120, Decimal("1.2000"))
    assert set(Cdr.objects.filter(contract_id=c.pk).values_list("category", flat=True)) == {"voice_sva"}


@time_machine.travel(NOW, tick=False)
def test_R_CAT_11_call_beyond_two_hours_and_251st_number_metered(line):
    c = line("OR-ILL-10G-NB", msisdn="0612100005")
    rate("voice_fair_use", "0.1200")
    calls = [
        orange_line(
            "0612100005",
            paris(2026, 12, 1, 8, 0) + dt.timedelta(minutes=i),
            to=f"3361{i:07d}",
            seconds=60,
            ticket=f"OR-FU-{i:04d}",
        )
        for i in range(251)
    ]
    long_call = orange_line(
        "0612100005", paris(2026, 12, 2, 9, 0), to="33610000000", seconds=7500, ticket="OR-FU-LONG"
    )
    ingest_bytes(name=orange_name(), data=orange_file(*calls[:200]))
    ingest_bytes(name=orange_name(), data=orange_file(*calls[200:], long_call))
    oop = dict(Cdr.objects.filter(contract_id=c.pk).values_list("record_id", "oop_quantity"))
    assert oop["OR-FU-0249"] == 0  # the 250th distinct number
    assert oop["OR-FU-0250"] == 60  # the 251st: metered (R-CAT-11)
    assert oop["OR-FU-LONG"] == 300  # a known number, the part beyond 2 h metered
    voice = UsageCounter.objects.get(contract=c, metric="voice", zone="")
    assert voice.oop_quantity == 360 and voice.amount_ht == Decimal("0.7200")


@time_machine.travel(NOW, tick=False)
def test_R_CAT_11_orange_more_than_500_sms_in_an_hour_bars_sms(line):
    from contracts.models import DataBlock, OperatorRequest

    c = line("OR-ILL-10G-NB", msisdn="0612100006")
    sms = [
        orange_line("0612100006", paris(2026, 12, 15, 10, i // 60, i % 60), "SMS", to="33612999001")
        for i in range(501)
    ]
    ingest_bytes(name=orange_name(), data=orange_file(*sms[:300]))
    assert not DataBlock.objects.filter(contract=c, scope="sms").exists()
    ingest_bytes(name=orange_name(), data=orange_file(*sms[300:]))
    assert DataBlock.objects.filter(contract=c, scope="sms", lifted_at__isnull=True).count() == 1
    assert OperatorRequest.objects.filter(contract=c, kind="bar_sms").count() == 1


@time_machine.travel(NOW, tick=False)
def test_R_CAT_4_travel_usa_voice_allowance_then_metered(line):
    c = line("OR-TRV-20G", msisdn="0612100007")  # 1 h of calls in the USA/Canada zone
    calls = [
        orange_line(
            "0612100007",
            paris(2026, 12, 10, 9, i),
            where="USA",
            to="12125550100",
            to_country="USA",
            seconds=1500,
            ticket=f"OR-TRV-{i}",
        )
        for i in range(3)
    ]
    ingest_bytes(name=orange_name(), data=orange_file(*calls[:1]))
    ingest_bytes(name=orange_name(), data=orange_file(*calls[1:]))
    oop = dict(Cdr.objects.filter(contract_id=c.pk).values_list("record_id", "oop_quantity"))
    assert oop == {"OR-TRV-0": 0, "OR-TRV-1": 0, "OR-TRV-2": 900}  # 4,500 s against 3,600 s


@time_machine.travel(NOW, tick=False)
def test_R_CAT_8_compteur_data_500_mo_included_then_out_of_plan(line):
    c = line("OR-CPTD", msisdn="0612100008")
    ingest_bytes(
        name=orange_name(),
        data=orange_file(
            orange_line("0612100008", paris(2026, 12, 10, 9, 0), "DATA", ko=400_000),
            orange_line("0612100008", paris(2026, 12, 10, 10, 0), "DATA", ko=300_000),
        ),
    )
    data = UsageCounter.objects.get(contract=c, metric="data")
    assert (data.quantity, data.oop_quantity, data.unpriced_quantity) == (700 * MB, 200 * MB, 200 * MB)


@time_machine.travel(NOW, tick=False)
def test_R_CAT_7_compteur_priced_per_unit(line):
    c = line("BY-CPT", msisdn="0660100009")
    rate("cpt_voice", "0.0600", "bouygues")
    rate("cpt_data", "0.0100", "bouygues")
    at = paris(2026, 12, 10, 9, 0)
    ingest_bytes(
        name=bouygues_name(),
        data=bouygues_file(
            bouygues_line("0660100009", at, "VOICE", units=120, record="71"),
            bouygues_line("0660100009", at, "GPRS", units=50 * MB, record="72"),
            bouygues_line("0660100009", at, "SMS", record="73"),
        ),
    )
    amounts = dict(Cdr.objects.filter(contract_id=c.pk).values_list("service", "amount_ht"))
    assert amounts == {"voice": Decimal("0.1200"), "data": Decimal("0.5000"), "sms": None}
    assert Cdr.objects.get(contract_id=c.pk, service="sms").unpriced


def test_rating_matrix_covers_every_profile_offer_of_the_catalog(catalog):
    profiles = {rules.Profile(o.network, o.range) for o in Offer.objects.all()}
    rows = rules.rating_matrix(profiles)
    keys = {(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows}
    assert len(keys) == len(rows)  # one rating per case


def test_R_OPT_5_travel_voice_sms_data_option_includes_calls_and_sms_in_its_zone():
    p = rules.Profile("orange", "travel", rules.NONE, rules.VSD, rules.CUTOFF)
    call = rules.classify(
        p, service="voice", direction="out", usage_zone="maghreb_turquie", dest_zone="france"
    )
    assert (call.metered, call.allowance, call.zone) == (False, "vsd_voice", "maghreb_turquie")
    sms = rules.classify(p, service="sms", direction="out", usage_zone="maghreb_turquie", dest_zone="france")
    assert (sms.metered, sms.allowance) == (False, "vsd_sms")
    assert rules.classify(
        p, service="mms", direction="out", usage_zone="maghreb_turquie", dest_zone="france"
    ).metered
    assert not rules.classify(p, service="data", direction="out", usage_zone="maghreb_turquie").metered
    # the other zone has a cut-off: calls metered (R-ROA-1), data metered (R-ROA-3)
    assert rules.classify(
        p, service="voice", direction="out", usage_zone="reste_du_monde", dest_zone="france"
    ).metered
    assert rules.classify(p, service="data", direction="out", usage_zone="reste_du_monde").metered


@time_machine.travel(NOW, tick=False)
def test_R_OPT_5_sql_voice_sms_data_option_allowance_then_metered(line):
    c = line(
        "OR-TRV-20G",
        msisdn="0612100010",
        roaming={"maghreb_turquie": "OR-ROA-TRV-MT-VSD-1G", "reste_du_monde": "OR-ROA-TRV-RDM-VSD-1G"},
    )
    calls = [
        orange_line(
            "0612100010",
            paris(2026, 12, 10, 9, i),
            where="MAR",
            to="33612999001",
            seconds=1500,
            ticket=f"OR-VSD-{i}",
        )
        for i in range(3)
    ]
    elsewhere = orange_line(
        "0612100010",
        paris(2026, 12, 10, 10, 0),
        where="JPN",
        to="33612999001",
        seconds=1500,
        ticket="OR-VSD-JPN",
    )
    sms = [
        orange_line(
            "0612100010",
            paris(2026, 12, 11, 9, i),
            "SMS",
            where="MAR",
            to="33612999002",
            ticket=f"OR-VSD-SMS-{i}",
        )
        for i in range(51)
    ]
    ingest_bytes(name=orange_name(), data=orange_file(*calls[:2], elsewhere, *sms[:30]))
    ingest_bytes(name=orange_name(), data=orange_file(calls[2], *sms[30:]))
    oop = dict(Cdr.objects.filter(contract_id=c.pk).values_list("record_id", "oop_quantity"))
    assert [oop[f"OR-VSD-{i}"] for i in range(3)] == [0, 0, 900]  # 4,500 s against 1 h in Maghreb/Turquie
    assert oop["OR-VSD-JPN"] == 0  # the other zone's option has its own hour
    assert sum(oop[f"OR-VSD-SMS-{i}"] for i in range(51)) == 1  # the 51st SMS
