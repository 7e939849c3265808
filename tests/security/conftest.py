from __future__ import annotations

import os
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.db import transaction

from careerrelay.core import rls
from tests.security.world import World, build_world

# Set by test_isolation_matrix_enforced.py for the matrix's second run: the database exists
# already (created and migrated by the parent run, as the owner) and this run connects to it
# as the application's login role.
EXISTING_DATABASE = os.environ.get("RLS_MATRIX_EXISTING_DB") == "1"

if EXISTING_DATABASE:

    @pytest.fixture(scope="session")
    def django_db_setup() -> None:
        """Use the database named by DATABASE_URL as it is: no creation, no migration."""


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """The sentinel world, built once per module inside a transaction that is rolled back at
    the end (each test runs in a savepoint inside it). Under enforced row-level security it is
    built as an operator would (explicit bypass), then the context is cleared."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            rls.activate_bypass()
            built = build_world()
            rls.clear()
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def app_login_role(transactional_db: Any) -> Iterator[tuple[str, str]]:
    """A real LOGIN role made by `manage.py db_app_role` on the test database (committed, so
    subprocesses see it), and the DATABASE_URL that connects as it. Dropped afterwards."""
    from django.core.management import call_command
    from django.db import connection

    d = connection.settings_dict
    role = re.sub(r"[^a-z0-9_]", "_", f"{d['NAME']}_app".lower())[:63]
    call_command("db_app_role", role=role, password_env="RLS_TEST_NO_PASSWORD", stdout=StringIO())
    url = f"postgres://{role}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"
    try:
        yield role, url
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
