"""Alerts and blocking (issue 7, item 5): R-ALR-1..5, exactly once, through the outbox and the operator."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from catalog.models import UsageRate
from contracts.models import DataBlock, OperatorRequest
from core.money import GB, MB
from notifications.models import OutboxMessage
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
from usage.models import UsageAlert

NOW = paris(2026, 12, 15, 12, 0)


def data(msisdn: str, volume: int, minute: int = 0, hour: int = 9, where: str = "FRA") -> str:
    return orange_line(msisdn, paris(2026, 12, 15, hour, minute), "DATA", ko=volume // 1000, where=where)


def alerts(contract) -> list[tuple]:
    return sorted(
        UsageAlert.objects.filter(contract=contract).values_list("scope", "zone", "threshold", "blocks")
    )


def open_blocks(contract) -> list[tuple]:
    return sorted(
        DataBlock.objects.filter(contract=contract, lifted_at__isnull=True).values_list("scope", "zone")
    )


@time_machine.travel(NOW, tick=False)
def test_R_ALR_1_orange_alerts_at_80_and_100_and_blocks_a_blocked_plan(line, partner_admin):
    c = line("OR-ILL-10G-B", msisdn="0612200001")
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200001", 7 * GB)))
    assert alerts(c) == []
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200001", 1 * GB, 1)))
    assert alerts(c) == [("data", "", 80, False)]
    assert open_blocks(c) == []
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200001", 2 * GB, 2)))
    assert alerts(c) == [("data", "", 80, False), ("data", "", 100, True)]
    assert open_blocks(c) == [("data", "")]
    assert OperatorRequest.objects.filter(contract=c, kind="block_data").count() == 1


@time_machine.travel(NOW, tick=False)
def test_R_ALR_1_orange_non_blocked_plan_alerts_but_is_not_blocked(line, partner_admin):
    c = line("OR-ILL-10G-NB", msisdn="0612200002")
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200002", 11 * GB)))
    assert alerts(c) == [("data", "", 80, False), ("data", "", 100, False)]
    assert open_blocks(c) == []


@pytest.mark.parametrize(
    ("code", "expected", "blocked"),
    [
        ("BY-ILL-10G-NB", [("data", "", 80, False)], []),  # non-blocked: 80 % only
        ("BY-ILL-10G-B", [("data", "", 100, True)], [("data", "")]),  # blocked: 100 % and cut
    ],
)
@time_machine.travel(NOW, tick=False)
def test_R_ALR_2_bouygues_alerts(line, partner_admin, code, expected, blocked):
    c = line(code, msisdn="0660200001")
    at = paris(2026, 12, 15, 9, 0)
    ingest_bytes(
        name=bouygues_name(), data=bouygues_file(bouygues_line("0660200001", at, "GPRS", units=11 * GB))
    )
    assert alerts(c) == expected
    assert open_blocks(c) == blocked


@time_machine.travel(NOW, tick=False)
def test_R_ALR_3_orange_roaming_cut_off_alerts_and_blocks_the_zone(line, partner_admin):
    c = line("OR-ILL-10G-NB", msisdn="0612200003", roaming={"maghreb_turquie": "OR-ROA-ILL-MT-CUT-500M"})
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200003", 420 * MB, where="MAR")))
    assert alerts(c) == [("roaming", "maghreb_turquie", 80, False)]
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200003", 100 * MB, 5, where="TUN")))
    assert alerts(c) == [("roaming", "maghreb_turquie", 80, False), ("roaming", "maghreb_turquie", 100, True)]
    assert open_blocks(c) == [("roaming", "maghreb_turquie")]


@time_machine.travel(NOW, tick=False)
def test_R_ALR_3_roaming_cut_off_of_0_blocks_at_first_use(line, partner_admin):
    c = line("OR-ILL-10G-NB", msisdn="0612200004", roaming={"reste_du_monde": "OR-ROA-ILL-RDM-CUT-0"})
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200004", 10_000, where="JPN")))
    assert ("roaming", "reste_du_monde", 100, True) in alerts(c)
    assert open_blocks(c) == [("roaming", "reste_du_monde")]


@time_machine.travel(NOW, tick=False)
def test_R_ALR_3_bouygues_euro_cut_offs(line, partner_admin):
    """R-ROA-4: the World cut-off in euros, data valued at the catalog rate; Europe data counts in the
    envelope and its value in euros against the Europe cut-off."""
    UsageRate.objects.filter(network="bouygues", code__in=["roam_data_monde", "roam_data_europe"]).update(
        price_ht=Decimal("0.0100")
    )
    c = line(
        "BY-ILL-30G-NB",
        msisdn="0660200002",
        roaming={"europe": "BY-ROA-EU-CUT-50E", "monde": "BY-ROA-MONDE-CUT-50E"},
    )
    at = paris(2026, 12, 15, 9, 0)
    ingest_bytes(
        name=bouygues_name(),
        data=bouygues_file(
            bouygues_line("0660200002", at, "GPRS", mcc="440", units=4100 * MB),  # 41 € of 50 € World
            bouygues_line("0660200002", at, "GPRS", mcc="214", units=5000 * MB),  # 50 € of 50 € Europe
        ),
    )
    assert alerts(c) == [
        ("roaming", "europe", 80, False),
        ("roaming", "europe", 100, True),
        ("roaming", "monde", 80, False),
    ]
    assert open_blocks(c) == [("roaming", "europe")]


@time_machine.travel(NOW, tick=False)
def test_R_ALR_3_bouygues_euro_cut_off_without_a_rate_only_checks_0_euro(line, partner_admin):
    c = line(
        "BY-ILL-30G-NB",
        msisdn="0660200003",
        roaming={"europe": "BY-ROA-EU-CUT-50E", "monde": "BY-ROA-MONDE-CUT-0E"},
    )
    at = paris(2026, 12, 15, 9, 0)
    ingest_bytes(
        name=bouygues_name(),
        data=bouygues_file(
            bouygues_line("0660200003", at, "GPRS", mcc="214", units=9000 * MB),
            bouygues_line("0660200003", at, "GPRS", mcc="310", units=1 * MB),
        ),
    )
    # No rate in the seed: the 50 € Europe cut-off cannot be valued (« à tarifer »); 0 € World is reached.
    assert alerts(c) == [("roaming", "monde", 80, False), ("roaming", "monde", 100, True)]


@time_machine.travel(NOW, tick=False)
def test_R_ALR_4_alert_is_an_sms_to_the_user_and_an_email_to_the_partner(line, partner_admin):
    c = line("OR-ILL-10G-B", msisdn="0612200005")
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200005", 8500 * MB)))
    sms = OutboxMessage.objects.get(channel="sms")
    assert sms.to == "+33612200005" and "80 %" in sms.body_text and "0612200005" in sms.body_text
    email = OutboxMessage.objects.get(channel="email")
    assert email.to == "ops@telcom-usage.fr"
    assert "Alerte consommation 80 %" in email.subject and c.number in email.body_text


@time_machine.travel(NOW, tick=False)
def test_alert_once_per_line_threshold_and_month(line, partner_admin):
    c = line("OR-ILL-10G-NB", msisdn="0612200006")
    for minute in range(4):
        ingest_bytes(name=orange_name(), data=orange_file(data("0612200006", 3 * GB, minute)))
    assert alerts(c) == [("data", "", 80, False), ("data", "", 100, False)]
    assert OutboxMessage.objects.filter(channel="sms").count() == 2
    with time_machine.travel(paris(2027, 1, 2, 9, 0), tick=False):
        ingest_bytes(
            name=orange_name(),
            data=orange_file(orange_line("0612200006", paris(2027, 1, 2, 8, 0), "DATA", ko=9 * GB // 1000)),
        )
    assert UsageAlert.objects.filter(contract=c, threshold=80).count() == 2  # one per month


@time_machine.travel(NOW, tick=False)
def test_R_CAT_10_topup_grows_the_envelope_so_the_line_is_blocked_again_only_beyond_it(line, partner_admin):
    from contracts.models import ContractTopup

    c = line("OR-ILL-10G-B", msisdn="0612200007")
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200007", 10 * GB)))
    assert open_blocks(c) == [("data", "")]
    DataBlock.objects.filter(contract=c).update(lifted_at=NOW)  # lifted by the confirmed top-up
    ContractTopup.objects.create(
        partner=c.partner,
        contract=c,
        volume_bytes=5 * GB,
        state="confirmed",
        source="backoffice",
        requested_at=NOW,
        confirmed_at=NOW,
        month=NOW.date().replace(day=1),
    )
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200007", 4 * GB, 1)))
    assert open_blocks(c) == []  # 14 Go of 15 Go
    ingest_bytes(name=orange_name(), data=orange_file(data("0612200007", 1 * GB, 2)))
    assert open_blocks(c) == [("data", "")]
    assert UsageAlert.objects.filter(contract=c, threshold=100).count() == 1  # the alert itself once


@pytest.mark.django_db(transaction=True)
def test_alerts_exactly_once_under_concurrent_ingestion(line, partner_admin):
    """Two workers ingest two files of the same line at once, each crossing 80 % and 100 % on its own: one
    alert per threshold, one block, one SMS per alert."""
    with time_machine.travel(NOW, tick=False):
        c = line("OR-ILL-10G-B", msisdn="0612200008")
        files = [
            orange_file(data("0612200008", 11 * GB, 0)),
            orange_file(data("0612200008", 11 * GB, 1)),
        ]
        names = [orange_name(), orange_name()]
    barrier = threading.Barrier(2)
    errors = []

    def work(i):
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait()
                ingest_bytes(name=names[i], data=files[i])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert alerts(c) == [("data", "", 80, False), ("data", "", 100, True)]
    assert DataBlock.objects.filter(contract=c).count() == 1
    assert OperatorRequest.objects.filter(contract=c, kind="block_data").count() == 1
    assert OutboxMessage.objects.filter(channel="sms").count() == 2
