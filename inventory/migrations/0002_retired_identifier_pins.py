"""R-CON-6 in the database: a retired SIM, eSIM or number can be neither deleted nor moved out of ``retired``.

Composite foreign keys ``inventory_retiredidentifier (<target>_id, target_state)`` →
``<target> (id, state)``; ``target_state`` is always ``retired`` (check constraint), so while the register row
exists the referenced row must keep ``state = 'retired'`` (ON UPDATE / ON DELETE NO ACTION, checked at once).
Rows with a NULL target id are not checked (MATCH SIMPLE), so one row pins exactly its one target.

Always applied: PostgreSQL is the only engine, ``make run``'s embedded server included.
"""

from django.db import migrations

PINS = [
    ("retired_pins_sim", "sim_id", "inventory_simcard"),
    ("retired_pins_esim", "esim_id", "inventory_esimprofile"),
    ("retired_pins_number", "number_id", "inventory_phonenumber"),
]


def add_pins(apps, schema_editor):
    for name, column, table in PINS:
        schema_editor.execute(
            f"ALTER TABLE inventory_retiredidentifier ADD CONSTRAINT {name} "
            f"FOREIGN KEY ({column}, target_state) REFERENCES {table} (id, state) "
            "ON UPDATE NO ACTION ON DELETE NO ACTION NOT DEFERRABLE"
        )


def drop_pins(apps, schema_editor):
    for name, _column, _table in PINS:
        schema_editor.execute(f"ALTER TABLE inventory_retiredidentifier DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(add_pins, drop_pins, elidable=False)]
