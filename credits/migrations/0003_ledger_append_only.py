"""The database itself keeps the ledger append-only and balanced (PostgreSQL only).

- UPDATE and DELETE on ledger entries and ledger transactions raise.
- A deferred constraint trigger checks, at commit, that the entries of every transaction sum
  to zero per unit.

TRUNCATE is left alone on purpose: it is not a row operation an application issues, and the
test runner's flush uses it. On SQLite (the embedded demo) this migration does nothing.
"""

from __future__ import annotations

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION credits_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON credits_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION credits_refuse_change();

CREATE TRIGGER credits_ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON credits_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION credits_refuse_change();

CREATE OR REPLACE FUNCTION credits_check_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT unit, SUM(amount) AS total INTO bad
        FROM credits_ledgerentry
        WHERE transaction_id = NEW.transaction_id
        GROUP BY unit
        HAVING SUM(amount) <> 0
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % sums to %',
            NEW.transaction_id, bad.unit, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER credits_ledgerentry_balanced
    AFTER INSERT ON credits_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION credits_check_balanced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS credits_ledgerentry_balanced ON credits_ledgerentry;
DROP TRIGGER IF EXISTS credits_ledgertransaction_append_only ON credits_ledgertransaction;
DROP TRIGGER IF EXISTS credits_ledgerentry_append_only ON credits_ledgerentry;
DROP FUNCTION IF EXISTS credits_check_balanced();
DROP FUNCTION IF EXISTS credits_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
