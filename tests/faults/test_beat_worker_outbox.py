"""Two beat schedulers at once, a worker killed at random points of click ingestion, and the
transactional outbox while the broker is down: real processes on our own redis-server."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from careerrelay.core.models import Notification, OutboxMessage
from credits.models import Statement, StatementKind
from referrals.models import Click, ReferralLink
from tests.factories import (
    AgencyFactory,
    CompanyFactory,
    CompanyMemberFactory,
    PartnershipFactory,
    UserFactory,
)
from tests.faults.harness import ROOT, Browser, RedisServer, Stack, count_lines, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs PostgreSQL (always in CI)"),
]
SENT_DRAIN = r"Sending due task clicks-drain"


@pytest.fixture
def stack(tmp_path: Path, transactional_db: Any) -> Any:
    redis = RedisServer(tmp_path)
    redis.start()
    s = Stack(redis=redis, tmp=tmp_path)
    try:
        yield s
    finally:
        s.stop_all()
        redis.stop()


def test_two_beats_schedule_each_periodic_job_once_and_fail_over(stack: Stack) -> None:
    # Baseline: two plain PersistentSchedulers both send every due task.
    plain = "celery.beat:PersistentScheduler"
    stack.start_beat("plain-1", plain)
    stack.start_beat("plain-2", plain)
    time.sleep(16)
    stack.stop("plain-1")
    stack.stop("plain-2")
    plain_sends = [count_lines(stack.log(n), SENT_DRAIN) for n in ("plain-1", "plain-2")]
    assert all(n >= 2 for n in plain_sends), plain_sends  # the duplicate the fix removes

    # The project's scheduler: only the leader sends.
    stack.start_beat("beat-1")
    stack.start_beat("beat-2")
    time.sleep(16)
    sends = {n: count_lines(stack.log(n), SENT_DRAIN) for n in ("beat-1", "beat-2")}
    leaders = [n for n, count in sends.items() if count]
    assert len(leaders) == 1, (sends, stack.log("beat-1")[-1500:], stack.log("beat-2")[-1500:])
    assert sends[leaders[0]] <= 16 / 5 + 2
    # The leader dies without resigning: the follower takes over once the lease lapses.
    follower = "beat-2" if leaders[0] == "beat-1" else "beat-1"
    stack.kill(leaders[0])
    assert wait_for(lambda: count_lines(stack.log(follower), SENT_DRAIN) > 0, timeout=25), (
        stack.log(follower)[-2000:]
    )
    print(f"\ntwo beats: plain {plain_sends} sends in 16 s; leader-elected {sends}")  # noqa: T201


def test_worker_killed_at_random_points_of_click_ingestion_loses_and_doubles_nothing(
    stack: Stack,
) -> None:
    # 400 views from one address: far above the per-address flood limit, which is not tested here.
    stack.extra_env["CLICK_FLOOD_PER_MINUTE"] = "100000"
    company = CompanyFactory(slug="killco")
    agency = AgencyFactory(slug="killag")
    partnership = PartnershipFactory(company=company, agency=agency)
    link = ReferralLink.all_objects.create(
        company=company,
        agency=agency,
        partnership=partnership,
        label="kill",
        token=f"kill{os.getpid()}token0123456789abc",
    )
    stack.start_web()
    base = f"http://127.0.0.1:{stack.web_port}"
    views = 400
    browser = Browser(base)
    for _ in range(views):
        status, _, _ = browser.get(f"/r/{link.token}/")
        assert status == 200
    assert Click.all_objects.filter(link=link).count() == 0  # all waiting in Redis
    stack.start_worker()
    stack.start_beat()
    rng = random.Random(os.getpid())
    kills = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and kills < 4:
        time.sleep(rng.uniform(0.3, 2.5))
        stack.kill("worker")
        kills += 1
        stack.supervise()
    assert wait_for(
        lambda: (
            (stack.supervise() or True) and Click.all_objects.filter(link=link).count() >= views
        ),
        timeout=90,
    ), (Click.all_objects.filter(link=link).count(), stack.log("worker")[-2000:])
    time.sleep(7)
    clicks = Click.all_objects.filter(link=link)
    assert clicks.count() == views
    assert clicks.values("uid").distinct().count() == views
    print(f"\nworker killed {kills}x during ingestion: {clicks.count()}/{views} clicks")  # noqa: T201


ENQUEUE = """
import json, sys, time, django
django.setup()
from django.db import transaction
from careerrelay.core.outbox import outbox_enqueue
ids = json.loads(sys.argv[1])
t = time.monotonic()
with transaction.atomic():
    for sid in ids:
        outbox_enqueue(key=f"statement-mail:{sid}", task_name="credits.statement_email",
                       kwargs={"statement_id": sid})
try:
    with transaction.atomic():
        outbox_enqueue(key="rolled-back", task_name="credits.statement_email",
                       kwargs={"statement_id": ids[0]})
        raise RuntimeError("the business transaction fails")
except RuntimeError:
    pass
print(json.dumps({"seconds": time.monotonic() - t}))
"""


def test_outbox_keeps_work_while_the_broker_is_down_and_relays_it_once(stack: Stack) -> None:
    statements = []
    for n in range(5):
        company = CompanyFactory(slug=f"outbox-{n}")
        CompanyMemberFactory(company=company, user=UserFactory(email=f"hr{n}@outbox.example"))
        statements.append(
            Statement.all_objects.create(
                company=company,
                kind=StatementKind.COMPANY,
                period="2026-10",
                issued_on="2026-11-01",
            )
        )
    ids = [s.pk for s in statements]
    stack.redis.kill()
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", ENQUEUE, json.dumps(ids)],
        cwd=ROOT,
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    took = json.loads(result.stdout.strip().splitlines()[-1])["seconds"]
    assert took < 2.0, took  # the broker is down: enqueueing must not wait for it
    pending = OutboxMessage.objects.filter(key__startswith="statement-mail:")
    assert pending.count() == 5
    assert pending.filter(sent_at__isnull=True).count() == 5
    assert not OutboxMessage.objects.filter(key="rolled-back").exists()

    stack.redis.start()
    stack.start_worker()
    stack.start_beat("beat-1")
    stack.start_beat("beat-2")
    assert wait_for(
        lambda: Notification.all_objects.filter(key__startswith="statement:").count() >= 5,
        timeout=60,
    ), stack.log("worker")[-2000:]
    time.sleep(12)  # another relay period from each beat: nothing may be sent again
    assert pending.filter(sent_at__isnull=True).count() == 0
    assert Notification.all_objects.filter(key__startswith="statement:").count() == 5
    mails = stack.mails()
    assert len(mails) == 5
    for n in range(5):
        assert sum(f"hr{n}@outbox.example" in m for m in mails) == 1
    # The relay ran on both beats' schedule but each message went out once.
    assert "core.outbox_relay" in stack.log("beat-1") + stack.log("beat-2")
