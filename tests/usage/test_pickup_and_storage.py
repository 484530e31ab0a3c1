"""The drop folder, the command, the month rollover and storage (issue 7, items 2, 5 and 8)."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.core.management import call_command
from django.db import connection

from contracts.datablocks import data_blocks_lift_due
from contracts.models import DataBlock, OperatorRequest
from core.money import GB
from tests.usage.conftest import orange_file, orange_line, orange_name, paris
from usage import partitions
from usage.models import Cdr, CdrFile, UsageCounter
from usage.services import cdr_partitions_drop_old
from usage.tasks import ingest_dropped_files_task

NOW = paris(2026, 12, 15, 12, 0)


@time_machine.travel(NOW, tick=False)
def test_beat_task_takes_complete_files_once_and_archives_them(line, tmp_path, settings):
    c = line("OR-ILL-10G-NB", msisdn="0612300001")
    settings.CDR_DROP_DIR = tmp_path
    name = orange_name()
    data = orange_file(orange_line("0612300001", paris(2026, 12, 15, 9, 0), "DATA", ko=1000))
    (tmp_path / name).write_bytes(data)
    (tmp_path / f".{name}.part").write_bytes(data)  # being written by the operator: not taken
    assert ingest_dropped_files_task(network="bouygues") == 0  # one stream per network
    assert (tmp_path / name).exists()
    assert ingest_dropped_files_task(network="orange") == 1
    assert not (tmp_path / name).exists()
    assert (tmp_path / "archive" / "2026-12" / name).exists()
    assert (tmp_path / f".{name}.part").exists()
    # The operator delivers the same content again under another name: moved, nothing counted.
    (tmp_path / orange_name()).write_bytes(data)
    assert ingest_dropped_files_task() == 0
    assert UsageCounter.objects.get(contract=c, metric="data").quantity == 1_000_000
    assert CdrFile.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_beat_runs_one_pick_up_per_network(settings):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "usage.ingest_dropped_files"]
    assert sorted(e["kwargs"]["network"] for e in entries) == ["bouygues", "orange"]


@time_machine.travel(NOW, tick=False)
def test_ingest_cdrs_command_reports_in_french(line, tmp_path, capsys):
    line("OR-ILL-10G-NB", msisdn="0612300002")
    path = tmp_path / orange_name()
    path.write_bytes(
        orange_file(
            orange_line("0612300002", paris(2026, 12, 15, 9, 0), "DATA", ko=1000),
            orange_line("0699999998", paris(2026, 12, 15, 9, 0), "DATA", ko=1000),
        )
    )
    call_command("ingest_cdrs", str(tmp_path))
    out = capsys.readouterr().out
    assert "1 fichier(s) : 1 enregistrement(s) intégré(s), 0 doublon(s), 1 en quarantaine" in out
    call_command("ingest_cdrs", str(path))
    assert "déjà intégré" in capsys.readouterr().out


def test_R_ALR_1_blocked_line_is_unblocked_at_the_month_rollover(line, partner_admin):
    with time_machine.travel(NOW, tick=False):
        c = line("OR-ILL-10G-B", msisdn="0612300003")
        from usage.ingestion import ingest_bytes

        ingest_bytes(
            name=orange_name(),
            data=orange_file(
                orange_line("0612300003", paris(2026, 12, 15, 9, 0), "DATA", ko=11 * GB // 1000)
            ),
        )
        assert DataBlock.objects.filter(contract=c, lifted_at__isnull=True).count() == 1
    with time_machine.travel(paris(2026, 12, 31, 23, 59), tick=False):
        assert data_blocks_lift_due() == 0  # still December
    with time_machine.travel(paris(2027, 1, 1, 0, 1), tick=False):
        assert data_blocks_lift_due() == 1
    assert not DataBlock.objects.filter(contract=c, lifted_at__isnull=True).exists()
    assert OperatorRequest.objects.filter(contract=c, kind="unblock_data").count() == 1


@time_machine.travel(NOW, tick=False)
def test_cdr_table_is_partitioned_by_month_and_old_partitions_are_dropped(line, settings):
    c = line("OR-ILL-10G-NB", msisdn="0612300004")
    settings.CDR_RETENTION_MONTHS = 12
    partitions.ensure_partitions([dt.date(2025, 11, 1), dt.date(2025, 12, 1), dt.date(2026, 1, 1)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'usage_cdr'")
        assert cursor.fetchone()[0] == "p"  # a partitioned table
        cursor.execute(
            "INSERT INTO usage_cdr (event_at, network, record_id, file_id, line_no, partner_id, contract_id, month, "
            "msisdn, service, category, direction, usage_zone, label, quantity) VALUES "
            "(%s, 'orange', 'OLD-1', 0, 2, %s, %s, '2025-11-01', '0612300004', 'data', 'data', 'out', 'france', "
            "'Session data', 1)",
            [paris(2025, 11, 20, 9, 0), c.partner_id, c.pk],
        )
    assert Cdr.objects.filter(contract=c).count() == 1
    dropped = cdr_partitions_drop_old()
    # 12 months kept: December 2026 back to January 2026.
    assert sorted(dropped) == ["usage_cdr_202511", "usage_cdr_202512"]
    assert dt.date(2026, 1, 1) in partitions.existing_partitions()
    assert not Cdr.objects.filter(contract=c).exists()


def test_quarantine_visible_to_platform_admins(admin_client, line, db):
    with time_machine.travel(NOW, tick=False):
        line("OR-ILL-10G-NB", msisdn="0612300005")
        from usage.ingestion import ingest_bytes

        report = ingest_bytes(
            name=orange_name(),
            data=orange_file(orange_line("0612300005", paris(2026, 12, 15, 9, 0), "FAX", ko=1)),
        )
    page = admin_client.get(f"/admin/usage/cdrfile/{report.file_id}/change/")
    assert page.status_code == 200
    assert "Valeur invalide" in page.content.decode() and "TYPE inconnu : FAX" in page.content.decode()
    listing = admin_client.get("/admin/usage/cdrquarantine/")
    assert listing.status_code == 200 and "FAX" in listing.content.decode()


@time_machine.travel(NOW, tick=False)
def test_a_file_that_fails_stays_for_the_next_pick_up_and_does_not_hold_up_the_others(
    line, tmp_path, settings, monkeypatch
):
    import usage.ingestion

    line("OR-ILL-10G-NB", msisdn="0612300006")
    settings.CDR_DROP_DIR = tmp_path
    first, second = orange_name(), orange_name()
    for name, minute in ((first, 0), (second, 1)):
        (tmp_path / name).write_bytes(
            orange_file(orange_line("0612300006", paris(2026, 12, 15, 9, minute), "DATA", ko=1000))
        )
    real = usage.ingestion.Source.of_path

    def failing(path):
        source = real(path)
        if source.name != first:
            return source

        def read():
            raise RuntimeError("disque plein")

        return usage.ingestion.Source(name=source.name, read=read)

    # The two files form one batch; it fails, and is taken again file by file: the good one goes through.
    monkeypatch.setattr(usage.ingestion.Source, "of_path", failing)
    assert ingest_dropped_files_task(network="orange") == 1
    assert (tmp_path / first).exists() and not (tmp_path / second).exists()
    assert CdrFile.objects.get().name == second
    monkeypatch.setattr(usage.ingestion.Source, "of_path", real)
    assert ingest_dropped_files_task(network="orange") == 1
    assert not (tmp_path / first).exists()


@time_machine.travel(NOW, tick=False)
def test_one_pick_up_per_stream_at_a_time(line, tmp_path, settings):
    from django.db import connections

    line("OR-ILL-10G-NB", msisdn="0612300007")
    settings.CDR_DROP_DIR = tmp_path
    (tmp_path / orange_name()).write_bytes(
        orange_file(orange_line("0612300007", paris(2026, 12, 15, 9, 0), "DATA", ko=1000))
    )
    other = connections.create_connection("default")  # another worker's session, still taking files
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(7008, 1)")
        assert ingest_dropped_files_task(network="orange") == 0  # left to the running pick-up
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(7008, 1)")
        assert ingest_dropped_files_task(network="orange") == 1
    finally:
        other.close()
