"""With a real Celery worker on Redis: a registration is attributed to its click once the drain
has moved it, and a worker killed mid-drain loses and duplicates nothing."""

from __future__ import annotations

import time

import pytest

from referrals import clicks
from referrals.models import Click, Referral
from referrals.tasks import click_drain
from tests.referrals.conftest import form_data
from tests.worker import start_worker, stop_worker

pytestmark = pytest.mark.worker

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def wait_for(predicate, timeout: float = 30.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def test_registration_is_attributed_to_its_click_by_the_worker(live_worker, client, link) -> None:
    r = client.get(f"/r/{link.token}/", HTTP_USER_AGENT=IPHONE)
    uid = r.cookies[clicks.COOKIE_NAME].value
    time.sleep(1.1)
    assert client.post(f"/r/{link.token}/", form_data()).status_code == 302
    referral = Referral.all_objects.get()
    assert str(referral.click_uid) == uid
    # The attribution task runs on the worker and waits (retries) for the click to be drained.
    time.sleep(1)
    assert Referral.all_objects.get().click_id is None
    click_drain.delay()
    assert wait_for(lambda: Referral.all_objects.get().click_id is not None)
    referral = Referral.all_objects.get()
    click = Click.all_objects.get()
    assert referral.click_id == click.pk
    assert str(click.uid) == uid
    assert referral.seconds_to_register >= 1
    assert referral.attributed_at is not None
    assert click.classification == "human"
    assert click.is_unique


@pytest.mark.slow
def test_worker_killed_mid_drain_loses_and_duplicates_nothing(live_worker, link) -> None:
    conn = clicks.client()
    total = 40_000
    events = [
        clicks.new_event(
            link=link,
            method="GET",
            user_agent=IPHONE,
            ip=f"10.{i // 65000}.{i // 250 % 250}.{i % 250}",
        )
        for i in range(total)
    ]
    pipe = conn.pipeline(transaction=False)
    for start in range(0, total, 5000):
        pipe.rpush(clicks.PENDING_KEY, *[e.to_json() for e in events[start : start + 5000]])
    pipe.execute()
    click_drain.delay()
    assert wait_for(lambda: Click.all_objects.count() > 0, timeout=30, step=0.01)
    stop_worker(live_worker, kill=True)  # SIGKILL the whole worker process group
    stored_at_kill = Click.all_objects.count()
    left_in_processing = conn.llen(clicks.PROCESSING_KEY)
    assert stored_at_kill < total, "the drain finished before it could be killed"
    assert conn.exists(clicks.LOCK_KEY)  # the dead drain's lock is still there, until its TTL

    worker = start_worker()
    try:

        def drained() -> bool:
            if clicks.pending_count() == 0:
                return True
            click_drain.delay()
            return False

        assert wait_for(drained, timeout=120, step=2)
        assert wait_for(lambda: Click.all_objects.count() == total, timeout=30)
    finally:
        stop_worker(worker)
    assert Click.all_objects.count() == total
    stored = set(map(str, Click.all_objects.values_list("uid", flat=True)))
    assert stored == {e.uid for e in events}
    assert Click.all_objects.filter(is_unique=True).count() == total  # every event a new visitor
    print(f"killed with {stored_at_kill} stored and {left_in_processing} in processing")  # noqa: T201
