"""Issue 10 item 6: the API keys of DRF's ``authtoken`` app (stored in clear) become hashed ``ApiToken`` rows, so
the integrations that use them keep working, then the clear-text table is dropped. ``rest_framework.authtoken``
is no longer installed; its table is read with SQL when it exists (an existing database), skipped otherwise.
A migrated token is named « Jeton existant » and expires ``API_TOKEN_TTL_DAYS`` days after this migration."""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"
PREFIX_LENGTH = 12


def hash_legacy_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("partners", "ApiToken")
    PartnerMembership = apps.get_model("partners", "PartnerMembership")
    partner_of = dict(PartnerMembership.objects.values_list("user_id", "partner_id"))
    now = timezone.now()
    expires_at = now + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {LEGACY_TABLE}")  # noqa: S608 - a constant
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                partner_id=partner_of[user_id],
                user_id=user_id,
                name="Jeton existant",
                prefix=key[:PREFIX_LENGTH],
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                created_at=created or now,
                expires_at=expires_at,
            )
            for key, user_id, created in rows
            if user_id in partner_of  # a token of a user with no partner never opened the API
        ],
        ignore_conflicts=True,
    )
    schema_editor.execute(f"DROP TABLE {LEGACY_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("partners", "0006_api_token")]

    operations = [migrations.RunPython(hash_legacy_tokens, migrations.RunPython.noop)]
