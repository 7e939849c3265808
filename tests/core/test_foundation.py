from __future__ import annotations

import pytest
from django.db import connection

from careerrelay.core.tenancy_models import TenantScopeError
from companies.models import Partnership


def test_tenant_manager_is_fail_closed(partnership):
    with pytest.raises(TenantScopeError):
        list(Partnership.objects.all())
    assert list(Partnership.objects.for_tenant(partnership.company)) == [partnership]
    assert list(Partnership.objects.for_tenant(partnership.agency)) == [partnership]


def test_other_tenant_sees_nothing(partnership, other_company):
    assert not Partnership.objects.for_tenant(other_company).exists()


def test_suite_runs_on_the_configured_database(db, settings):
    assert connection.vendor == ("postgresql" if settings.USING_POSTGRES else "sqlite")
