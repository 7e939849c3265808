"""Shared fixtures: several tenants ready, so a cross-tenant test is one line.

In CI (CI set) the suite refuses to run unless it is on PostgreSQL and Redis answers: a run that
silently fell back to SQLite or eager tasks must fail, not pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import (
    PASSWORD,
    AgencyFactory,
    AgencyMemberFactory,
    CompanyFactory,
    CompanyMemberFactory,
    PartnershipFactory,
    UserFactory,
)


def _require_real_services() -> None:
    if not os.environ.get("CI"):
        return
    problems = []
    if not settings.USING_POSTGRES:
        problems.append("DATABASE_URL does not point at PostgreSQL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis does not answer: {exc}")
    if problems:
        pytest.exit("CI requires PostgreSQL and Redis: " + "; ".join(problems), returncode=3)


def pytest_configure(config: pytest.Config) -> None:
    _require_real_services()


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def company(db: Any):
    return CompanyFactory(slug="acme", name="株式会社アクメ")


@pytest.fixture
def other_company(db: Any):
    return CompanyFactory(slug="other-co", name="株式会社アザー")


@pytest.fixture
def agency(db: Any):
    return AgencyFactory(slug="good-agent", name="グッド人材紹介")


@pytest.fixture
def other_agency(db: Any):
    return AgencyFactory(slug="other-agent", name="アザー人材紹介")


@pytest.fixture
def partnership(company: Any, agency: Any):
    return PartnershipFactory(company=company, agency=agency)


@pytest.fixture
def other_partnership(other_company: Any, other_agency: Any):
    return PartnershipFactory(company=other_company, agency=other_agency)


@pytest.fixture
def hr_user(company: Any):
    return CompanyMemberFactory(company=company, user=UserFactory(email="hr@acme.example")).user


@pytest.fixture
def other_hr_user(other_company: Any):
    return CompanyMemberFactory(
        company=other_company, user=UserFactory(email="hr@other-co.example")
    ).user


@pytest.fixture
def recruiter(agency: Any):
    return AgencyMemberFactory(agency=agency, user=UserFactory(email="rec@good-agent.example")).user


@pytest.fixture
def other_recruiter(other_agency: Any):
    return AgencyMemberFactory(
        agency=other_agency, user=UserFactory(email="rec@other-agent.example")
    ).user


@pytest.fixture
def api_client_for(db: Any) -> Callable[[Any], APIClient]:
    """An API client authenticated with a fresh API key of the given organisation."""
    from careerrelay.core.apikeys import api_key_create

    def make(org: Any) -> APIClient:
        _, plaintext = api_key_create(tenant=org, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client

    return make


@pytest.fixture
def client_for(db: Any, client: Any) -> Callable[[Any], Any]:
    """A browser-like Django test client signed in as the user."""

    def make(user: Any) -> Any:
        client.force_login(user)
        return client

    return make


@pytest.fixture
def live_worker(transactional_db: Any) -> Iterator[Any]:
    """A real Celery worker process on Redis, reading the test database.

    Tasks sent by the test go through the broker (not eagerly). Tests using it see only
    committed data, hence `transactional_db`. Yields the Popen so a test can kill it.
    """
    from tests.worker import start_worker, stop_worker

    proc = start_worker()
    try:
        yield proc
    finally:
        stop_worker(proc)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download does not work here).
    In CI a missing Chromium fails the run; elsewhere the browser tests are skipped."""
    import shutil

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        if os.environ.get("CI"):
            pytest.fail("CI requires Debian's chromium at /usr/bin/chromium")
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while the tests' ORM calls stay
    # synchronous. Set only while a browser runs: other tests' deployment check must not see it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            instance = pw.chromium.launch(
                executable_path=executable,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    """The same Chromium under the name the page-layout tests use."""
    return chromium
