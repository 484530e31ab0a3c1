"""R-BO-1 client services: required fields, SIRET, phone numbers (phonenumbers), postal code, duplicates."""

import pytest

from core.errors import RuleViolation
from partners.models import ClientAccount
from partners.services import client_create, client_update
from partners.validators import format_phone
from tests.factories.partners import ClientAccountFactory, PartnerFactory, make_siret

pytestmark = pytest.mark.django_db


def _create(partner, **overrides):
    data = {"company_name": "Société Test", "siret": make_siret(1), "email": "a@b.fr"}
    data.update(overrides)
    return client_create(partner=partner, **data)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("mobile", "06 12 34 56 78", "+33612345678"),
        ("mobile", "+33 7 80 00 00 01", "+33780000001"),
        ("landline", "01.45.67.89.10", "+33145678910"),
        ("landline", "09 12 34 56 78", "+33912345678"),  # box numbers are landlines for a client
        ("mobile", "", ""),
    ],
)
def test_R_BO_1_phone_numbers_are_stored_in_e164(field, value, expected):
    client = _create(PartnerFactory(), **{field: value})
    assert getattr(client, field) == expected


def test_R_BO_1_foreign_number_read_in_client_country():
    client = _create(PartnerFactory(), country="be", mobile="0470 12 34 56", postal_code="1000")
    assert (client.country, client.mobile) == ("BE", "+32470123456")
    assert client.mobile_display == "+32 470 12 34 56"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile", "0712345678"),  # 071x is not allocated (ID-MSISDN)
        ("mobile", "0145678910"),
        ("landline", "0612345678"),
        ("siret", "73282932000075"),
        ("siret", "abc"),
        ("postal_code", "750001"),
        ("country", "FRA"),
        ("company_name", "   "),
        ("email", ""),
    ],
)
def test_R_BO_1_refusals_name_field_and_rule(field, value):
    partner = PartnerFactory()
    with pytest.raises(RuleViolation) as exc:
        _create(partner, **{field: value})
    assert (exc.value.field, exc.value.rule) == (field, "R-BO-1")
    assert not ClientAccount.objects.exists()


def test_R_BO_1_update_refusal_leaves_row_untouched():
    client = ClientAccountFactory(company_name="Avant", mobile="+33612345678")
    with pytest.raises(RuleViolation):
        client_update(client=client, company_name="Après", mobile="123")
    client.refresh_from_db()
    assert (client.company_name, client.mobile) == ("Avant", "+33612345678")


def test_format_phone_national_for_france():
    assert format_phone("+33612345678") == "06 12 34 56 78"
    assert format_phone("") == ""
