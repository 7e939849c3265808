"""Production settings refuse to start without SECRET_KEY or ALLOWED_HOSTS, and with them
`manage.py check --deploy` reports no warning at all."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


PII_KEYS = {
    "PII_ENCRYPTION_KEYS": "bXktb3duLXByb2R1Y3Rpb24ta2V5LTMyLWJ5dGVzISE=",
    "PII_HMAC_KEY": "my-own-production-hmac-key",
}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "DEBUG"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "careerrelay.settings.production"
    base.update(PII_KEYS)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _secret() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


def test_check_deploy_is_clean():
    result = _run("check", "--deploy", SECRET_KEY=_secret(), ALLOWED_HOSTS="example.com")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr
    assert "WARNING" not in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ALLOWED_HOSTS": "example.com"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 50}, "ALLOWED_HOSTS"),
        ({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secret_key_or_hosts(env, message):
    result = _run("check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    "pii",
    [
        {"PII_HMAC_KEY": ""},
        {"PII_ENCRYPTION_KEYS": ""},
        {"PII_HMAC_KEY": "local-demo-hmac-key-change-me"},
    ],
)
def test_production_refuses_to_start_on_missing_or_demo_pii_keys(pii):
    result = _run("check", SECRET_KEY=_secret(), ALLOWED_HOSTS="example.com", **pii)
    assert result.returncode != 0
    assert "PII_" in result.stderr
