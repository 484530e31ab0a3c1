"""Usage factories: rated records (``Cdr``, in the month partitions of ``usage_cdr``) and month counters.

- ``CdrFactory(contract=…, event_at=…, category=…, …)``: one record of a contract; creates the month partition
  first (``usage.partitions.ensure_partitions``). Partner, network, line and month come from the contract and
  the time; ``service``/``label`` from the category unless given.
- ``add_cdrs(contract, [dict(…), …])``: many records in one ``INSERT`` (same defaults as the factory).
- ``UsageCounterFactory(contract=…, metric=…, zone=…, quantity=…, oop_quantity=…)``: a month counter (default:
  the current Europe/Paris month).
- ``topup(contract, volume, month=…, state=…)``: a data top-up row (« Recharge »), confirmed by default.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from core.clock import PARIS, month_start
from usage.models import Category, Cdr, CdrFile, Direction, Metric, Service, UsageCounter, UsageZone
from usage.partitions import ensure_partitions

_record = itertools.count(1)

SERVICE_OF = {
    Category.VOICE: Service.VOICE,
    Category.VOICE_SVA: Service.VOICE,
    Category.SMS_MMS: Service.SMS,
    Category.DATA: Service.DATA,
}
LABEL_OF = {
    Category.VOICE: "Appel",
    Category.VOICE_SVA: "Appel vers numéro spécial (SVA)",
    Category.SMS_MMS: "SMS",
    Category.DATA: "Session data",
}


def cdr_test_file() -> CdrFile:
    """The file test records claim to come from (``Cdr.file`` has no database constraint)."""
    file, _created = CdrFile.objects.get_or_create(
        sha256="0" * 64,
        defaults={"network": "orange", "name": "TEST_CDR.csv", "state": CdrFile.State.DONE},
    )
    return file


def _cdr_values(contract, **values) -> dict:
    """The columns of one record of ``contract``: defaults filled from the contract, the time and the category."""
    event_at = values.pop("event_at", None) or timezone.now()
    category = values.pop("category", Category.VOICE)
    service = values.pop("service", SERVICE_OF[category])
    n = next(_record)
    row = {
        "event_at": event_at,
        "network": contract.network,
        "record_id": f"T-{n:010d}",
        "file_id": values.pop("file_id", None) or cdr_test_file().pk,
        "line_no": n,
        "partner_id": contract.partner_id,
        "contract_id": contract.pk,
        "month": month_start(event_at),
        "msisdn": contract.msisdn or "",
        "service": service,
        "category": category,
        "direction": Direction.OUT,
        "usage_zone": UsageZone.FRANCE,
        "dest_zone": "" if service == Service.DATA else UsageZone.FRANCE,
        "destination": "" if service == Service.DATA else "0611223344",
        "label": LABEL_OF[category],
        "quantity": 60 if service == Service.VOICE else (10**6 if service == Service.DATA else 1),
        "oop_quantity": 0,
        "amount_ht": None,
    }
    row.update(values)
    return row


def add_cdrs(contract, rows: list[dict]) -> list[Cdr]:
    """Insert many records of ``contract`` at once (their month partitions are created first)."""
    objs = [Cdr(**_cdr_values(contract, **row)) for row in rows]
    ensure_partitions({obj.month for obj in objs})
    return Cdr.objects.bulk_create(objs)


class CdrFactory(DjangoModelFactory):
    """One record; ``contract`` is required."""

    class Meta:
        model = Cdr

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        contract = kwargs.pop("contract")
        values = _cdr_values(contract, **kwargs)
        ensure_partitions([values["month"]])
        return model_class.objects.create(**values)


class UsageCounterFactory(DjangoModelFactory):
    class Meta:
        model = UsageCounter

    contract = None  # required
    partner = factory.LazyAttribute(lambda o: o.contract.partner)
    month = factory.LazyFunction(lambda: month_start())
    metric = Metric.DATA
    zone = ""
    quantity = 0
    oop_quantity = 0
    amount_ht = Decimal("0")
    unpriced_quantity = 0
    updated_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs["month"] = month_start(kwargs["month"])
        return super()._create(model_class, *args, **kwargs)


def paris_time(
    year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0
) -> dt.datetime:
    """An aware Europe/Paris datetime (record times in tests)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def topup(contract, volume_bytes: int, *, month: dt.date | None = None, state: str = "confirmed"):
    """A ``contracts.ContractTopup`` of ``contract``; a confirmed one counts for ``month`` (default: this month)."""
    from contracts.models import ContractTopup

    now = timezone.now()
    confirmed = state == ContractTopup.State.CONFIRMED
    return ContractTopup.objects.create(
        partner_id=contract.partner_id,
        contract=contract,
        volume_bytes=volume_bytes,
        state=state,
        source=ContractTopup.Source.BACKOFFICE,
        requested_at=now,
        confirmed_at=now if confirmed else None,
        month=month_start(month or now) if confirmed else None,
    )
