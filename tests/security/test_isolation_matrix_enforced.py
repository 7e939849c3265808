"""The isolation matrix, a second time, under enforced row-level security as the application's
login role.

`manage.py db_app_role` creates a real LOGIN role (neither owner nor superuser, no BYPASSRLS) on
the test database, exactly as a deployment does after `migrate`; the matrix then runs in a
subprocess whose DATABASE_URL names that role and whose DATABASE_RLS is `enforce`: the world is
built with an operator's explicit bypass, every request runs with the context the middleware or
the API key sets (SET LOCAL), and every foreign cell must still answer 404/401/403 with no
sentinel. When the first run happened in this session, its record of what each owner saw is the
baseline: under RLS every page must still show its owner all of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.security import test_isolation_matrix as first_run

pytestmark = pytest.mark.skipif(not settings.USING_POSTGRES, reason="RLS is PostgreSQL's")
ROOT = Path(__file__).resolve().parents[2]


def test_the_isolation_matrix_holds_under_enforced_rls_as_the_app_login_role(
    app_login_role: tuple[str, str], tmp_path: Path
) -> None:
    _, url = app_login_role
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST", "DATABASE_APP_ROLE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="careerrelay.settings.test",
        DATABASE_URL=url,
        DATABASE_RLS="enforce",
        RLS_MATRIX_EXISTING_DB="1",
        PYTHONPATH=str(ROOT),
    )
    if first_run.SEEN:
        baseline = tmp_path / "seen.json"
        baseline.write_text(json.dumps(first_run.SEEN))
        env["RLS_MATRIX_BASELINE"] = str(baseline)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/security/test_isolation_matrix.py", "-v", "-s"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary, summary
    # The role check ran (so the run was enforced), and the baseline check when there was one.
    assert "test_the_run_connects_as_configured PASSED" in output, output[-3000:]
    if first_run.SEEN:
        assert "test_zz_rls_hides_nothing_the_owner_may_see PASSED" in output, output[-3000:]
    assert "skipped" not in summary, summary
    print(  # noqa: T201
        "\nenforced " + next(line for line in output.splitlines() if "isolation matrix:" in line)
    )
