"""Operator CDR feeds (issue 7): the formats of usage/FORMATS.md, the traffic generator, ``simulate_traffic`` and
the demo month (provisioning/simulators/cdr_feeds/, provisioning/demo_traffic.py)."""

from __future__ import annotations

import collections
import hashlib
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contracts.models import Contract
from core.networks import Network
from provisioning.simulators import cdr_feeds as feeds
from provisioning.simulators.cdr_feeds import (
    BAD_KINDS,
    BOUYGUES_HEADER,
    GB,
    MB,
    ORANGE_HEADER,
    TrafficEvent,
    TrafficLine,
    generate_traffic,
    write_bouygues_file,
    write_feeds,
    write_orange_file,
)
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory, OrderFactory, offer
from tests.factories.inventory import make_m2m_number
from tests.factories.partners import ClientAccountFactory, PartnerFactory

from .conftest import paris

NOW = paris(2026, 12, 15, 10)  # Tuesday 15 December 2026, 10:00 Paris
DECEMBER = (date(2026, 12, 1), date(2026, 12, 16))


# --- helpers ------------------------------------------------------------------------------------------------


def read(path: Path, *, strict: bool = True) -> list[dict[str, str]]:
    """The records of an operator file, by column name. ``strict``: every line is UTF-8 and has the header's
    width; otherwise such lines (faulty records) are left out."""
    sep = ";" if path.name.startswith("ORANGE_") else "|"
    raw = path.read_bytes().split(b"\n")
    assert raw[-1] == b"", "the file ends with a line end"
    header = raw[0].decode().split(sep)
    rows = []
    for line_ in raw[1:-1]:
        try:
            row = line_.decode("utf-8").split(sep)
        except UnicodeDecodeError:
            assert not strict
            continue
        if len(row) != len(header):
            assert not strict
            continue
        rows.append(dict(zip(header, row, strict=True)))
    return rows


def records(paths, *, strict: bool = True) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {"orange": [], "bouygues": []}
    for path in paths:
        out["orange" if path.name.startswith("ORANGE_") else "bouygues"].extend(read(path, strict=strict))
    return out


def line(key, network=Network.ORANGE, range_="illimite", data=10 * GB, msisdn=None, **kw) -> TrafficLine:
    msisdn = msisdn or (f"0700{key:010d}" if range_ in ("data_only", "m2m") and network == "orange" else None)
    return TrafficLine(
        key=key,
        network=network,
        msisdn=msisdn or f"06{12000000 + key:08d}",
        range=range_,
        data_bytes=data,
        live_from=kw.pop("live_from", paris(2026, 11, 1)),
        number=f"CTR-TEST-{key}",
        **kw,
    )


def events_of(lines, *, seed=1, start=DECEMBER[0], end=DECEMBER[1], now=NOW, **kw) -> list[TrafficEvent]:
    return list(generate_traffic(lines, start, end, seed=seed, now=now, **kw))


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


AT = datetime(2026, 12, 1, 14, 3, 22, tzinfo=UTC)  # 15:03:22 in Paris (winter, UTC+1)


def sample_events(network: str) -> list[TrafficEvent]:
    ev = TrafficEvent
    msisdn = "0612345678"
    return [
        ev(network, msisdn, AT, "voice", "out", "FRA", "0698765432", "FRA", 125, record_id="R1"),
        ev(
            network,
            msisdn,
            AT + timedelta(seconds=1),
            "voice",
            "out",
            "FRA",
            "0899123456",
            "FRA",
            180,
            0,
            True,
            Decimal("2.40"),
            record_id="R2",
        ),  # fmt: skip
        ev(
            network,
            msisdn,
            AT + timedelta(seconds=2),
            "voice",
            "out",
            "FRA",
            "0810123456",
            "FRA",
            60,
            0,
            True,
            Decimal("0.00"),
            record_id="R3",
        ),  # fmt: skip
        ev(
            network,
            msisdn,
            AT + timedelta(seconds=3),
            "sms",
            "in",
            "ESP",
            "+34612345678",
            "ESP",
            record_id="R4",
        ),
        ev(
            network,
            msisdn,
            AT + timedelta(seconds=4),
            "mms",
            "out",
            "USA",
            "+12125550123",
            "USA",
            record_id="R5",
        ),
        ev(
            network,
            msisdn,
            AT + timedelta(seconds=5),
            "data",
            "out",
            "MAR",
            volume_bytes=1_234_000,
            record_id="R6",
        ),
        ev(
            network,
            "07001234567890" if network == "orange" else "0758100001",
            AT + timedelta(seconds=6),
            "data",
            "out",
            "FRA",
            volume_bytes=1_234_567,
        ),  # fmt: skip
    ]


# --- formats ------------------------------------------------------------------------------------------------


def test_orange_file_is_exactly_the_documented_format(tmp_path):
    path = write_orange_file(sample_events("orange"), AT, tmp_path)

    assert path.name == "ORANGE_CDR_2026120115.csv"  # the hour in Europe/Paris
    assert path.read_bytes().decode("utf-8").split("\n") == [
        ORANGE_HEADER,
        "R1;33612345678;2026-12-01 15:03:22;VOIX;S;FRA;33698765432;FRA;125;;0;0,00",
        "R2;33612345678;2026-12-01 15:03:23;VOIX;S;FRA;33899123456;FRA;180;;1;2,40",
        "R3;33612345678;2026-12-01 15:03:24;VOIX;S;FRA;33810123456;FRA;60;;1;0,00",
        "R4;33612345678;2026-12-01 15:03:25;SMS;E;ESP;34612345678;ESP;;;0;0,00",
        "R5;33612345678;2026-12-01 15:03:26;MMS;S;USA;12125550123;USA;;;0;0,00",
        "R6;33612345678;2026-12-01 15:03:27;DATA;S;MAR;;;;1234;0;0,00",
        # no record id given: the writer numbers the record; kilobytes rounded up; 15-digit line (ID-MSISDN)
        "OR-2026120115-00000007;337001234567890;2026-12-01 15:03:28;DATA;S;FRA;;;;1235;0;0,00",
        "",
    ]
    assert ORANGE_HEADER.split(";") == [
        "ID_TICKET", "MSISDN", "DATE_HEURE", "TYPE", "SENS", "PAYS_ORIGINE", "NUMERO_CORRESPONDANT",
        "PAYS_DESTINATION", "DUREE_S", "VOLUME_KO", "SVA", "SVA_MONTANT_HT",
    ]  # fmt: skip


def test_bouygues_file_is_exactly_the_documented_format(tmp_path):
    path = write_bouygues_file(sample_events("bouygues"), AT, tmp_path)

    assert path.name == "BYT_20261201_14_CDR.txt"  # the hour in UTC
    assert path.read_bytes().decode("utf-8").split("\n") == [
        BOUYGUES_HEADER,
        "R1|2026-12-01T14:03:22Z|0612345678|VOICE|MO|208|0698765432|208|125|SEC||",
        "R2|2026-12-01T14:03:23Z|0612345678|VOICE|MO|208|0899123456|208|180|SEC|SVA_PAID|2.40",
        "R3|2026-12-01T14:03:24Z|0612345678|VOICE|MO|208|0810123456|208|60|SEC|SVA_FREE|0.00",
        "R4|2026-12-01T14:03:25Z|0612345678|SMS|MT|214|+34612345678|214|1|EVT||",
        "R5|2026-12-01T14:03:26Z|0612345678|MMS|MO|310|+12125550123|310|1|EVT||",
        "R6|2026-12-01T14:03:27Z|0612345678|GPRS|MO|604|||1234000|BYTE||",
        "20261201140000000007|2026-12-01T14:03:28Z|0758100001|GPRS|MO|208|||1234567|BYTE||",
        "",
    ]
    assert BOUYGUES_HEADER.split("|") == [
        "record_id", "event_time_utc", "subscriber", "service", "direction", "mcc_visited", "other_party",
        "mcc_other", "units", "unit_type", "premium_class", "premium_fee_eur",
    ]  # fmt: skip


def test_a_file_holds_only_its_own_hour(tmp_path):
    late = TrafficEvent(
        "orange", "0612345678", AT + timedelta(hours=1), "sms", "out", "FRA", "0698765432", "FRA"
    )

    with pytest.raises(ValueError, match="n'est pas de ORANGE_CDR_2026120115.csv"):
        write_orange_file([late], AT, tmp_path)

    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


@pytest.mark.parametrize(
    ("utc", "orange_name", "orange_time", "bouygues_name"),
    [
        # spring forward, Sunday 29 March 2026: 02:00 Paris does not exist
        ((2026, 3, 29, 0, 30), "ORANGE_CDR_2026032901.csv", "2026-03-29 01:30:00", "BYT_20260329_00_CDR.txt"),
        ((2026, 3, 29, 1, 30), "ORANGE_CDR_2026032903.csv", "2026-03-29 03:30:00", "BYT_20260329_01_CDR.txt"),
        # fall back, Sunday 25 October 2026: 02:00–03:00 Paris happens twice, one Orange file of that hour
        (
            (2026, 10, 25, 0, 30),
            "ORANGE_CDR_2026102502.csv",
            "2026-10-25 02:30:00",
            "BYT_20261025_00_CDR.txt",
        ),
        (
            (2026, 10, 25, 1, 30),
            "ORANGE_CDR_2026102502.csv",
            "2026-10-25 02:30:00",
            "BYT_20261025_01_CDR.txt",
        ),
        # summer: Paris is UTC+2
        (
            (2026, 7, 14, 23, 59),
            "ORANGE_CDR_2026071501.csv",
            "2026-07-15 01:59:00",
            "BYT_20260714_23_CDR.txt",
        ),
    ],
)
def test_files_per_hour_across_dst_changes(tmp_path, utc, orange_name, orange_time, bouygues_name):
    at = datetime(*utc, tzinfo=UTC)
    evs = [
        TrafficEvent(net, "0612345678", at, "sms", "out", "FRA", "0698765432", "FRA")
        for net in feeds.NETWORKS
    ]

    written = write_feeds(evs, tmp_path, now=NOW)

    assert sorted(p.name for p in written) == sorted([orange_name, bouygues_name])
    assert read(tmp_path / orange_name)[0]["DATE_HEURE"] == orange_time
    assert read(tmp_path / bouygues_name)[0]["event_time_utc"] == at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_fall_back_night_puts_both_utc_hours_in_one_orange_file_with_distinct_ids(tmp_path):
    lines = [line(k, live_from=paris(2026, 10, 1)) for k in range(1, 121)]
    evs = events_of(lines, start=date(2026, 10, 25), end=date(2026, 10, 26), now=paris(2026, 11, 1))

    written = write_feeds(evs, tmp_path, now=NOW)

    night = read(tmp_path / "ORANGE_CDR_2026102502.csv")
    in_hour = collections.Counter(
        e.event_at.hour for e in evs if datetime(2026, 10, 25, 0, tzinfo=UTC) <= e.event_at < datetime(2026, 10, 25, 2, tzinfo=UTC)
    )  # fmt: skip
    assert in_hour[0] and in_hour[1] and len(night) == in_hour[0] + in_hour[1]  # CEST then CET, one file
    ids = [r["ID_TICKET"] for r in records(written)["orange"]]
    assert len(ids) == len(set(ids)) == len(evs)


def test_one_file_per_hour_per_network_and_atomic_publication(tmp_path):
    lines = [line(1), line(2, network=Network.BOUYGUES)]
    evs = events_of(lines, start=date(2026, 12, 14), end=date(2026, 12, 15))

    written = write_feeds(iter(evs), tmp_path, now=NOW)

    hours = {(e.network, feeds.file_name(e.network, e.event_at)) for e in evs}
    assert sorted(p.name for p in written) == sorted(name for _, name in hours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(name for _, name in hours)  # no .part left
    assert written.records == len(evs) == sum(len(read(p)) for p in written)
    for path in written:
        rows = read(path)
        expected = path.name
        for row in rows:
            when = row.get("DATE_HEURE") or row["event_time_utc"]
            if path.name.startswith("ORANGE_"):
                assert expected == f"ORANGE_CDR_{when[:4]}{when[5:7]}{when[8:10]}{when[11:13]}.csv"
            else:
                assert expected == f"BYT_{when[:4]}{when[5:7]}{when[8:10]}_{when[11:13]}_CDR.txt"


def test_a_failure_while_writing_leaves_no_file(tmp_path):
    def broken():
        yield from events_of([line(1)], start=date(2026, 12, 14), end=date(2026, 12, 15))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_feeds(broken(), tmp_path, now=NOW)

    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_country_tables_cover_the_platform_zones():
    assert set(feeds.COUNTRY_ZONE.values()) == set(feeds.ZONES)
    assert feeds.MCC["FRA"] == "208" and feeds.MCC["ESP"] == "214" and feeds.MCC["USA"] == "310"
    assert feeds.MCC["GLP"] == feeds.MCC["MTQ"] == "340" and feeds.MCC["GUF"] == "742"
    assert feeds.COUNTRY_ZONE["CHE"] == feeds.COUNTRY_ZONE["GBR"] == "reste_du_monde"
    assert feeds.ALPHA3[feeds.ALPHA2["MAR"]] == "MAR"


# --- generator ------------------------------------------------------------------------------------------------


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    lines = [line(1), line(2, network=Network.BOUYGUES), line(3, range_="data_only", data=50 * GB)]
    for folder, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_feeds(generate_traffic(lines, *DECEMBER, seed=seed, now=NOW), tmp_path / folder, now=NOW)

    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")
    assert checksums(tmp_path / "a") != checksums(tmp_path / "c")


def test_a_line_has_the_same_traffic_whatever_the_other_lines_and_the_period():
    a, b = line(1), line(2, network=Network.BOUYGUES)

    alone = events_of([a], start=date(2026, 12, 10), end=date(2026, 12, 12))
    together = [e for e in events_of([b, a]) if e.msisdn == a.msisdn]

    assert alone and alone == [e for e in together if date(2026, 12, 10) <= e.event_at.astimezone(feeds.PARIS).date() < date(2026, 12, 12)]  # fmt: skip


def test_record_ids_are_unique_and_in_the_operator_forms():
    lines = [line(k, network=(Network.ORANGE, Network.BOUYGUES)[k % 2]) for k in range(1, 9)]

    evs = events_of(lines)

    by_network = collections.defaultdict(list)
    for e in evs:
        by_network[e.network].append(e.record_id)
        hour = e.event_at.astimezone(feeds.PARIS if e.network == "orange" else UTC).strftime("%Y%m%d%H")
        if e.network == "orange":
            assert re.fullmatch(rf"OR-{hour}-\d{{8}}", e.record_id) and len(e.record_id) <= 40
        else:
            assert re.fullmatch(rf"{hour}\d{{10}}", e.record_id)  # 20 digits
    assert all(len(ids) == len(set(ids)) for ids in by_network.values())


def test_traffic_is_realistic_and_daytime_weighted():
    evs = events_of([line(k) for k in range(1, 21)])

    services = collections.Counter(e.service for e in evs)
    assert set(services) == {"voice", "sms", "mms", "data"}
    night = sum(1 for e in evs if e.event_at.astimezone(feeds.PARIS).hour < 6)
    assert night < 0.05 * len(evs)
    calls = [e for e in evs if e.service == "voice"]
    assert {e.direction for e in calls} == {"out", "in"}
    assert all(3 <= e.duration_s <= 7200 for e in calls)  # R-CAT-11: 2 h at most per call
    assert any(e.premium for e in calls)
    zone1 = [e for e in calls if feeds.COUNTRY_ZONE.get(e.other_country) == "zone1"]
    assert zone1 and all(e.other_party.startswith("+") for e in zone1)
    assert all(e.other_party[:2] in ("06", "07") for e in evs if e.other_country == "FRA" and not e.premium)


def test_trips_abroad_in_every_zone():
    travellers = feeds.TrafficProfile("travellers", europe_trip=1.0, world_trip=1.0)
    evs = events_of([line(k) for k in range(1, 31)], start=date(2026, 11, 1), end=date(2026, 12, 1), profile=travellers)  # fmt: skip

    assert {feeds.COUNTRY_ZONE[e.country] for e in evs} == set(feeds.ZONES)
    assert {feeds.COUNTRY_ZONE[e.country] for e in evs if e.service == "data"} == set(feeds.ZONES)
    local = [e for e in evs if e.country != "FRA" and e.service == "voice" and e.other_country == e.country]
    assert local and all(e.other_party.startswith("+") for e in local)


def test_standard_profile_has_some_trips_and_the_demo_profile_none():
    lines = [line(k) for k in range(1, 81)]

    assert {e.country for e in events_of(lines, start=date(2026, 11, 1), end=date(2026, 12, 1))} - {"FRA"}
    demo = events_of(lines, start=date(2026, 11, 1), end=date(2026, 12, 1), profile="demo")
    assert {e.country for e in demo} == {"FRA"}
    assert not [
        e for e in demo if e.other_country and feeds.COUNTRY_ZONE[e.other_country] not in ("france", "zone1")
    ]


def test_no_record_before_delivery_after_termination_or_in_the_future():
    delivered, terminated = paris(2026, 12, 3, 11, 17, 5), paris(2026, 12, 9, 16, 40)
    suspended = ContractLike(4, "suspended", paris(2026, 12, 6, 12))
    lines = [
        line(1, live_from=delivered, live_until=terminated),
        line(2, live_from=paris(2026, 12, 14, 23, 59)),
        line(3, live_from=paris(2027, 1, 1)),  # delivered after now: nothing
        TrafficLine.of(suspended),
    ]

    evs = events_of(lines, end=date(2027, 1, 31))

    first = [e for e in evs if e.msisdn == lines[0].msisdn]
    assert (
        first and min(e.event_at for e in first) >= delivered and max(e.event_at for e in first) < terminated
    )
    assert all(e.event_at >= lines[1].live_from for e in evs if e.msisdn == lines[1].msisdn)
    assert not [e for e in evs if e.msisdn == lines[2].msisdn]
    assert all(e.event_at < suspended.state_changed_at for e in evs if e.msisdn == suspended.msisdn)
    assert max(e.event_at for e in evs) < NOW


class _Offer:
    range = "illimite"
    data_bytes = 5 * GB


class ContractLike:
    """A suspended contract, as ``TrafficLine.of`` reads one."""

    def __init__(self, pk, state, changed):
        self.pk, self.state, self.state_changed_at = pk, state, changed
        self.number, self.network, self.msisdn = f"CTR-{pk}", "orange", f"0612{pk:06d}"
        self.offer, self.delivered_at, self.terminated_at, self.allow_sva = (
            _Offer(),
            paris(2026, 11, 2),
            None,
            True,
        )


@pytest.mark.parametrize(
    ("range_", "data", "services"),
    [
        ("data_only", 50 * GB, {"data"}),  # R-CAT-5
        ("m2m", 100 * MB, {"data"}),  # R-CAT-6
        ("compteur_data", 500 * MB, {"data"}),  # R-CAT-8
        ("illimite", None, {"voice", "sms", "mms"}),  # R-CAT-3 « sans data »
        ("illimite", 30 * GB, {"voice", "sms", "mms", "data"}),
        ("travel", 50 * GB, {"voice", "sms", "mms", "data"}),
        ("compteur", None, {"voice", "sms", "mms", "data"}),  # R-CAT-7
    ],
)
def test_R_CAT_only_the_services_the_offer_allows(range_, data, services):
    lines = [line(k, range_=range_, data=data) for k in range(1, 9)]

    evs = events_of(lines, start=date(2026, 11, 1), end=date(2026, 12, 1))

    assert {e.service for e in evs} == services
    if range_ in ("data_only", "m2m", "compteur_data", "compteur"):  # no roaming (R-CAT-5/6/8)
        assert {e.country for e in evs} == {"FRA"}


def test_no_premium_call_on_a_line_without_sva():
    evs = events_of([line(k, allow_sva=False) for k in range(1, 9)], start=date(2026, 11, 1))

    assert not [e for e in evs if e.premium]


def test_data_share_reaches_that_share_of_the_envelope_each_month():
    lines = [line(1, data=10 * GB), line(2, network=Network.BOUYGUES, data=30 * GB)]

    evs = events_of(lines, start=date(2026, 11, 1), data_share={1: 0.85, "CTR-TEST-2": 1.05})

    def month_total(msisdn, month):
        return sum(e.volume_bytes for e in evs if e.msisdn == msisdn and e.event_at.astimezone(feeds.PARIS).month == month)  # fmt: skip

    assert month_total(lines[0].msisdn, 11) == month_total(lines[0].msisdn, 12) == 8_500_000_000
    assert month_total(lines[1].msisdn, 11) == month_total(lines[1].msisdn, 12) == 31_500_000_000
    assert all(
        e.volume_bytes % 1000 == 0 for e in evs if e.network == "orange"
    )  # whole kilobytes in the file


def test_data_share_in_the_files_kilobytes_and_bytes(tmp_path):
    lines = [line(1, data=10 * GB), line(2, network=Network.BOUYGUES, data=30 * GB)]

    written = write_feeds(generate_traffic(lines, *DECEMBER, seed=1, now=NOW, data_share={1: 0.85, 2: 0.85}), tmp_path, now=NOW)  # fmt: skip

    got = records(written)
    assert sum(int(r["VOLUME_KO"]) for r in got["orange"] if r["TYPE"] == "DATA") * 1000 == 8_500_000_000
    assert sum(int(r["units"]) for r in got["bouygues"] if r["unit_type"] == "BYTE") == 25_500_000_000


def test_roaming_data_in_a_zone(tmp_path):
    lines = [line(1), line(2, network=Network.BOUYGUES)]

    written = write_feeds(
        generate_traffic(lines, *DECEMBER, seed=1, now=NOW, roaming={1: ("maghreb_turquie", 550 * MB), 2: ("usa_canada", GB)}),
        tmp_path,
        now=NOW,
    )  # fmt: skip

    got = records(written)
    morocco = [r for r in got["orange"] if r["TYPE"] == "DATA" and r["PAYS_ORIGINE"] == "MAR"]
    assert sum(int(r["VOLUME_KO"]) for r in morocco) == 550_000
    usa = [r for r in got["bouygues"] if r["service"] == "GPRS" and r["mcc_visited"] == "310"]
    assert sum(int(r["units"]) for r in usa) == GB
    trip_days = {r["DATE_HEURE"][:10] for r in got["orange"] if r["PAYS_ORIGINE"] == "MAR"}
    assert trip_days == {f"2026-12-{d:02d}" for d in range(11, 16)}  # the last 5 days, up to now
    abroad_calls = [r for r in got["orange"] if r["PAYS_ORIGINE"] == "MAR" and r["TYPE"] == "VOIX"]
    assert abroad_calls  # calls while abroad too


@pytest.mark.parametrize("range_", ["data_only", "m2m", "compteur_data", "compteur"])
def test_R_CAT_no_roaming_on_offers_without_it(range_):
    with pytest.raises(ValueError, match="n'a pas d'itinérance"):
        events_of([line(1, range_=range_)], roaming={1: ("usa_canada", GB)})


def test_international_calls_out_of_plan():
    evs = events_of([line(1, network=Network.BOUYGUES)], international={1: 6})

    intl = [e for e in evs if e.service == "voice" and e.country == "FRA" and e.other_country not in ("FRA", *feeds.ZONE1_DESTINATIONS)]  # fmt: skip
    assert len(intl) >= 6
    assert {feeds.COUNTRY_ZONE[e.other_country] for e in intl} - {"zone1"}


def test_merge_keeps_a_file_already_there_and_adds_what_it_lacks(tmp_path):
    first = [
        TrafficEvent("orange", "0612345678", AT, "sms", "out", "FRA", "0698765432", "FRA", record_id="A")
    ]
    second = [
        TrafficEvent("orange", "0612345678", AT, "sms", "in", "FRA", "0698765432", "FRA", record_id="B")
    ]
    write_feeds(first, tmp_path, now=NOW)
    before = checksums(tmp_path)

    write_feeds(first, tmp_path, now=NOW)  # a re-run of the same: the file is left as it is
    assert checksums(tmp_path) == before

    write_feeds(second, tmp_path, now=NOW)
    assert [r["ID_TICKET"] for r in read(tmp_path / "ORANGE_CDR_2026120115.csv")] == ["A", "B"]

    write_feeds(second, tmp_path, merge=False, now=NOW)
    assert [r["ID_TICKET"] for r in read(tmp_path / "ORANGE_CDR_2026120115.csv")] == ["B"]


@pytest.mark.parametrize("network", feeds.NETWORKS)
def test_bad_lines_one_of_each_kind(tmp_path, network):
    lines = [line(1, network=network)]
    evs = events_of(lines, start=date(2026, 12, 14), end=date(2026, 12, 15))

    written = write_feeds(evs, tmp_path, bad_lines=len(BAD_KINDS), now=NOW)

    assert written.bad == 6 and written.records == len(evs)
    sep = b";" if network == "orange" else b"|"
    header = (ORANGE_HEADER if network == "orange" else BOUYGUES_HEADER).encode()
    raw = [ln for p in written for ln in p.read_bytes().split(b"\n")[1:] if ln]
    assert all(p.read_bytes().startswith(header + b"\n") for p in written)
    good_ids = {e.record_id.encode() for e in evs}
    bad = [ln for ln in raw if ln.split(sep, 1)[0] not in good_ids]
    assert len(bad) == 6 and len(raw) == len(evs) + 6
    width = header.count(sep) + 1
    kinds = collections.Counter()
    for ln in bad:
        try:
            text = ln.decode("utf-8")
        except UnicodeDecodeError:
            kinds["encoding"] += 1
            continue
        fields = text.split(sep.decode())
        if len(fields) < width:
            kinds["truncated"] += 1
        elif len(fields) > width:
            kinds["extra_column"] += 1
        elif fields[1] in ("33639999999", "0639999999") or fields[2] == "0639999999":
            kinds["unknown_number"] += 1
        elif any(f.startswith("-") for f in fields):
            kinds["negative"] += 1
        else:
            when = fields[2] if network == "orange" else fields[1]
            parsed = (
                datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=feeds.PARIS)
                if network == "orange"
                else datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            )
            assert parsed > NOW + timedelta(days=1)
            kinds["future"] += 1
    assert kinds == dict.fromkeys(BAD_KINDS, 1)
    ids = [ln.split(sep, 1)[0] for ln in raw]
    assert len(ids) == len(set(ids))  # faulty records have ids of their own


def test_bad_lines_by_kind_on_one_file(tmp_path):
    path = write_orange_file(sample_events("orange")[:1], AT, tmp_path, bad_lines=["negative", "future"])

    rows = path.read_text(encoding="utf-8").split("\n")[1:-1]
    assert len(rows) == 3 and rows[1].endswith(";DATA;S;FRA;;;;-1500;0;0,00")
    with pytest.raises(ValueError, match="inconnu"):
        write_orange_file([], AT, tmp_path, bad_lines=["nope"])


# --- command and demo (database) -------------------------------------------------------------------------------


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def catalog(db):
    return load_test_catalog()


@pytest.fixture
def drop_dir(settings, tmp_path):
    settings.CDR_DROP_DIR = tmp_path / "cdr"
    settings.PROVISIONING_WAKE_ON_ORDER = False
    return settings.CDR_DROP_DIR


def active(partner, code, **kw) -> Contract:
    client = ClientAccountFactory(partner=partner)
    order = OrderFactory(client=client, offer=offer(code))
    kw.setdefault("state", Contract.State.ACTIVE)
    kw.setdefault("delivered_at", paris(2026, 11, 20))
    return ContractFactory(order=order, **kw)


def test_simulate_traffic_command_end_to_end(catalog, drop_dir, frozen):
    partner = PartnerFactory(slug="acme")
    a = active(partner, "OR-ILL-10G-B")
    b = active(partner, "BY-ILL-30G-NB", msisdn="0660100007")
    c = active(partner, "OR-DATA-50G-B", msisdn=make_m2m_number(42))
    active(partner, "OR-ILL-5G-NB", state=Contract.State.PENDING, delivered_at=None)  # no traffic yet
    active(PartnerFactory(slug="other"), "OR-ILL-5G-NB")  # another partner's line: not chosen
    out = io.StringIO()

    call_command(
        "simulate_traffic", "--partner", "acme", "--from", "2026-12-01", "--to", "2026-12-31", "--seed", "3",
        "--data-share", f"{a.number}=0.85", "--roaming", f"{b.number}=usa_canada:1G",
        "--international", f"{b.number}=4", "--bad", "2", stdout=out,
    )  # fmt: skip

    text = out.getvalue()
    assert "3 ligne(s)" in text and "enregistrement(s)" in text and "2 ligne(s) invalide(s)" in text
    got = records((p for p in drop_dir.iterdir() if not p.name.startswith(".")), strict=False)
    msisdns = {r["MSISDN"] for r in got["orange"]} | {r["subscriber"] for r in got["bouygues"]}
    assert msisdns == {"33" + a.msisdn[1:], "0660100007", "33" + c.msisdn[1:]}
    a_data = [r for r in got["orange"] if r["MSISDN"] == "33" + a.msisdn[1:] and r["TYPE"] == "DATA"]
    assert sum(int(r["VOLUME_KO"]) for r in a_data) == 8_500_000  # 85 % of 10 Go, 1–15 December
    usa = [r for r in got["bouygues"] if r["mcc_visited"] == "310" and r["service"] == "GPRS"]
    assert sum(int(r["units"]) for r in usa) == GB
    assert all(r["TYPE"] == "DATA" for r in got["orange"] if r["MSISDN"] == "33" + c.msisdn[1:])
    assert max(r["DATE_HEURE"] for r in got["orange"]) < "2026-12-15 10:00:00"  # never in the future
    before = checksums(drop_dir)

    call_command(
        "simulate_traffic", "--partner", "acme", "--from", "2026-12-01", "--to", "2026-12-31", "--seed", "3",
        "--data-share", f"{a.number}=0.85", "--roaming", f"{b.number}=usa_canada:1G",
        "--international", f"{b.number}=4", "--bad", "2", stdout=io.StringIO(),
    )  # fmt: skip
    assert checksums(drop_dir) == before  # same options, same seed: the same records (a re-delivery)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-12-01", "--to", "2026-12-02"], "Choisissez les lignes"),
        (["--all", "--from", "2026-12-01"], "--from et --to"),
        (["--all", "--from", "2026-12-05", "--to", "2026-12-01"], "précède"),
        (["--all", "--from", "2027-01-01", "--to", "2027-01-02"], "futur"),
        (["--contract", "CTR-NOPE", "--from", "2026-12-01", "--to", "2026-12-02"], "CTR-NOPE"),
        (
            ["--all", "--from", "2026-12-01", "--to", "2026-12-02", "--roaming", "{data}=usa_canada:1G"],
            "itinérance",
        ),
        (["--all", "--from", "2026-12-01", "--to", "2026-12-02", "--roaming", "{ill}=mars:1G"], "Zone"),
        (
            ["--all", "--from", "2026-12-01", "--to", "2026-12-02", "--roaming", "{ill}=usa_canada:1Q"],
            "Volume",
        ),
        (["--all", "--from", "2026-12-01", "--to", "2026-12-02", "--data-share", "{ill}=beaucoup"], "part"),
    ],
)
def test_simulate_traffic_command_refusals(catalog, drop_dir, frozen, args, message):
    partner = PartnerFactory()
    ill = active(partner, "OR-ILL-10G-B")
    data = active(partner, "OR-DATA-50G-B", msisdn=make_m2m_number(7))
    args = [a.format(ill=ill.number, data=data.number) for a in args]

    with pytest.raises(CommandError, match=message):
        call_command("simulate_traffic", *args, stdout=io.StringIO())


def test_parse_size():
    from provisioning.management.commands.simulate_traffic import parse_size

    assert parse_size("500M") == 500 * MB
    assert parse_size("1,5 Go") == 1_500_000_000
    assert parse_size("2G") == 2 * GB
    assert parse_size("1000") == 1000


def _load_demo_with_live_lines(delivered_at):
    from contracts import demo as contracts_demo
    from inventory import demo as inventory_demo
    from partners import demo as partners_demo

    for module in (partners_demo, inventory_demo, contracts_demo):
        module.load(io.StringIO())
    Contract.objects.filter(partner__slug="telcom-pro").update(
        state=Contract.State.ACTIVE, delivered_at=delivered_at
    )
    for c in Contract.objects.filter(msisdn__isnull=True):  # Orange numbers its Data only lines (R-CAT-5)
        c.msisdn = make_m2m_number(c.pk)
        c.save(update_fields=["msisdn"])


def test_demo_month_gives_the_four_cases_once(catalog, drop_dir, frozen):
    from provisioning.demo_traffic import MARKER, demo_traffic

    out = io.StringIO()
    demo_traffic(out)  # no demo partner yet: nothing
    _load_demo_with_live_lines(paris(2026, 11, 20))

    count = demo_traffic(out)

    text = out.getvalue()
    assert count > 0 and "Trafic de démonstration" in text
    marker = (drop_dir / MARKER).read_text()
    assert all(case in marker for case in ("roaming_cutoff", "blocked_100", "alert_80", "out_of_plan"))
    got = records(p for p in drop_dir.iterdir() if not p.name.startswith("."))
    lines = {c.number: c for c in Contract.objects.filter(partner__slug="telcom-pro").select_related("offer")}
    cases = {case: lines[ref.split("@")[0]] for case, ref in json.loads(marker)["cases"].items()}
    roaming = cases["roaming_cutoff"]
    assert roaming.offer.code == "OR-ILL-10G-B"
    morocco = [r for r in got["orange"] if r["MSISDN"] == "33" + roaming.msisdn[1:] and r["TYPE"] == "DATA" and r["PAYS_ORIGINE"] != "FRA"]  # fmt: skip
    assert sum(int(r["VOLUME_KO"]) for r in morocco) == 550_000  # 110 % of the 500 Mo cut-off
    assert {r["PAYS_ORIGINE"] for r in morocco} == {"MAR"}
    blocked = cases["blocked_100"]
    assert blocked.offer.blocked
    france_europe = [
        r
        for r in got["orange"]
        if r["MSISDN"] == "33" + blocked.msisdn[1:]
        and r["TYPE"] == "DATA"
        and r["DATE_HEURE"] >= "2026-12-01"
    ]
    assert sum(int(r["VOLUME_KO"]) for r in france_europe) == 10_500_000  # 105 % of 10 Go, 1–15 December
    alert = cases["alert_80"]
    assert alert.offer.code == "BY-ILL-30G-NB"
    assert sum(int(r["units"]) for r in got["bouygues"] if r["subscriber"] == alert.msisdn and r["service"] == "GPRS" and r["event_time_utc"] >= "2026-11-30T23") == 25_500_000_000  # fmt: skip
    oop = cases["out_of_plan"]
    rows = got["orange"] if oop.network == "orange" else got["bouygues"]
    if oop.network == "orange":
        intl = [r for r in rows if r["MSISDN"] == "33" + oop.msisdn[1:] and r["TYPE"] == "VOIX" and r["PAYS_DESTINATION"] in feeds.OUT_OF_PLAN_DESTINATIONS]  # fmt: skip
    else:
        intl = [r for r in rows if r["subscriber"] == oop.msisdn and r["service"] == "VOICE" and r["mcc_other"] in {feeds.MCC[c] for c in feeds.OUT_OF_PLAN_DESTINATIONS}]  # fmt: skip
    assert len(intl) >= 6
    # The demo lines are shown delivered 30 days ago, with those 30 days of traffic (the cases in this month).
    assert min(r["DATE_HEURE"] for r in got["orange"]) >= "2026-11-15 00:00:00"
    assert min(r["DATE_HEURE"] for r in got["orange"]) < "2026-11-16 00:00:00"
    assert set(
        Contract.objects.filter(partner__slug="telcom-pro").values_list("delivered_at", flat=True)
    ) == {
        paris(2026, 11, 15, 10, 0)  # NOW − 30 days
    }
    before = checksums(drop_dir)

    again = io.StringIO()
    call_command("simulate_traffic", "--demo", stdout=again)  # idempotent: nothing more
    assert checksums(drop_dir) == before and "déjà généré" in again.getvalue()


def test_demo_month_waits_for_live_lines(catalog, drop_dir, frozen):
    from provisioning.demo_traffic import demo_pending, demo_traffic

    _load_demo_with_live_lines(None)
    Contract.objects.filter(partner__slug="telcom-pro").update(state=Contract.State.PENDING, msisdn=None)
    out = io.StringIO()

    assert demo_traffic(out) == 0
    assert demo_pending() and "aucune ligne active" in out.getvalue()
    assert not drop_dir.exists() or not list(drop_dir.iterdir())
