"""The database refuses a negative free-hire balance, whatever code path writes it (the
services already refuse a redemption without a free hire; this is the last line). PostgreSQL
only, like the other ledger guards."""

from __future__ import annotations

from django.db import migrations

FORWARD = (
    "ALTER TABLE credits_ledgeraccount ADD CONSTRAINT credits_free_hires_not_negative "
    "CHECK (name <> 'free_hires' OR balance >= 0)"
)
BACKWARD = (
    "ALTER TABLE credits_ledgeraccount DROP CONSTRAINT IF EXISTS credits_free_hires_not_negative"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0004_convert_count_index"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
