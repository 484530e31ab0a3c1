"""The operator record key of ``usage_cdr`` (network, record id) compared byte by byte (``COLLATE "C"``).

Every stored record descends the unique index ``usage_cdr_record_once`` (exactly once per network + operator
record id + time). Under the database's default collation (a libc locale such as ``C.UTF-8`` or
``fr_FR.UTF-8``) each comparison is a ``strcoll`` call and sorts lose their abbreviated keys; operator record
ids are opaque codes, never shown in a language's order, so byte order is the right one and the cheap one.
Rewrites the table and its indexes (on a large table, run it in a maintenance window).
"""

from django.db import migrations

FORWARD = """
ALTER TABLE usage_cdr
    ALTER COLUMN network TYPE varchar(10) COLLATE "C",
    ALTER COLUMN record_id TYPE varchar(40) COLLATE "C";
"""
BACKWARD = """
ALTER TABLE usage_cdr
    ALTER COLUMN network TYPE varchar(10) COLLATE "default",
    ALTER COLUMN record_id TYPE varchar(40) COLLATE "default";
"""


class Migration(migrations.Migration):
    dependencies = [("usage", "0002_counter_hot_updates")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
