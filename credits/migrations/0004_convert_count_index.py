"""A partial index for the conversion counter: `convert:<partnership>:<n>` takes n from the
number of conversions of the partnership, counted under the account locks at every
conversion. Without it the count scans every transaction of the partnership. PostgreSQL only
(the embedded SQLite demo is small)."""

from __future__ import annotations

from django.db import migrations

FORWARD = (
    "CREATE INDEX IF NOT EXISTS credits_tx_convert_idx "
    "ON credits_ledgertransaction (partnership_id) WHERE kind = 'convert'"
)
BACKWARD = "DROP INDEX IF EXISTS credits_tx_convert_idx"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0003_ledger_append_only"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
