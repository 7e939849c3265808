from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path", ["/app/team/", "/app/api-keys/", "/app/partners/", "/app/onboarding/"]
)
def test_hr_pages_render(client_for, hr_user, agency, path):
    response = client_for(hr_user).get(path)
    assert response.status_code == 200, response.content.decode()[:2000]


@pytest.mark.parametrize("path", ["/partner/team/", "/partner/api-keys/", "/partner/partnerships/"])
def test_partner_pages_render(client_for, recruiter, partnership, path):
    response = client_for(recruiter).get(path)
    assert response.status_code == 200, response.content.decode()[:2000]
