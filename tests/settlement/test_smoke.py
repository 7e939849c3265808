from __future__ import annotations

import datetime as dt

from credits.models import LedgerTransaction
from credits.settlement import settle_period
from tests.settlement.helpers import (
    assert_ledger_consistent,
    backdate_referral,
    make_referral,
    rebate_balance,
)


def test_smoke(partnership, other_company, api_client_for, agency):
    referral = make_referral(partnership)
    backdate_referral(referral, 400)
    api = api_client_for(agency)
    start = dt.date.today() - dt.timedelta(days=200)
    r = api.post(
        "/api/v1/placements/",
        {
            "referral": referral.pk,
            "hiring_company_name": other_company.name,
            "annual_salary_jpy": 6_000_001,
            "start_date": start.isoformat(),
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    period = body["guarantee_ends_on"][:7]
    run = settle_period(period=period)
    assert run.rebates_posted == 1
    assert rebate_balance(partnership) == body["fee_jpy"] // 10
    assert LedgerTransaction.objects.unscoped().count() == 1
    assert_ledger_consistent()
