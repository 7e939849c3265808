"""Row-level security on API keys too (found by hash in an explicit bypass, see apikeys.py).
Reinstalls every policy (idempotent); PostgreSQL only."""

from __future__ import annotations

from django.db import migrations


def forward(apps, schema_editor):
    from careerrelay.core import rls

    rls.install(schema_editor)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("tenant_isolation", "tenant_read", "append_anyone", "counterparty_read"):
        schema_editor.execute(f'DROP POLICY IF EXISTS {name} ON "core_apikey"')
    schema_editor.execute('ALTER TABLE "core_apikey" NO FORCE ROW LEVEL SECURITY')
    schema_editor.execute('ALTER TABLE "core_apikey" DISABLE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [("core", "0006_rls_counterparty_read")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
