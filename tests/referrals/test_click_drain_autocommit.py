"""The drain as the worker runs it, outside any transaction: each batch is one INSERT statement,
tried without ON CONFLICT first. A batch re-processed after a drain died past its commit finds
its uids stored; it is inserted again without a lost or doubled click, uniqueness unchanged, and
a referral waiting for one of its clicks is still attributed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from referrals import clicks, services
from referrals.models import Click, Referral
from referrals.tasks import click_drain
from tests.referrals.conftest import form_data

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


@pytest.mark.django_db(transaction=True)
def test_a_batch_partly_stored_is_drained_again_without_loss_or_duplicates(
    client: Any, link: Any
) -> None:
    r = client.get(f"/r/{link.token}/", HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9")
    registered_uid = r.cookies[clicks.COOKIE_NAME].value
    assert client.post(f"/r/{link.token}/", form_data()).status_code == 302
    assert Referral.all_objects.get().click_id is None  # its click is still in Redis
    conn = clicks.client()
    # 1,200 visitors, each viewing twice: the second view is never unique.
    events = [
        clicks.new_event(
            link=link, method="GET", user_agent=IPHONE, ip=f"10.0.{v // 250}.{v % 250}"
        )
        for v in [i % 1200 for i in range(2400)]
    ]
    conn.rpush(clicks.PENDING_KEY, *[e.to_json() for e in events])
    # A drain moved the first batch (the registered click and 999 more) to the processing list
    # and died; some of its clicks were stored meanwhile (written while Redis timed out).
    for _ in range(1000):
        conn.lmove(clicks.PENDING_KEY, clicks.PROCESSING_KEY, "LEFT", "RIGHT")
    batch = [clicks.ClickEvent.from_json(raw) for raw in conn.lrange(clicks.PROCESSING_KEY, 0, -1)]
    assert batch[0].uid == registered_uid
    services.clicks_ingest(batch[1:500])
    assert Click.all_objects.count() == 499
    assert not connection.in_atomic_block  # each batch is one statement of its own

    assert click_drain() == 2401
    assert clicks.pending_count() == 0
    assert Click.all_objects.count() == 2401
    stored = set(map(str, Click.all_objects.values_list("uid", flat=True)))
    assert stored == {e.uid for e in events} | {registered_uid}
    assert Click.all_objects.filter(is_unique=True).count() == 1201
    referral = Referral.all_objects.get()
    assert str(referral.click.uid) == registered_uid
