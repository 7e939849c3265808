"""Click capture and filtering: bots, mail-security scanners, HEAD requests and repeats are
stored but not unique; the drain is idempotent and survives a crash; with Redis down the page
still renders and the click is written synchronously."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings

from referrals import clicks, services
from referrals.models import Click, ClickClass, Referral
from referrals.tasks import click_drain
from tests.referrals.conftest import form_data

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize(
    ("method", "ua", "expected"),
    [
        ("GET", IPHONE, ClickClass.HUMAN),
        ("GET", ANDROID, ClickClass.HUMAN),
        ("HEAD", IPHONE, ClickClass.HEAD),
        ("GET", "", ClickClass.BOT),
        ("GET", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
        ("GET", "curl/8.5.0", ClickClass.BOT),
        ("GET", "python-requests/2.32.3", ClickClass.BOT),
        ("GET", "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0.0.0 Safari/537.36", "bot"),
        (
            "GET",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "BingPreview/1.0b",
            ClickClass.SCANNER,
        ),
        ("GET", "Microsoft Office Existence Discovery", ClickClass.SCANNER),
        ("GET", "Mozilla/5.0 SafeLinks/1.0 (Microsoft Defender for Office 365)", "scanner"),
        ("GET", "Proofpoint URL Defense/1.0", ClickClass.SCANNER),
        ("GET", "Mimecast-URL-Protect/2.0", ClickClass.SCANNER),
        ("GET", "Barracuda Sentinel (EE)", ClickClass.SCANNER),
        (
            "GET",
            "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
            "GoogleImageProxy)",
            ClickClass.SCANNER,
        ),
    ],
)
def test_classification(method: str, ua: str, expected: str) -> None:
    assert clicks.classify(method=method, user_agent=ua) == expected


def view(client, link, ua: str = IPHONE, ip: str = "203.0.113.1", method: str = "get"):
    r = getattr(client, method)(f"/r/{link.token}/", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip)
    assert r.status_code == 200
    return r


def test_filtering_and_unique_visitors_after_the_drain(client, link) -> None:
    view(client, link)  # unique
    view(client, link)  # repeat within the hour
    view(client, link)  # repeat
    view(client, link, ip="203.0.113.2")  # another visitor: unique
    view(client, link, ua=ANDROID)  # another device on the same IP: unique
    view(client, link, ua="Proofpoint URL Defense/1.0", ip="198.51.100.5")
    view(client, link, ua="Mozilla/5.0 BingPreview/1.0b", ip="198.51.100.6")
    view(client, link, ua="", ip="198.51.100.7")
    view(client, link, ua="Googlebot/2.1", ip="198.51.100.8")
    view(client, link, method="head")
    assert Click.all_objects.count() == 0
    assert click_drain() == 10
    assert clicks.pending_count() == 0
    rows = Click.all_objects.filter(link=link)
    assert rows.count() == 10
    assert rows.filter(is_unique=True).count() == 3
    assert set(rows.filter(is_unique=True).values_list("classification", flat=True)) == {"human"}
    by_class = {c: rows.filter(classification=c).count() for c in ClickClass.values}
    assert by_class == {"human": 5, "scanner": 2, "bot": 2, "head": 1}
    assert not rows.exclude(classification="human").filter(is_unique=True).exists()
    assert rows.first().company_id == link.company_id
    assert rows.first().agency_id == link.agency_id
    assert click_drain() == 0  # nothing left, nothing doubled
    assert Click.all_objects.count() == 10


def test_a_visitor_counts_again_after_an_hour(link) -> None:
    conn = clicks.client()
    start = time.time() - 3 * 3600
    for offset in (0, 600, 3599, 3700, 7400):  # unique, repeat, repeat, unique, unique
        event = clicks.new_event(
            link=link, method="GET", user_agent=IPHONE, ip="203.0.113.1", now=start + offset
        )
        conn.rpush(clicks.PENDING_KEY, event.to_json())
    click_drain()
    flags = list(Click.all_objects.order_by("clicked_at").values_list("is_unique", flat=True))
    assert flags == [True, False, False, True, True]


def test_repeats_are_judged_against_clicks_already_stored(link) -> None:
    conn = clicks.client()
    first = clicks.new_event(link=link, method="GET", user_agent=IPHONE, ip="203.0.113.1")
    conn.rpush(clicks.PENDING_KEY, first.to_json())
    click_drain()
    again = clicks.new_event(link=link, method="GET", user_agent=IPHONE, ip="203.0.113.1")
    conn.rpush(clicks.PENDING_KEY, again.to_json())
    click_drain()
    assert list(Click.all_objects.order_by("clicked_at").values_list("is_unique", flat=True)) == [
        True,
        False,
    ]


def test_a_crashed_drain_is_finished_by_the_next_one_without_loss_or_duplicates(link) -> None:
    conn = clicks.client()
    events = [
        clicks.new_event(
            link=link, method="GET", user_agent=IPHONE, ip=f"10.0.{i // 250}.{i % 250}"
        )
        for i in range(2500)
    ]
    conn.rpush(clicks.PENDING_KEY, *[e.to_json() for e in events])
    # A drain died after moving a batch to the processing list and committing half of it.
    for _ in range(1000):
        conn.lmove(clicks.PENDING_KEY, clicks.PROCESSING_KEY, "LEFT", "RIGHT")
    services.clicks_ingest(events[:500])
    assert Click.all_objects.count() == 500
    assert click_drain() == 2500
    assert clicks.pending_count() == 0
    assert Click.all_objects.count() == 2500
    assert set(map(str, Click.all_objects.values_list("uid", flat=True))) == {e.uid for e in events}


def test_only_one_drain_runs_at_a_time(link) -> None:
    conn = clicks.client()
    conn.set(clicks.LOCK_KEY, "someone-else", ex=5)
    conn.rpush(
        clicks.PENDING_KEY,
        clicks.new_event(link=link, method="GET", user_agent=IPHONE, ip="1.2.3.4").to_json(),
    )
    assert click_drain() == -1
    assert Click.all_objects.count() == 0
    conn.delete(clicks.LOCK_KEY)
    assert click_drain() == 1


def test_malformed_events_are_dropped_not_blocking(link) -> None:
    conn = clicks.client()
    good = clicks.new_event(link=link, method="GET", user_agent=IPHONE, ip="1.2.3.4")
    conn.rpush(clicks.PENDING_KEY, "{not json", json.dumps({"u": "x"}), good.to_json())
    assert click_drain() == 3
    assert Click.all_objects.count() == 1
    assert clicks.pending_count() == 0


DOWN = "redis://127.0.0.1:1/0"
DOWN_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": DOWN,
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@override_settings(REDIS_URL=DOWN, CACHES=DOWN_CACHE)
def test_redis_down_page_renders_and_click_is_written_synchronously(
    client, link, django_capture_on_commit_callbacks
) -> None:
    started = time.monotonic()
    r = view(client, link)
    assert time.monotonic() - started < 3
    assert "ご登録" in r.content.decode()
    click = Click.all_objects.get()
    assert str(click.uid) == r.cookies[clicks.COOKIE_NAME].value
    assert (click.classification, click.is_unique) == ("human", True)
    view(client, link)
    assert Click.all_objects.filter(is_unique=True).count() == 1
    # Registration still works and is attributed to the click.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/r/{link.token}/", form_data()).status_code == 302
    referral = Referral.all_objects.get()
    assert referral.click_id == Click.all_objects.order_by("-clicked_at").first().pk
    assert referral.seconds_to_register is not None


def test_capture_survives_a_redis_that_lost_its_scripts_or_dropped_the_connection(link) -> None:
    """The capture talks to its connection directly (clicks._evalsha): a flushed script
    cache is reloaded, and a connection Redis closed is given up once (the click is written
    synchronously) and reopened by the next view."""
    conn = clicks.client()
    written: list[clicks.ClickEvent] = []

    def event() -> clicks.ClickEvent:
        return clicks.new_event(link=link, method="GET", user_agent=IPHONE, ip="198.51.100.7")

    conn.script_flush()
    assert clicks.capture(event(), write_sync=written.append).how == "redis"
    conn.client_kill_filter(_id=conn.client_id())
    outcomes = [clicks.capture(event(), write_sync=written.append).how for _ in range(2)]
    assert outcomes in (["db", "redis"], ["redis", "redis"])
    assert len(written) == outcomes.count("db")
    assert conn.llen(clicks.PENDING_KEY) == 1 + outcomes.count("redis")
