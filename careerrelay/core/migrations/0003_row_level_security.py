"""Row-level security on every tenant-owned table (PostgreSQL only; see careerrelay/core/rls.py).

The policies admit every row while `app.bypass` is on, which is how every connection starts
unless DATABASE_RLS=enforce, so installing them changes nothing for the default set-up.
"""

from __future__ import annotations

from django.db import migrations


def forward(apps, schema_editor):
    from careerrelay.core import rls

    rls.install(schema_editor)


def backward(apps, schema_editor):
    from careerrelay.core import rls

    rls.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_initial"),
        ("companies", "0002_initial"),
        ("agencies", "0003_placement_settlement_notes"),
        ("referrals", "0004_candidate_consent_withdrawn_at_candidate_language_and_more"),
        ("credits", "0003_ledger_append_only"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
