"""Redis goes away while the Celery worker holds messages (running and prefetched, acks_late):
the same worker process stays up, reconnects by itself once Redis is back and every task takes
effect exactly once; nothing is left in Redis' unacked set to run again when the visibility
timeout lapses. No supervisor restarts anything here (docker compose's restart policy is the
second wall, not the first).

A task handed to a pool process just before the connection dropped, whose start the worker had
not yet heard of, may run twice: Celery discards such jobs on connection loss and relies on the
broker to deliver them again. That is why tasks are idempotent; the test counts runs and effects
apart and allows a second run only without a second effect.

Two faults on our own redis-server (append-only, so a restart keeps what it acknowledged):
killed (connections refused) and frozen with SIGSTOP (connections open, never answered).
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.conf import settings

from tests.faults.harness import RedisServer, Stack, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="needs PostgreSQL (always in CI)"),
]
TASKS = 12
TASK_SECONDS = 1.5
OUTAGE_SECONDS = 6


@pytest.fixture
def stack(tmp_path: Path, transactional_db: Any) -> Any:
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    s = Stack(redis=redis_server, tmp=tmp_path)
    try:
        yield s
    finally:
        if redis_server.proc is not None and redis_server.proc.poll() is None:
            os.kill(redis_server.proc.pid, signal.SIGCONT)
        s.stop_all()
        redis_server.stop()


def _send_tasks(url: str) -> None:
    # Not the current app: shared tasks of later tests would publish to this (stopped) broker.
    client = Celery("fault-client", broker=url, set_as_current=False)
    client.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        for n in range(TASKS):
            client.send_task("faults.mark", kwargs={"key": f"m{n}", "seconds": TASK_SECONDS})
    finally:
        client.close()


@pytest.mark.parametrize("fault", ["killed", "frozen"])
def test_worker_holding_messages_survives_redis_outage_and_runs_each_task_once(
    stack: Stack, fault: str
) -> None:
    stack.start_worker()
    worker = stack.procs["worker"]
    assert wait_for(lambda: " ready." in stack.log("worker"), timeout=60), stack.log("worker")
    _send_tasks(stack.redis.url)
    broker = redis.Redis.from_url(stack.redis.url, socket_timeout=2)

    # The worker holds messages: some ran, others are running or prefetched (in the unacked set).
    assert wait_for(lambda: len(stack.marks("run")) >= 2 and broker.hlen("unacked") > 0, timeout=30)
    held = broker.hlen("unacked")
    waiting = broker.llen("celery")
    broker.close()

    if fault == "killed":
        stack.redis.kill()
    else:
        assert stack.redis.proc is not None
        os.kill(stack.redis.proc.pid, signal.SIGSTOP)
    time.sleep(OUTAGE_SECONDS)  # the running tasks finish while Redis is away
    assert worker.poll() is None, stack.log("worker")[-3000:]
    if fault == "killed":
        stack.redis.start()
    else:
        assert stack.redis.proc is not None
        os.kill(stack.redis.proc.pid, signal.SIGCONT)

    broker = redis.Redis.from_url(stack.redis.url, socket_timeout=2)
    assert wait_for(
        lambda: (
            len(set(stack.marks())) >= TASKS
            and broker.llen("celery") == 0
            and broker.hlen("unacked") == 0
        ),
        timeout=90,
    ), (
        f"ran {sorted(set(stack.marks()))}, queue {broker.llen('celery')}, "
        f"unacked {broker.hlen('unacked')}\n" + stack.log("worker")[-4000:]
    )
    time.sleep(12)  # another restore sweep: a message requeued twice would run again now
    effects = Counter(stack.marks("effect"))
    runs = Counter(stack.marks("run"))
    assert effects == Counter({f"m{n}": 1 for n in range(TASKS)}), effects
    assert set(runs) == set(effects), runs
    assert broker.llen("celery") == 0
    assert broker.hlen("unacked") == 0  # nothing to run again when the visibility timeout lapses
    broker.close()
    # The same worker process, never restarted, and it did reconnect by itself.
    assert worker.poll() is None
    assert stack.procs["worker"] is worker
    assert not stack.restarts
    log = stack.log("worker")
    assert "Unrecoverable error" not in log, log[-4000:]
    print(  # noqa: T201
        f"\nredis {fault} {OUTAGE_SECONDS}s with {held} message(s) held and {waiting} waiting: "
        f"{TASKS} tasks, {sum(effects.values())} effects, {sum(runs.values())} runs "
        f"(run twice: {sorted(k for k, n in runs.items() if n > 1)}), worker pid {worker.pid} kept"
    )
