"""The landing page's link cache across processes: a process without its own copy of the link
reads the shared copy and records the click in one Redis round trip (clicks._READ_CAPTURE); the
copy's version and opening hours are checked by that script, so a shared copy never serves a
page or a click that the database would refuse."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from referrals import clicks, selectors
from referrals.models import ReferralLink
from tests.referrals.conftest import landing_link_copy


def queued() -> list[dict]:
    return [json.loads(raw) for raw in clicks.client().lrange(clicks.PENDING_KEY, 0, -1)]


def redis_calls() -> dict[str, int]:
    stats = clicks.client().info("commandstats")
    return {name: value["calls"] for name, value in stats.items()}


def round_trips(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The commands sent between two readings of the command statistics; Redis counts the
    commands a script runs too, so those are taken off (once per script run)."""
    sent = {k[8:]: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    sent.pop("info", None)  # the measurement's own
    scripts = sent.get("evalsha", 0)
    for inner in ("get", "rpush"):  # run exactly once by each capture script
        sent[inner] = sent.get(inner, 0) - scripts
    for inner in ("hmget", "incr", "expire"):  # the shared copy's read; the flood window's
        sent[inner] = max(sent.get(inner, 0) - scripts, 0)
    return {k: v for k, v in sent.items() if v}


def test_a_process_without_the_copy_records_the_click_in_one_round_trip(
    client, link, django_assert_num_queries
) -> None:
    client.get(f"/r/{link.token}/")  # another process read the database and shared the copy
    selectors.clear_local_cache()
    before = redis_calls()
    with django_assert_num_queries(0):
        r = client.get(f"/r/{link.token}/", REMOTE_ADDR="198.51.100.20")
    assert r.status_code == 200
    assert round_trips(before, redis_calls()) == {"evalsha": 1}
    event = queued()[-1]
    assert (event["l"], event["c"], event["a"]) == (link.pk, link.company_id, link.agency_id)
    assert event["u"] == r.cookies[clicks.COOKIE_NAME].value
    assert clicks.ClickEvent.from_data(event) is not None
    # ... and keeps the copy: the next view is the one capture round trip.
    before = redis_calls()
    client.get(f"/r/{link.token}/")
    assert round_trips(before, redis_calls()) == {"evalsha": 1}
    assert len(queued()) == 3


def test_a_shared_copy_past_the_links_expiry_serves_the_gone_page_and_records_nothing(
    client, link
) -> None:
    ReferralLink.all_objects.filter(pk=link.pk).update(
        expires_at=timezone.now() + dt.timedelta(seconds=1)
    )
    client.get(f"/r/{link.token}/")  # shared while still open
    selectors.clear_local_cache()
    key = clicks.COPY_KEY_PREFIX + link.token
    conn = clicks.client()
    conn.hset(key, "o", repr(timezone.now().timestamp() - 1))  # as if a second later
    expired = json.loads(conn.hget(key, "d"))
    expired["expires_at"] = timezone.now().timestamp() - 1
    conn.hset(key, "d", json.dumps(expired))
    assert client.get(f"/r/{link.token}/").status_code == 410
    assert len(queued()) == 1


def test_a_shared_copy_of_an_older_version_is_read_again_from_the_database(
    client, link, company, django_capture_on_commit_callbacks
) -> None:
    client.get(f"/r/{link.token}/")
    old = clicks.client().hgetall(clicks.COPY_KEY_PREFIX + link.token)
    with django_capture_on_commit_callbacks(execute=True):
        company.landing_message = "共有キャッシュの後で変えた文面"
        company.save()
    clicks.client().hset(clicks.COPY_KEY_PREFIX + link.token, mapping=old)  # a late writer
    page = client.get(f"/r/{link.token}/").content.decode()
    assert "共有キャッシュの後で変えた文面" in page
    assert len(queued()) == 2
    shared = clicks.client().hget(clicks.COPY_KEY_PREFIX + link.token, "v").decode()
    assert shared == selectors.landing_version() != old[b"v"].decode()


def test_an_unknown_token_is_shared_too(client, db, django_assert_num_queries) -> None:
    token = "UnknownToken0123456789"
    assert client.get(f"/r/{token}/").status_code == 404
    selectors.clear_local_cache()
    with django_assert_num_queries(0):
        assert client.get(f"/r/{token}/").status_code == 404
    assert queued() == []


def test_the_flood_limit_counts_views_recorded_from_the_shared_copy(client, link, settings) -> None:
    settings.CLICK_FLOOD_PER_MINUTE = 3
    statuses = []
    for _ in range(5):
        selectors.clear_local_cache()
        statuses.append(client.get(f"/r/{link.token}/", REMOTE_ADDR="203.0.113.77").status_code)
    assert statuses == [200] * 3 + [429] * 2
    assert len(queued()) == 3


def test_with_redis_down_the_page_reads_the_database_and_writes_the_click(
    client, link, settings
) -> None:
    from referrals.models import Click

    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    clicks._clients.clear()
    try:
        r = client.get(f"/r/{link.token}/")
    finally:
        clicks._clients.clear()
    assert r.status_code == 200
    assert Click.all_objects.filter(link=link).count() == 1


TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@examples(max_examples=200, deadline=None)
@given(
    license_days=st.integers(min_value=-2, max_value=3),
    expires_in=st.one_of(st.none(), st.floats(min_value=-86400, max_value=3 * 86400)),
    later=st.floats(min_value=0, max_value=4 * 86400),
    active=st.booleans(),
    verified=st.booleans(),
)
def test_a_copys_opening_hours_agree_with_the_links_own_rules(
    license_days: int, expires_in: float | None, later: float, active: bool, verified: bool
) -> None:
    """The capture script and LandingLink.is_open both decide "open" by the copy's `open_until`.
    At any moment after the copy is made, for any link expiry and licence expiry date, it agrees
    with the rules written out here: the licence closes at the local (Asia/Tokyo) midnight after
    its last day."""
    with timezone.override(TOKYO):
        now = timezone.now()
        link = landing_link_copy(
            is_active=active,
            expires_at=None if expires_in is None else now.timestamp() + expires_in,
            agency_license_expires_on=(
                timezone.localdate(now) + dt.timedelta(days=license_days)
            ).isoformat(),
            agency_license_verified=verified,
        )
        open_until = link.open_until
    moment = now.timestamp() + later
    last_day = dt.date.fromisoformat(link.agency_license_expires_on)
    expected = (
        active
        and verified
        and dt.datetime.fromtimestamp(moment, TOKYO).date() <= last_day
        and (link.expires_at is None or link.expires_at > moment)
    )
    assert (open_until > moment) == expected


@pytest.mark.parametrize("kind", ["human", "scanner"])
def test_event_json_round_trips(link, kind) -> None:
    agent = "Mozilla/5.0 (iPhone)" if kind == "human" else "Mimecast URL protect"
    event = clicks.new_event(link=link, method="GET", user_agent=agent, ip="192.0.2.1")
    assert clicks.ClickEvent.from_json(event.to_json()) == dataclasses_round(event)


def dataclasses_round(event: clicks.ClickEvent) -> clicks.ClickEvent:
    import dataclasses

    return dataclasses.replace(event, ts=round(event.ts, 3))


@examples(max_examples=200, deadline=None)
@given(now=st.floats(min_value=0, max_value=2**48 / 1000 - 1, allow_nan=False))
def test_click_uids_are_time_ordered_version_7_uuids(now: float) -> None:
    import uuid

    uid = clicks.new_uid(now)
    parsed = uuid.UUID(uid)
    assert str(parsed) == uid  # canonical, as the drain's fast check expects
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parsed.int >> 80 == int(now * 1000)
    later = clicks.new_uid(now + 0.002)
    assert later > uid  # a later millisecond sorts after, as text and in the index
    assert len({clicks.new_uid(now) for _ in range(50)}) == 50
