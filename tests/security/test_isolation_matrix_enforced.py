"""The isolation matrix, a second time, under enforced row-level security as the application's
login role.

`manage.py db_app_role` creates a real LOGIN role (neither owner nor superuser, no BYPASSRLS) on
the test database, exactly as a deployment does after `migrate`; the matrix then runs in a
subprocess whose DATABASE_URL names that role and whose DATABASE_RLS is `enforce`: the world is
built with an operator's explicit bypass, every request runs with the context the middleware or
the API key sets (SET LOCAL), and every foreign cell must still answer 404/401/403 with no
sentinel, every owner must still see its own rows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="RLS is PostgreSQL's")
ROOT = Path(__file__).resolve().parents[2]


def _app_role_url(role: str) -> str:
    d = connection.settings_dict
    return f"postgres://{role}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def test_the_isolation_matrix_holds_under_enforced_rls_as_the_app_login_role(
    transactional_db: Any,
) -> None:
    # transactional_db: the role and its grants are committed, so the subprocess sees them.
    if True:
        role = re.sub(r"[^a-z0-9_]", "_", f"{connection.settings_dict['NAME']}_app".lower())[:63]
        call_command("db_app_role", role=role, password_env="RLS_MATRIX_NO_PASSWORD")
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "DATABASE_APP_ROLE"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="careerrelay.settings.test",
            DATABASE_URL=_app_role_url(role),
            DATABASE_RLS="enforce",
            RLS_MATRIX_EXISTING_DB="1",
            PYTHONPATH=str(ROOT),
        )
        try:
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "tests/security/test_isolation_matrix.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-s",
                    "--no-header",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP OWNED BY "{role}"')
                cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = output.strip().splitlines()[-1]
    assert " passed" in summary, summary
    assert "skipped" not in summary, summary  # the role check ran, so the run was enforced
    assert "isolation matrix:" in output
    print(  # noqa: T201
        "\nenforced " + next(line for line in output.splitlines() if "isolation matrix:" in line)
    )
