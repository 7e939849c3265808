from __future__ import annotations

from careerrelay.core.apikeys import ApiKeyPrincipal, api_key_create
from careerrelay.core.audit import audit_record


def test_an_api_key_actor_is_recorded_by_its_key_prefix(company, hr_user):
    key, _ = api_key_create(tenant=company, name="ATS", created_by=hr_user)

    event = audit_record(actor=ApiKeyPrincipal(key), tenant=company, action="test.api")

    assert event.actor is None
    assert event.data == {"api_key": key.prefix}
    assert event.company == company


def test_a_user_actor_is_recorded_as_the_user(company, hr_user):
    event = audit_record(actor=hr_user, tenant=company, action="test.user")

    assert event.actor == hr_user
    assert "api_key" not in event.data
