"""The entry's transaction loses its per-row foreign key, the last one PostgreSQL checked at
COMMIT for each of settlement's 200,000 entries. The ledger's statement trigger (0007) already
refuses an entry whose transaction is missing or has other tenant keys, and transactions are
never updated or deleted (0003), so what it checked at insert stays true. The index stays: the
balance check and every read of a transaction's entries go through it."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0007_ledger_statement_checks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="credits.ledgertransaction",
            ),
        ),
    ]
