"""The click drain gives way to arriving views: slices and rests while the pending list grows,
full batches when nothing arrives or when it has fallen far behind; nothing is lost either way."""

from __future__ import annotations

import threading
import time

from referrals import clicks, services
from referrals.models import Click

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


def _events(link, count: int, *, start: int = 0) -> list[str]:
    return [
        clicks.new_event(
            link=link, method="GET", user_agent=IPHONE, ip=f"10.1.{i // 250 % 250}.{i % 250}"
        ).to_json()
        for i in range(start, start + count)
    ]


def _recording_ingest(sizes: list[int]):
    def ingest(events):
        sizes.append(len(events))
        return services.clicks_ingest(events)

    return ingest


def test_without_arrivals_the_drain_works_in_full_batches(link) -> None:
    clicks.client().rpush(clicks.PENDING_KEY, *_events(link, 2500))
    sizes: list[int] = []
    assert clicks.drain(_recording_ingest(sizes)) == 2500
    # Two slices (whether views arrive is known from the second take on), then full batches.
    slice_ = clicks.YIELD_SLICE
    assert sizes == [slice_, slice_, 1000, 1000, 2500 - 2 * slice_ - 2000]
    assert Click.all_objects.count() == 2500


def test_while_views_arrive_the_drain_takes_slices_and_loses_nothing(link) -> None:
    conn = clicks.client()
    conn.rpush(clicks.PENDING_KEY, *_events(link, 3000))
    arriving = _events(link, 600, start=3000)
    stop = threading.Event()
    sent = [3000]

    def views() -> None:  # ~1,000 views a second, well above YIELD_ARRIVALS
        for i in range(0, len(arriving), 10):
            if stop.is_set():
                return
            conn.rpush(clicks.PENDING_KEY, *arriving[i : i + 10])
            sent[0] += len(arriving[i : i + 10])
            time.sleep(0.01)

    sender = threading.Thread(target=views)
    sizes: list[int] = []
    sender.start()
    while sent[0] < 3050:  # views are arriving before the drain starts
        time.sleep(0.005)
    try:
        processed = clicks.drain(_recording_ingest(sizes), run_seconds=0.3)
    finally:
        stop.set()
        sender.join()
    assert processed == sum(sizes) > 0
    assert max(sizes) <= clicks.YIELD_SLICE, sizes
    # The rest of the backlog goes on the next run; every event is stored exactly once.
    while clicks.pending_count():
        assert clicks.drain(services.clicks_ingest) > 0
    assert Click.all_objects.count() == sent[0]


def test_pace_rests_in_proportion_to_the_work_only_while_views_arrive() -> None:
    pace = clicks._Pace(batch_size=1000)
    assert pace.first() == clicks.YIELD_SLICE
    assert pace.taken(moved=200, left=5000) is True  # nothing to compare with yet: give way
    now = time.time()
    take, rest = pace.next(arriving=True, worked=0.01, newest=now)
    assert (take, rest) == (clicks.YIELD_SLICE, 0.01 * clicks.YIELD_REST)
    assert pace.next(arriving=False, worked=0.01, newest=now) == (1000, 0.0)
    # Behind by more than YIELD_MAX_LAG: flat out, arrivals or not.
    behind = now - clicks.YIELD_MAX_LAG - 1
    assert pace.next(arriving=True, worked=0.01, newest=behind) == (1000, 0.0)
    # A small batch size is never exceeded by the slice.
    assert clicks._Pace(batch_size=50).first() == 50


def test_pace_counts_arrivals_from_the_pending_list_length(monkeypatch) -> None:
    monkeypatch.setattr(clicks, "YIELD_HOLD", 0.05)
    pace = clicks._Pace(batch_size=1000)
    pace.taken(moved=200, left=1000)
    time.sleep(0.06)
    # Nothing arrived: the list shrank by exactly what was taken.
    assert pace.taken(moved=200, left=800) is False
    time.sleep(0.02)
    # 800 left before; now 800 left after taking 200 more: 200 arrived.
    assert pace.taken(moved=200, left=800) is True
    # Seen arriving is remembered for YIELD_HOLD, however short the next window.
    assert pace.taken(moved=200, left=600) is True
    time.sleep(0.06)
    assert pace.taken(moved=200, left=400) is False
