"""A ledger transaction's referral and placement checked once per INSERT statement instead of
by two deferred foreign-key checks per row at COMMIT.

Settlement writes 100,000 rebate transactions in a few statements; at COMMIT PostgreSQL then
ran one `SELECT ... FOR KEY SHARE` per transaction and key through SPI, 200,000 in all, about
2.4 s of the run (bench/NOTES.md). Now:

- A statement-level trigger with a transition table looks up the new transactions' distinct
  referrals and placements by primary key and locks them FOR KEY SHARE, as the foreign-key
  check did (so a concurrent DELETE waits for the inserting transaction), and refuses the
  statement when one is missing.
- A referral or placement that a ledger transaction refers to can be neither deleted nor given
  another id (a BEFORE trigger per row; such deletes do not happen in the application, and a
  delete that waited on the lock above sees the committed transaction).
- Both run with `app.bypass` on: a foreign-key check ignores row-level security too, and a
  company's context cannot see placements.

The foreign keys were DEFERRABLE INITIALLY DEFERRED; the checks are now immediate (every
referral and placement exists before its ledger transaction is posted). TRUNCATE is left alone
as in 0003. On SQLite (the embedded demo) only the field changes apply.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION credits_check_new_transactions() RETURNS trigger AS $$
DECLARE
    missing bigint;
BEGIN
    SELECT x.id INTO missing
      FROM (SELECT DISTINCT n.referral_id AS id FROM credits_new_transactions n
             WHERE n.referral_id IS NOT NULL) x
      LEFT JOIN LATERAL (SELECT r.id FROM referrals_referral r
                          WHERE r.id = x.id
                            FOR KEY SHARE OF r) r ON true
     WHERE r.id IS NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction refers to a missing referral %', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    SELECT x.id INTO missing
      FROM (SELECT DISTINCT n.placement_id AS id FROM credits_new_transactions n
             WHERE n.placement_id IS NOT NULL) x
      LEFT JOIN LATERAL (SELECT p.id FROM agencies_placement p
                          WHERE p.id = x.id
                            FOR KEY SHARE OF p) p ON true
     WHERE p.id IS NULL;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction refers to a missing placement %', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql SET app.bypass = 'on';

CREATE TRIGGER credits_ledgertransaction_checked
    AFTER INSERT ON credits_ledgertransaction
    REFERENCING NEW TABLE AS credits_new_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION credits_check_new_transactions();

CREATE OR REPLACE FUNCTION credits_keep_referenced() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'referrals_referral' THEN
        PERFORM 1 FROM credits_ledgertransaction t WHERE t.referral_id = OLD.id;
    ELSE
        PERFORM 1 FROM credits_ledgertransaction t WHERE t.placement_id = OLD.id;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION '% % is referred to by the ledger: % is refused',
            TG_TABLE_NAME, OLD.id, TG_OP
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql SET app.bypass = 'on';

CREATE TRIGGER credits_referral_kept
    BEFORE DELETE OR UPDATE OF id ON referrals_referral
    FOR EACH ROW EXECUTE FUNCTION credits_keep_referenced();

CREATE TRIGGER credits_placement_kept
    BEFORE DELETE OR UPDATE OF id ON agencies_placement
    FOR EACH ROW EXECUTE FUNCTION credits_keep_referenced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS credits_placement_kept ON agencies_placement;
DROP TRIGGER IF EXISTS credits_referral_kept ON referrals_referral;
DROP FUNCTION IF EXISTS credits_keep_referenced();
DROP TRIGGER IF EXISTS credits_ledgertransaction_checked ON credits_ledgertransaction;
DROP FUNCTION IF EXISTS credits_check_new_transactions();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0006_placement_settlement_fewer_indexes"),
        ("credits", "0009_verbose_names"),
        ("referrals", "0006_admin_verbose_names_status_context"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgertransaction",
            name="placement",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="agencies.placement",
                verbose_name="成約",
            ),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="referral",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="referrals.referral",
                verbose_name="対象の紹介",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
