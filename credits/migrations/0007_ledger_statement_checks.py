"""The ledger's guards checked once per INSERT statement instead of once per row at COMMIT.

Settlement writes 100,000 rebate transactions (200,000 entries) in a few statements; at COMMIT
PostgreSQL then ran one deferred foreign-key look-up per key and row (5 per entry, 5 per
transaction) and one balance re-sum per entry row, most of the run's time (bench/NOTES.md).

- The tenant keys of entries and transactions (partnership, company, agency) and the entry's
  account lose their per-row foreign keys (the model fields say `db_constraint=False`). One
  statement-level trigger with a transition table checks every new entry instead: its account
  exists and has the same partnership, company, agency, name and unit; its transaction has the
  same partnership, company and agency; and every transaction the statement touched sums to
  zero per unit, its earlier entries included. The foreign keys to the transaction, the
  referral and the placement stay.
- Accounts (which keep real foreign keys to partnership, company and agency) can be neither
  deleted nor re-pointed to another partnership, organisation, name or unit, so what an entry
  was checked against at insert stays true.
- The balance check is no longer deferred to COMMIT: the entries of one transaction are
  written in one INSERT statement (`ledger_post` and settlement both do so).
- Indexes nothing reads go, each one an insert per posted row: the `varchar_pattern_ops`
  copies of the idempotency-key indexes (keys are only looked up by equality), the entries'
  account, partnership, company and agency indexes (reads go by transaction, or by tenant and
  time through entry_co_time_idx / entry_ag_time_idx; flows per account are the accounts'
  running totals, 0006) and the transactions' partnership, company and agency indexes
  (conversions are counted through credits_tx_convert_idx).

TRUNCATE is left alone as in 0003. On SQLite (the embedded demo) only the field changes apply.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

FORWARD = """
DROP TRIGGER IF EXISTS credits_ledgerentry_balanced ON credits_ledgerentry;

CREATE OR REPLACE FUNCTION credits_check_new_entries() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    -- No LIMIT in these queries (INTO keeps the first row anyway): with one, the planner
    -- bets on finding a bad row early and may pick a plan that reads the whole ledger. The
    -- LATERAL look-ups keep the work proportional to the statement's rows, not the history.
    SELECT n.idempotency_key, n.account_id INTO bad
      FROM credits_new_entries n
      LEFT JOIN credits_ledgeraccount a ON a.id = n.account_id
     WHERE a.id IS NULL
        OR (a.partnership_id, a.company_id, a.agency_id, a.name, a.unit)
           IS DISTINCT FROM (n.partnership_id, n.company_id, n.agency_id, n.account_name, n.unit);
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % does not match its account %',
            bad.idempotency_key, bad.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    SELECT x.transaction_id INTO bad
      FROM (SELECT DISTINCT transaction_id, partnership_id, company_id, agency_id
              FROM credits_new_entries) x
      LEFT JOIN LATERAL (SELECT t.partnership_id, t.company_id, t.agency_id
                           FROM credits_ledgertransaction t
                          WHERE t.id = x.transaction_id
                         OFFSET 0) t ON true
     WHERE (t.partnership_id, t.company_id, t.agency_id)
           IS DISTINCT FROM (x.partnership_id, x.company_id, x.agency_id);
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry of transaction % does not match its transaction',
            bad.transaction_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;

    SELECT x.transaction_id, s.unit, s.total INTO bad
      FROM (SELECT DISTINCT transaction_id FROM credits_new_entries) x
     CROSS JOIN LATERAL (SELECT e.unit, SUM(e.amount) AS total
                           FROM credits_ledgerentry e
                          WHERE e.transaction_id = x.transaction_id
                          GROUP BY e.unit) s
     WHERE s.total <> 0;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % sums to %',
            bad.transaction_id, bad.unit, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledgerentry_checked
    AFTER INSERT ON credits_ledgerentry
    REFERENCING NEW TABLE AS credits_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION credits_check_new_entries();

CREATE OR REPLACE FUNCTION credits_account_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'ledger accounts are never deleted (account %)', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (NEW.id, NEW.partnership_id, NEW.company_id, NEW.agency_id, NEW.name, NEW.unit)
       IS DISTINCT FROM (OLD.id, OLD.partnership_id, OLD.company_id, OLD.agency_id, OLD.name,
                         OLD.unit) THEN
        RAISE EXCEPTION 'a ledger account keeps its partnership, owners, name and unit (account %)',
            OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledgeraccount_guard
    BEFORE DELETE OR UPDATE OF id, partnership_id, company_id, agency_id, name, unit
    ON credits_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION credits_account_guard();

DO $$
DECLARE
    ix record;
BEGIN
    FOR ix IN
        SELECT i.indexname FROM pg_indexes i
         WHERE i.schemaname = current_schema()
           AND i.tablename IN ('credits_ledgerentry', 'credits_ledgertransaction')
           AND i.indexdef LIKE '%(idempotency_key varchar_pattern_ops)%'
    LOOP
        EXECUTE format('DROP INDEX %I', ix.indexname);
    END LOOP;
END;
$$;
"""

BACKWARD = """
CREATE INDEX IF NOT EXISTS credits_ledgerentry_idempotency_key_like
    ON credits_ledgerentry (idempotency_key varchar_pattern_ops);
CREATE INDEX IF NOT EXISTS credits_ledgertransaction_idempotency_key_like
    ON credits_ledgertransaction (idempotency_key varchar_pattern_ops);
DROP TRIGGER IF EXISTS credits_ledgeraccount_guard ON credits_ledgeraccount;
DROP FUNCTION IF EXISTS credits_account_guard();
DROP TRIGGER IF EXISTS credits_ledgerentry_checked ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_check_new_entries();
CREATE CONSTRAINT TRIGGER credits_ledgerentry_balanced
    AFTER INSERT ON credits_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION credits_check_balanced();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


def _tenant_key(to: str) -> models.ForeignKey:
    return models.ForeignKey(
        db_constraint=False,
        db_index=False,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0005_placement_fewer_indexes"),
        ("companies", "0002_initial"),
        ("credits", "0006_account_totals"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="credits.ledgeraccount",
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry", name="agency", field=_tenant_key("agencies.agency")
        ),
        migrations.AlterField(
            model_name="ledgerentry", name="company", field=_tenant_key("companies.company")
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="partnership",
            field=_tenant_key("companies.partnership"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction", name="agency", field=_tenant_key("agencies.agency")
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="company",
            field=_tenant_key("companies.company"),
        ),
        migrations.AlterField(
            model_name="ledgertransaction",
            name="partnership",
            field=_tenant_key("companies.partnership"),
        ),
        migrations.RunPython(forward, backward),
    ]
