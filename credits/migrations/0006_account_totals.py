"""Running totals per (account, entry kind) on the account row, so the credit summary reads a
fixed number of rows instead of summing every entry the partnership ever posted.

The posting code keeps `totals` with `balance` under the account's row lock; this migration
fills it from the entries already posted (one grouped scan of the ledger).
"""

from __future__ import annotations

from collections import defaultdict

from django.db import migrations, models

BACKFILL_SQL = """
UPDATE credits_ledgeraccount a
   SET totals = s.totals
  FROM (SELECT account_id, jsonb_object_agg(kind, total) AS totals
          FROM (SELECT account_id, kind, SUM(amount) AS total
                  FROM credits_ledgerentry
                 GROUP BY account_id, kind) per_kind
         GROUP BY account_id) s
 WHERE a.id = s.account_id
"""


def backfill(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL_SQL, params=None)
        return
    from django.db.models import Sum

    account_model = apps.get_model("credits", "LedgerAccount")
    entry_model = apps.get_model("credits", "LedgerEntry")
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    rows = entry_model._base_manager.values_list("account_id", "kind").annotate(s=Sum("amount"))
    for account_id, kind, total in rows.order_by():
        totals[account_id][kind] = int(total)
    accounts = list(account_model._base_manager.filter(pk__in=list(totals)))
    for account in accounts:
        account.totals = totals[account.pk]
    account_model._base_manager.bulk_update(accounts, ["totals"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0005_free_hires_never_negative"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgeraccount",
            name="totals",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
