"""Ingestion of operator files (issue 7, item 2): both formats, exactly once, quarantine, attribution."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from contracts.models import Contract
from core.money import GB, MB
from tests.usage.conftest import (
    bouygues_file,
    bouygues_line,
    bouygues_name,
    orange_file,
    orange_line,
    orange_name,
    paris,
)
from usage.ingestion import ingest_bytes
from usage.models import Cdr, CdrFile, CdrQuarantine, UsageCounter

NOW = paris(2026, 12, 15, 12, 0)


def counter(contract, metric="data", zone=""):
    return UsageCounter.objects.filter(contract=contract, metric=metric, zone=zone).first()


@time_machine.travel(NOW, tick=False)
def test_orange_file_parsed_in_its_units_time_zone_and_number_form(line):
    c = line("OR-ILL-10G-NB", msisdn="0612000001")
    data = orange_file(
        orange_line("0612000001", paris(2026, 12, 15, 9, 30), "VOIX", to="33612999999", seconds=125),
        orange_line("0612000001", paris(2026, 12, 15, 9, 31), "DATA", ko=2500),
        orange_line("0612000001", paris(2026, 12, 15, 9, 32), "SMS", to="33612999998"),
        orange_line("0612000001", paris(2026, 12, 15, 9, 33), "MMS", to="33612999998"),
    )
    report = ingest_bytes(name=orange_name(), data=data)
    assert (report.taken, report.quarantined, report.duplicates) == (4, 0, 0)
    voice = Cdr.objects.get(contract_id=c.pk, service="voice")
    assert voice.event_at == paris(2026, 12, 15, 9, 30)  # Orange writes Europe/Paris local time
    assert voice.quantity == 125 and voice.destination == "0612999999" and voice.oop_quantity == 0
    assert Cdr.objects.get(contract_id=c.pk, service="data").quantity == 2_500_000  # Ko → bytes
    assert counter(c).quantity == 2_500_000
    assert counter(c, "voice").quantity == 125
    assert counter(c, "sms_mms").quantity == 2
    assert CdrFile.objects.get(pk=report.file_id).state == CdrFile.State.DONE


@time_machine.travel(NOW, tick=False)
def test_bouygues_file_parsed_in_utc_bytes_and_mcc(line):
    c = line("BY-ILL-30G-NB", msisdn="0660100001")
    at = dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.UTC)
    data = bouygues_file(
        bouygues_line("0660100001", at, "GPRS", units=3 * MB),
        bouygues_line("0660100001", at, "VOICE", mcc="214", other="+34911234567", mcc_other="214", units=90),
    )
    report = ingest_bytes(name=bouygues_name(), data=data)
    assert report.taken == 2
    data_row = Cdr.objects.get(contract_id=c.pk, service="data")
    assert data_row.event_at == at and data_row.quantity == 3 * MB
    call = Cdr.objects.get(contract_id=c.pk, service="voice")
    assert call.usage_zone == "zone1" and call.dest_zone == "zone1" and call.country == "ESP"
    assert call.oop_quantity == 0  # R-ROA-1: from zone 1 to zone 1, included


@time_machine.travel(NOW, tick=False)
def test_same_file_twice_changes_nothing(line):
    c = line("OR-ILL-10G-NB", msisdn="0612000002")
    data = orange_file(orange_line("0612000002", paris(2026, 12, 15, 9, 0), "DATA", ko=1000))
    first = ingest_bytes(name=orange_name(), data=data)
    second = ingest_bytes(name=orange_name(), data=data)
    assert first.taken == 1 and second.already and second.taken == 0
    assert CdrFile.objects.count() == 1
    assert counter(c).quantity == 1_000_000


@time_machine.travel(NOW, tick=False)
def test_record_redelivered_in_another_file_is_counted_once(line):
    c = line("OR-ILL-10G-NB", msisdn="0612000003")
    record = orange_line("0612000003", paris(2026, 12, 15, 9, 0), "DATA", ko=1000, ticket="OR-X-1")
    ingest_bytes(name=orange_name(), data=orange_file(record))
    other = orange_line("0612000003", paris(2026, 12, 15, 9, 5), "DATA", ko=500)
    report = ingest_bytes(name=orange_name(), data=orange_file(record, other, record))
    assert report.taken == 1 and report.duplicates == 2
    assert counter(c).quantity == 1_500_000
    assert Cdr.objects.filter(contract_id=c.pk).count() == 2


@time_machine.travel(NOW, tick=False)
def test_bad_records_quarantined_with_line_and_reason_rest_taken(line):
    c = line("OR-ILL-10G-NB", msisdn="0612000004")
    good = orange_line("0612000004", paris(2026, 12, 15, 9, 0), "DATA", ko=10)
    lines = [
        good,  # line 2
        good.replace("OR-T", "OR-U").rsplit(";", 3)[0],  # 3: truncated
        orange_line("0612000004", paris(2026, 12, 15, 9, 1), "DATA", ko=10) + ";EXTRA",  # 4: unknown column
        orange_line("0612000004", paris(2026, 12, 15, 9, 2), "DATA", ko=-5),  # 5: negative
        orange_line("0612000004", paris(2026, 12, 16, 9, 0), "DATA", ko=10),  # 6: future
        orange_line("0699999999", paris(2026, 12, 15, 9, 3), "DATA", ko=10),  # 7: unknown number
        orange_line("0612000004", paris(2026, 12, 15, 9, 4), "FAX", ko=10),  # 8: bad value
        orange_line("0612000004", paris(2026, 12, 15, 9, 5), "DATA", ko=1).replace(
            "2026-12-15 09:05", "2026-02-30 09:05"
        ),  # 9: impossible date
    ]
    body = orange_file(*lines)
    broken = (
        orange_line("0612000004", paris(2026, 12, 15, 9, 6), "DATA", ko=10)
        .encode()
        .replace(b"DATA", b"D\xe9TA")
    )
    body += broken + b"\n"  # 10: not UTF-8
    body += orange_line("0612000004", paris(2026, 12, 15, 9, 7), "DATA", ko=20).encode() + b"\n"  # 11: good
    report = ingest_bytes(name=orange_name(), data=body)
    assert report.taken == 2
    reasons = dict(CdrQuarantine.objects.filter(file_id=report.file_id).values_list("line_no", "reason"))
    assert reasons == {
        3: "truncated",
        4: "unknown_column",
        5: "negative",
        6: "future",
        7: "unknown_number",
        8: "bad_value",
        9: "bad_value",
        10: "encoding",
    }
    assert counter(c).quantity == 30_000
    f = CdrFile.objects.get(pk=report.file_id)
    assert (f.taken, f.quarantined, f.lines) == (2, 8, 10)


@time_machine.travel(NOW, tick=False)
def test_unexpected_header_rejects_the_whole_file(line):
    line("OR-ILL-10G-NB", msisdn="0612000005")
    data = b"ID;MSISDN;DATE\n" + orange_line("0612000005", paris(2026, 12, 15, 9, 0), "DATA", ko=1).encode()
    report = ingest_bytes(name=orange_name(), data=data)
    assert report.rejected and report.taken == 0
    f = CdrFile.objects.get(pk=report.file_id)
    assert f.state == CdrFile.State.REJECTED and "en-tête" in f.error
    assert not Cdr.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_record_goes_to_the_contract_holding_the_number_at_the_event_time(line):
    """A ported number came back on a new line: records before the old line's termination are the old
    line's, records after are the new line's (R-CON-6: a number is never reused otherwise)."""
    old = line("OR-ILL-10G-NB", msisdn="0612000006")
    Contract.objects.filter(pk=old.pk).update(
        state=Contract.State.TERMINATED, terminated_at=paris(2026, 12, 10, 0, 0)
    )
    new = line("OR-ILL-10G-NB", msisdn="0612000006")
    Contract.objects.filter(pk=new.pk).update(created_at=paris(2026, 12, 12, 0, 0))
    data = orange_file(
        orange_line("0612000006", paris(2026, 12, 9, 9, 0), "DATA", ko=100),
        orange_line("0612000006", paris(2026, 12, 11, 9, 0), "DATA", ko=100),
        orange_line("0612000006", paris(2026, 12, 13, 9, 0), "DATA", ko=300),
    )
    report = ingest_bytes(name=orange_name(), data=data)
    assert report.taken == 2 and report.quarantined == 1  # nobody held the number on the 11th
    assert counter(old).quantity == 100_000
    assert counter(new).quantity == 300_000


@time_machine.travel(NOW, tick=False)
def test_records_of_the_previous_month_count_in_that_month(line):
    c = line("OR-ILL-10G-NB", msisdn="0612000007")
    data = orange_file(
        orange_line("0612000007", paris(2026, 11, 30, 23, 59), "DATA", ko=1 * GB // 1000),
        orange_line("0612000007", paris(2026, 12, 1, 0, 1), "DATA", ko=2 * GB // 1000),
    )
    ingest_bytes(name=orange_name(), data=data)
    months = dict(UsageCounter.objects.filter(contract=c, metric="data").values_list("month", "quantity"))
    assert months == {dt.date(2026, 11, 1): 1 * GB, dt.date(2026, 12, 1): 2 * GB}


@time_machine.travel(NOW, tick=False)
def test_record_older_than_the_retention_is_quarantined(line, settings):
    settings.CDR_RETENTION_MONTHS = 12
    c = line("OR-ILL-10G-NB", msisdn="0612000008")
    Contract.objects.filter(pk=c.pk).update(created_at=paris(2025, 1, 1, 0, 0))
    data = orange_file(
        orange_line("0612000008", paris(2025, 12, 31, 23, 0), "DATA", ko=100),  # 13th month back
        orange_line("0612000008", paris(2026, 1, 1, 0, 30), "DATA", ko=200),  # 12th month: kept
    )
    report = ingest_bytes(name=orange_name(), data=data)
    assert report.taken == 1
    assert list(CdrQuarantine.objects.values_list("line_no", "reason")) == [(2, "too_old")]


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_file_at_once_take_it_once(line):
    """The claim is the file's content hash (a unique row inserted in the file's transaction): the second
    worker waits for the first and then finds the file taken."""
    with time_machine.travel(NOW, tick=False):
        c = line("OR-ILL-10G-NB", msisdn="0612000009")
        data = orange_file(
            *(orange_line("0612000009", paris(2026, 12, 15, 9, i), "DATA", ko=1000) for i in range(50))
        )
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def work():
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait()
                reports.append(ingest_bytes(name=orange_name(), data=data))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.taken for r in reports) == [0, 50]
    assert [r.already for r in reports].count(True) == 1
    assert counter(c).quantity == 50_000_000
    assert CdrFile.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_batch_of_files_counts_as_the_same_files_taken_one_by_one(line):
    """Files waiting together are taken in one transaction (``ingest_batch``): the same records, counters and
    quarantine as file by file; a record repeated in the batch's second file is its duplicate; a file of the
    batch taken before is skipped."""
    from usage.ingestion import Source, ingest_batch

    one, two = line("OR-ILL-10G-NB", msisdn="0612000031"), line("OR-ILL-10G-NB", msisdn="0612000032")
    record = orange_line("0612000031", paris(2026, 12, 15, 9, 0), "DATA", ko=1000, ticket="OR-B-1")
    first = orange_file(
        record,
        orange_line("0612000032", paris(2026, 12, 15, 9, 1), "VOIX", to="33612999999", seconds=60),
        orange_line("0699999999", paris(2026, 12, 15, 9, 2), "DATA", ko=10),  # no such line
    )
    second = orange_file(record, orange_line("0612000031", paris(2026, 12, 15, 10, 0), "DATA", ko=500))
    before = ingest_bytes(name=orange_name(), data=orange_file(record.replace("OR-B-1", "OR-B-0")))
    reports = ingest_batch(
        [
            Source.of_bytes(orange_name(), first),
            Source.of_bytes(orange_name(), second),
            Source.of_bytes(orange_name(), orange_file(record.replace("OR-B-1", "OR-B-0"))),
        ]
    )
    assert before.taken == 1
    a, b, again = reports
    assert (a.taken, a.duplicates, a.quarantined, a.contracts) == (2, 0, 1, 2)
    assert (b.taken, b.duplicates, b.quarantined, b.contracts) == (1, 1, 0, 1)
    assert again.already and again.taken == 0
    assert a.batch_files == b.batch_files == 2 and "lot de 2 fichiers" in a.summary()
    assert counter(one).quantity == 2_500_000 and counter(two, "voice").quantity == 60
    assert CdrQuarantine.objects.get().reason == "unknown_number"
    done = CdrFile.objects.filter(pk__in=[a.file_id, b.file_id]).values_list("taken", "duplicates", "state")
    assert sorted(done) == [(1, 1, "done"), (2, 0, "done")]


@time_machine.travel(NOW, tick=False)
def test_files_in_batches_of_one_network_up_to_the_size_limit(tmp_path, settings):
    from usage.ingestion import batches

    settings.CDR_BATCH_MAX_BYTES = 250
    paths = []
    for name, size in (
        ("ORANGE_CDR_2026121509.csv", 100),
        ("ORANGE_CDR_2026121510.csv", 100),
        ("ORANGE_CDR_2026121511.csv", 100),
        ("BYT_20261215_09_CDR.txt", 100),
        ("ORANGE_CDR_2026121512.csv", 400),
    ):
        (tmp_path / name).write_bytes(b"x" * size)
        paths.append(tmp_path / name)
    assert [[p.name[-6:-4] if p.name.startswith("OR") else "BY" for p in b] for b in batches(paths)] == [
        ["09", "10"],
        ["11"],
        ["BY"],
        ["12"],
    ]
