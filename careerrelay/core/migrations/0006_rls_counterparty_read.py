"""Row-level security: a company reads the candidates referred to it (rls.COUNTERPARTY_READ).
Reinstalls every policy (idempotent); PostgreSQL only."""

from __future__ import annotations

from django.db import migrations


def forward(apps, schema_editor):
    from careerrelay.core import rls

    rls.install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_admin_verbose_names"),
        ("referrals", "0006_admin_verbose_names_status_context"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
