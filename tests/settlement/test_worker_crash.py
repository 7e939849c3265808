"""A real Celery worker on Redis is killed (SIGKILL) in the middle of a settlement; running the
settlement again settles every placement exactly once."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis
from django.conf import settings

from agencies.models import Placement
from careerrelay.celery import app
from credits.models import LedgerTransaction, SettlementRun
from credits.settlement import previous_period
from tests.factories import CompanyFactory, PartnershipFactory
from tests.settlement.helpers import assert_ledger_consistent, make_placements, rebate_balance
from tests.worker import start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

N_PER_PARTNERSHIP = 300


def _settled() -> int:
    return Placement.objects.unscoped().exclude(rebate_period="").count()


def _wait(predicate, timeout: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_killing_the_worker_mid_settlement_then_running_again_settles_each_line_once(
    agency, other_company, monkeypatch
):
    # Small chunks make the run long enough to be caught half-way; a short Redis lock lets
    # the killed worker's lock lapse quickly (both are ordinary settings).
    monkeypatch.setenv("SETTLEMENT_CHUNK_SIZE", "3")
    monkeypatch.setenv("SETTLEMENT_LOCK_SECONDS", "2")
    period = previous_period()
    ends = dt.date.fromisoformat(f"{period}-20")
    partnerships = [PartnershipFactory(company=CompanyFactory(), agency=agency) for _ in range(2)]
    placements = [
        p
        for partnership in partnerships
        for p in make_placements(
            partnership,
            N_PER_PARTNERSHIP,
            hiring_company=other_company,
            fee_jpy=1_000_009,
            guarantee_ends_on=ends,
        )
    ]
    total = len(placements)
    redis.Redis.from_url(settings.REDIS_URL).delete(f"careerrelay:settlement:{period}")

    worker = start_worker()
    try:
        app.send_task("credits.settle_period", kwargs={"period": period})
        assert _wait(lambda: _settled() >= 30, timeout=60), "the settlement never started"
        stop_worker(worker, kill=True)
    finally:
        stop_worker(worker)
    half_way = _settled()
    assert 0 < half_way < total, half_way
    assert SettlementRun.objects.get(period=period).status == "running"
    # What committed is consistent: one rebate per settled placement, balances = entries.
    assert LedgerTransaction.objects.unscoped().filter(kind="rebate").count() == half_way
    assert_ledger_consistent()

    time.sleep(2.5)  # the killed worker's lock lapses
    worker = start_worker()
    try:
        app.send_task("credits.settle_period", kwargs={"period": period})
        assert _wait(
            lambda: SettlementRun.objects.get(period=period).status == "done", timeout=120, step=0.2
        )
        # A third trigger after completion changes nothing.
        app.send_task("credits.settle_period", kwargs={"period": period})
        time.sleep(1.0)
    finally:
        stop_worker(worker)

    keys = sorted(
        LedgerTransaction.objects.unscoped()
        .filter(kind="rebate")
        .values_list("idempotency_key", flat=True)
    )
    assert keys == sorted(f"rebate:{p.pk}" for p in placements)
    assert _settled() == total
    for partnership in partnerships:
        assert rebate_balance(partnership) == N_PER_PARTNERSHIP * 100_000
    run = SettlementRun.objects.get(period=period)
    assert run.rebates_posted == total
    assert_ledger_consistent()
