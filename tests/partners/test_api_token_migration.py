"""Issue 10 item 6: the clear-text keys of DRF's authtoken table become hashed ApiToken rows (so integrations keep
working) and the table is dropped (migration ``partners.0007_api_token_from_drf``)."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from partners.models import ApiToken
from tests.factories.partners import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("partners.migrations.0007_api_token_from_drf")
LEGACY_KEY = "0123456789abcdef0123456789abcdef01234567"


def test_legacy_keys_are_hashed_and_the_clear_table_dropped():
    staff = MembershipFactory().user
    stranger = UserFactory()  # no partner: its token never opened the API, it is not carried over
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint, created timestamptz)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, now()), (%s, %s, now())",
            [LEGACY_KEY, staff.pk, "f" * 40, stranger.pk],
        )

    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)

    token = ApiToken.objects.get()
    assert (token.user_id, token.name, token.prefix) == (staff.pk, "Jeton existant", LEGACY_KEY[:12])
    assert LEGACY_KEY not in token.key_hash
    assert "authtoken_token" not in connection.introspection.table_names()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {LEGACY_KEY}")
    assert api.get("/api/v1/clients").status_code == 200  # the integration keeps working


def test_nothing_to_do_on_a_new_database():
    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)
    assert not ApiToken.objects.exists()
