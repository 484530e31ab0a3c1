"""Fixtures of the usage tests: the real catalog, live lines of each kind, and operator files written by hand
in each operator's format (``usage/FORMATS.md``) — an oracle independent of the simulators' writers."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from catalog.models import Offer, RoamingChoice
from contracts.models import Contract, ContractOption
from core.clock import PARIS
from tests.factories.catalog import load_test_catalog
from tests.factories.contracts import ContractFactory, OrderFactory
from tests.factories.partners import ClientAccountFactory, MembershipFactory, PartnerFactory

ORANGE_HEADER = (
    "ID_TICKET;MSISDN;DATE_HEURE;TYPE;SENS;PAYS_ORIGINE;NUMERO_CORRESPONDANT;PAYS_DESTINATION;"
    "DUREE_S;VOLUME_KO;SVA;SVA_MONTANT_HT"
)
BOUYGUES_HEADER = (
    "record_id|event_time_utc|subscriber|service|direction|mcc_visited|other_party|mcc_other|units|"
    "unit_type|premium_class|premium_fee_eur"
)
_ids = itertools.count(1)


@pytest.fixture
def catalog(db):
    return load_test_catalog()


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Telcom Usage")


@pytest.fixture
def partner_admin(partner):
    return MembershipFactory(partner=partner, role="admin", user__email="ops@telcom-usage.fr").user


@pytest.fixture(autouse=True)
def _no_dispatcher_wakeup(settings):
    settings.PROVISIONING_WAKE_ON_ORDER = False


@pytest.fixture
def line(partner, catalog):
    """``line("OR-ILL-10G-B", msisdn=…, roaming={"maghreb_turquie": "OR-ROA-…"})``: an active line created
    40 days ago, with its roaming choices in force."""
    client = ClientAccountFactory(partner=partner)

    def make(code: str, *, msisdn: str | None = None, roaming: dict | None = None, **kwargs) -> Contract:
        offer = Offer.objects.get(code=code)
        order = OrderFactory(client=client, offer=offer)
        extra = {"msisdn": msisdn} if msisdn else {}
        contract = ContractFactory(order=order, state=Contract.State.ACTIVE, **extra, **kwargs)
        since = timezone.now() - dt.timedelta(days=40)
        Contract.objects.filter(pk=contract.pk).update(created_at=since, delivered_at=since)
        for zone, choice_code in (roaming or {}).items():
            choice = RoamingChoice.objects.get(code=choice_code)
            ContractOption.objects.create(
                partner=partner,
                contract=contract,
                roaming_choice=choice,
                code=choice.code,
                label=choice.code,
                zone=zone,
                status=ContractOption.Status.ACTIVE,
                created_at=since,
                activated_at=since,
            )
        contract.refresh_from_db()
        return contract

    return make


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def intl(msisdn: str) -> str:
    """``0612345678`` → ``33612345678`` (Orange's number form)."""
    return "33" + msisdn[1:]


def orange_line(
    msisdn: str,
    at: dt.datetime,
    kind: str = "VOIX",
    *,
    sens: str = "S",
    where: str = "FRA",
    to: str = "33612345678",
    to_country: str = "FRA",
    seconds: int | str = "",
    ko: int | str = "",
    sva: str = "0",
    fee: str = "0,00",
    ticket: str | None = None,
) -> str:
    if kind == "VOIX" and seconds == "":
        seconds = 60
    if kind == "DATA":
        to, to_country = "", ""
    local = at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
    ticket = ticket or f"OR-T-{next(_ids):08d}"
    return ";".join(
        str(v)
        for v in (ticket, intl(msisdn), local, kind, sens, where, to, to_country, seconds, ko, sva, fee)
    )


def orange_file(*lines: str) -> bytes:
    return ("\n".join([ORANGE_HEADER, *lines]) + "\n").encode()


def bouygues_line(
    msisdn: str,
    at: dt.datetime,
    service: str = "VOICE",
    *,
    direction: str = "MO",
    mcc: str = "208",
    other: str = "0612345678",
    mcc_other: str = "208",
    units: int | str = 60,
    premium: str = "",
    fee: str = "",
    record: str | None = None,
) -> str:
    unit_type = {"VOICE": "SEC", "GPRS": "BYTE"}.get(service, "EVT")
    if service == "GPRS":
        other, mcc_other = "", ""
    if service in ("SMS", "MMS"):
        units = 1
    utc = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = record or str(10_000_000 + next(_ids))
    return "|".join(
        str(v)
        for v in (
            record,
            utc,
            msisdn,
            service,
            direction,
            mcc,
            other,
            mcc_other,
            units,
            unit_type,
            premium,
            fee,
        )
    )


def bouygues_file(*lines: str) -> bytes:
    return ("\n".join([BOUYGUES_HEADER, *lines]) + "\n").encode()


_file_no = itertools.count(1)


def orange_name() -> str:
    return f"ORANGE_CDR_2026{next(_file_no):06d}.csv"


def bouygues_name() -> str:
    n = next(_file_no)
    return f"BYT_2026{n % 10000:04d}_{n % 24:02d}_CDR.txt"
