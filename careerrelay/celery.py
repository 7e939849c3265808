"""The Celery application: configured from Django settings under the CELERY_ namespace.

With Redis as broker the worker uses `RedisTransport` below (settings: CELERY_BROKER_TRANSPORT),
kombu's Redis transport with two repairs that let one worker process ride out a Redis outage
while it holds messages (tests/faults/test_worker_broker_loss.py):

1. Killed Redis: on losing the connection Celery 5.7 first `collect()`s the connection (which
   detaches the transport from it) and then `close()`s it; the second close re-enters the
   consumer channel, whose restore of unacknowledged messages then builds a Redis client from
   the detached transport and dies with AttributeError ('NoneType' object has no attribute
   'hostname'). A task that finishes after its channel was closed acks through a channel whose
   transport is None, with the same end ('... no attribute 'client''). That is not a connection
   error, so the worker stopped ("Unrecoverable error") and only its supervisor brought it back.
   Here a detached or closed channel raises a connection error instead, which every caller
   (close, ack, restore) already handles.
2. Frozen or killed Redis: a task that finishes while Redis is away cannot be acknowledged.
   kombu kept the message counted against the prefetch limit for good, so after
   `prefetch_multiplier × concurrency` such failures the worker stopped fetching although Redis
   was back; the message also stayed in Redis' unacked set and ran a second time when the
   visibility timeout (an hour) requeued it. Here the slot is freed at once and the ack is
   retried through the live connection on kombu's periodic restore sweep (every
   `unacked_restore_interval` seconds, and when the connection is made again).
3. Messages the worker held but will not run (prefetched, or taken off the queue just as Redis
   went away, before kombu recorded them as unacknowledged) could not be restored while Redis
   was away: they waited for the visibility timeout, or were lost. Here they are requeued by the
   same sweep once Redis is back, unless the pool is still running them.

What may still run twice: a task handed to a pool process just before the connection dropped,
whose start the worker had not yet heard of (Celery discards such jobs and relies on the broker
to deliver them again). Tasks are idempotent for that reason, and for a worker killed mid-task.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careerrelay.settings.local")

logger = logging.getLogger(__name__)

# delivery tag -> (what to do once Redis is back, the message): "ack" (the task ran: remove it
# from Redis' unacked set) or "requeue" (this worker did not run it: put it back on its queue).
# Filled and flushed only by the worker's consuming thread; shared by the old and the new
# connection's channels.
_pending: dict[str, tuple[str, Any]] = {}


class _DeferringQoS(kombu_redis.QoS):
    def append(self, message: Any, delivery_tag: str) -> None:
        try:
            super().append(message, delivery_tag)
        except self.channel.connection_errors:
            # BRPOP took the message off its queue but Redis went away before it was recorded
            # as unacknowledged: only this process holds it now. Celery never sees it (the error
            # goes on to the consumer, which reconnects); put it back once Redis returns.
            _pending[delivery_tag] = ("requeue", message)
            raise

    def ack(self, delivery_tag: str) -> None:
        try:
            super().ack(delivery_tag)
        except self.channel.connection_errors as exc:
            self._defer(delivery_tag, "ack", exc)
        else:
            _pending.pop(delivery_tag, None)  # done: no requeue left to do

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        message = self._delivered.get(delivery_tag)
        try:
            super().reject(delivery_tag, requeue=requeue)
        except self.channel.connection_errors as exc:
            self._defer(delivery_tag, "requeue" if requeue else "ack", exc, message)
        else:
            _pending.pop(delivery_tag, None)

    def _defer(self, tag: str, action: str, exc: BaseException, message: Any = None) -> None:
        _pending[tag] = (action, message)
        self._quick_ack(tag)  # free the prefetch slot now
        logger.warning("broker unavailable (%r): %s of %s deferred", exc, action, tag)

    def restore_unacked(self, client: Any = None) -> None:
        # kombu's loop, but a message counts as restored only once Redis took it back: on a
        # connection error the rest is remembered, to be requeued when Redis returns unless
        # the task finishes first (its ack then replaces the requeue: no second run).
        delivered = self._delivered
        for tag in list(delivered):
            try:
                self.restore_by_tag(tag, client=client)
            except self.channel.connection_errors as exc:
                for rest, message in delivered.items():
                    _pending.setdefault(rest, ("requeue", message))
                logger.warning(
                    "broker unavailable (%r): %d unacknowledged message(s) will be requeued when "
                    "it returns",
                    exc,
                    len(delivered),
                )
                break
            delivered.pop(tag, None)
        delivered.clear()

    def restore_visible(self, *args: Any, **kwargs: Any) -> Any:
        self._flush_pending()
        return super().restore_visible(*args, **kwargs)

    def _flush_pending(self) -> None:
        if not _pending:
            return
        from celery.worker.state import active_requests

        # A task the pool is still running (or finished while the loop waited for Redis) acks
        # or rejects by itself; requeueing it now would run it a second time.
        running = {request.message.delivery_tag for request in tuple(active_requests)}
        with self.channel.conn_or_acquire() as client:
            for tag, (action, message) in list(_pending.items()):
                if tag in self._delivered:
                    # Requeued earlier and delivered again on this connection: this delivery
                    # acknowledges itself.
                    del _pending[tag]
                    continue
                if action == "requeue" and tag in running:
                    continue
                if action == "ack":
                    self._remove_from_indices(tag, client.pipeline()).execute()
                elif client.hexists(self.unacked_key, tag) or message is None:
                    self.restore_by_tag(tag, client=client, leftmost=True)
                else:
                    # Never recorded in Redis (see append): requeue it from memory.
                    pipe = client.pipeline()
                    info = message.delivery_info
                    self.channel._do_restore_message(
                        message._raw, info["exchange"], info["routing_key"], pipe, leftmost=True
                    )
                    pipe.execute()
                del _pending[tag]
                logger.info("broker back: deferred %s of %s done", action, tag)


class _Channel(kombu_redis.Channel):
    QoS = _DeferringQoS

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            # Connection.collect() detached the transport after the connection was lost, or
            # the channel itself was closed (its transport is then None) while an ack waited.
            raise RedisConnectionError("the broker connection was closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = _Channel


app = Celery("careerrelay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def lower_cpu_priority(nice: int) -> None:
    """Make this process (and the pool processes it forks) background work: the landing pages
    and dashboards served from the same machine come first when the CPU is busy. A drain or a
    settlement that woke up took CPU away from gunicorn's workers mid-request, and the landing
    page's slowest answers doubled (bench/NOTES.md).

    Two knobs, because which one the kernel uses depends on how the worker was started: the
    process's nice value orders it among the processes of its own group, and when it leads its
    own session outside any cgroup (an "autogroup"), the group's nice value orders that whole
    group against gunicorn's. Under systemd or a container runtime the group is the unit's
    cgroup instead; give it a lower CPU weight there (docker-compose.yml: cpu_shares).
    Raising a nice value needs no privilege; a value already higher is kept."""
    if nice <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(nice, os.getpriority(os.PRIO_PROCESS, 0)))
    except OSError as exc:
        logger.warning("could not lower the worker's CPU priority: %s", exc)
    autogroup = Path("/proc/self/autogroup")
    if os.getsid(0) == os.getpid() and autogroup.exists():
        try:
            autogroup.write_text(str(nice))
        except OSError as exc:
            logger.warning("could not lower the worker's autogroup priority: %s", exc)


@signals.worker_init.connect
def _worker_priority(**_: Any) -> None:
    from django.conf import settings

    lower_cpu_priority(settings.WORKER_NICE)
