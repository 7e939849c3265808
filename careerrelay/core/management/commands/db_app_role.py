"""`manage.py db_app_role [--role careerrelay_app] [--password-env DATABASE_APP_PASSWORD]`:
create (or bring up to date) the login role the application connects as under row-level
security, and grant it row access to every table, now and after later migrations.

Run it as the database owner (the role that migrates), after `migrate`; it is idempotent. It
prints what it did and the checks it made, never the password, which it reads from the named
environment variable (left unchanged when that variable is empty: trust or peer auth)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from careerrelay.core import rls


class Command(BaseCommand):
    help = "Create the application's database login role (neither owner nor superuser)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default="careerrelay_app", help="the role's name")
        parser.add_argument(
            "--password-env",
            default="DATABASE_APP_PASSWORD",
            help="environment variable holding the role's password",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("db_app_role is for PostgreSQL (the demo's SQLite has no roles)")
        role = options["role"]
        password = os.environ.get(options["password_env"], "")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename = 'django_migrations'"
            )
            row = cursor.fetchone()
            if row is None:
                raise CommandError("run `manage.py migrate` first: the tables do not exist yet")
            owner = row[0]
            if owner == role:
                raise CommandError(f"{role} owns the tables: choose another name for the app role")
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            existed = cursor.fetchone() is not None
            try:
                statements = rls.app_role_statements(
                    role=role, owner=owner, database=connection.settings_dict["NAME"]
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            for statement in statements:
                cursor.execute(statement)
            if password:
                # Client-side binding: the password travels as a quoted literal, never printed.
                cursor.execute(f'ALTER ROLE "{role}" PASSWORD %s', [password])
            problems = rls.role_problems(cursor, role)
            if problems:
                raise CommandError(
                    "; ".join(problems) + f": {role} would see past row-level security"
                )
            cursor.execute(
                "SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p')), "
                "count(*) FILTER (WHERE c.relkind = 'S'), "
                "count(*) FILTER (WHERE c.relrowsecurity AND c.relforcerowsecurity) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND has_table_privilege(%s, c.oid, 'SELECT')",
                [role],
            )
            tables, sequences, forced = cursor.fetchone()
        self.stdout.write(
            f"role {role}: {'updated' if existed else 'created'} (login; not superuser, no "
            f"BYPASSRLS, owns no table, not a member of the owner {owner}); password "
            f"{'set from $' + options['password_env'] if password else 'unchanged'}"
        )
        self.stdout.write(
            f"grants: {tables} tables ({forced} with forced row-level security), {sequences} "
            f"sequences; default privileges for tables {owner} creates later"
        )
