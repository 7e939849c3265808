"""Thin Celery wrappers around the settlement and statement services."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings

from careerrelay.core.outbox import outbox_enqueue
from credits import settlement, statements
from credits.models import SettlementRun

logger = logging.getLogger(__name__)


@contextmanager
def settlement_lock(period: str) -> Iterator[object | None]:
    """A Redis lock so two beats (or a beat and a manual trigger) don't both run a period.

    Yields the lock (refresh it with `.reacquire()`), or None when another holder has it. The
    lock only saves duplicate work; exactly-once comes from the SettlementRun row lock. It
    lapses after SETTLEMENT_LOCK_SECONDS without a refresh, so a killed worker's lock frees
    itself. Without Redis (the embedded demo) there is nothing to guard against: no lock."""
    if not settings.REDIS_URL:
        yield True
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    lock = client.lock(f"careerrelay:settlement:{period}", timeout=settings.SETTLEMENT_LOCK_SECONDS)
    if not lock.acquire(blocking=False):
        yield None
        return
    try:
        yield lock
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            logger.warning("settlement lock for %s had lapsed before release", period)


def _refresh(lock: object, period: str) -> None:
    """Keep our lock alive between chunks. Losing it is harmless (the run row serialises
    runners), so it is logged, not raised."""
    reacquire = getattr(lock, "reacquire", None)
    if reacquire is None:
        return
    import redis

    try:
        reacquire()
    except redis.exceptions.LockError:
        logger.warning("settlement lock for %s was lost; continuing under the row lock", period)


def _settle(period: str) -> str:
    settlement.period_bounds(period)  # a malformed period fails loudly, before any lock
    finished = SettlementRun.objects.filter(
        period=period, status=SettlementRun.Status.DONE, statements_rendered__gt=0
    )
    if finished.exists():
        return SettlementRun.Status.DONE  # settled and rendered: a re-run is one query
    with settlement_lock(period) as lock:
        if lock is None:
            logger.info("settlement %s is running elsewhere; nothing to do", period)
            return "busy"
        run = settlement.settle_period(period=period, on_chunk=lambda: _refresh(lock, period))
    # Rendering is idempotent, so every trigger may ask for it (it also finishes a render that
    # a crash interrupted).
    outbox_enqueue(
        key=f"statements:{period}:{uuid.uuid4().hex}",
        task_name="credits.render_statements",
        kwargs={"period": period},
    )
    return run.status


@shared_task(name="credits.settle_period", ignore_result=True, acks_late=True)
def settle_period_task(period: str) -> str:
    """Settle one period's rebates (idempotent), then queue its statements."""
    return _settle(period)


@shared_task(name="credits.settle_previous_month", ignore_result=True, acks_late=True)
def settle_previous_month_task() -> str:
    """Beat entry (the 1st of each month, Asia/Tokyo): settle the month that just ended."""
    return _settle(settlement.previous_period())


@shared_task(name="credits.render_statements", ignore_result=True, acks_late=True)
def render_statements_task(period: str) -> int:
    """Render the period's statement PDFs (idempotent) and queue the emails."""
    return statements.statements_render_period(period=period)


@shared_task(name="credits.statement_email", ignore_result=True, acks_late=True)
def statement_email_task(statement_id: int) -> bool:
    """Tell an organisation its statement is ready (once)."""
    return statements.statement_email(statement_id=statement_id)
