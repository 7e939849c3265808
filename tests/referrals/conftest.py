"""Fixtures of the candidate-journey tests: links on the shared partnership, clean caches."""

from __future__ import annotations

from typing import Any

import pytest

from referrals import clicks, selectors, services
from referrals.models import LinkKind


@pytest.fixture(autouse=True)
def _fresh_link_cache() -> None:
    selectors.clear_local_cache()


@pytest.fixture(autouse=True)
def _empty_click_queues(db: Any) -> None:
    conn = clicks.client()
    if conn is not None:
        conn.delete(clicks.PENDING_KEY, clicks.PROCESSING_KEY, clicks.LOCK_KEY)


@pytest.fixture
def link(partnership: Any, hr_user: Any) -> Any:
    created, _ = services.link_create(
        partnership=partnership, label="2026年秋 中途採用", created_by=hr_user
    )
    return created


@pytest.fixture
def other_link(other_partnership: Any) -> Any:
    created, _ = services.link_create(partnership=other_partnership, label="other")
    return created


@pytest.fixture
def personal_link(partnership: Any) -> Any:
    created, _ = services.link_create(
        partnership=partnership,
        label="個別",
        kind=LinkKind.PERSONAL,
        candidate_email="hanako@example.jp",
        candidate_name="山田 花子",
    )
    return created


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "山田 太郎",
        "email": "taro@example.jp",
        "phone": "090-1234-5678",
        "desired_role": "法人営業",
        "prefecture": "東京都",
        "consent_privacy": "on",
        "consent_third_party": "on",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def landing_link_copy(**fields: Any) -> selectors.LandingLink:
    """A link as the landing cache holds it: an open campaign link unless `fields` say
    otherwise."""
    values: dict[str, Any] = {
        "id": 1,
        "token": "AbCdEfGhIjKlMnOpQrStUv",
        "kind": "campaign",
        "company_id": 1,
        "agency_id": 2,
        "partnership_id": 3,
        "is_active": True,
        "expires_at": None,
        "partnership_status": "active",
        "company_name": "c",
        "company_logo_url": "",
        "company_message": "",
        "agency_name": "a",
        "agency_license_number": "13-ユ-000000",
        "agency_license_expires_on": "2099-01-01",
        "agency_license_verified": True,
        "agency_contact_email": "a@example.jp",
        "agency_privacy_policy_url": "",
    }
    values.update(fields)
    return selectors.LandingLink(**values)
