"""A Celery beat scheduler that is safe to run twice: only the leader schedules.

Two beat processes (a deploy overlap, a second replica started by mistake) would otherwise send
every periodic task twice. Leadership is a Redis key holding the beat's random token with a
short expiry, taken or renewed atomically on every tick; a follower checks again every few
seconds and takes over when the leader stops renewing (it died). Without Redis (the embedded
demo, eager tasks) there is only one process and it is always the leader; with Redis
unreachable nobody schedules (there is no broker to send to anyway).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)

LEADER_KEY = "careerrelay:beat:leader"
# Take the key if free, renew it if ours; 1 when we lead.
_LEAD = """
local current = redis.call('get', KEYS[1])
if not current then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if current == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RESIGN = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class LeaderScheduler(PersistentScheduler):
    """PersistentScheduler that only sends due tasks while it holds the leader key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.token = uuid.uuid4().hex
        self.ttl = float(getattr(settings, "BEAT_LEADER_TTL", 30))
        self._client: Any = None
        self.leading = False
        super().__init__(*args, **kwargs)

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
            )
        return self._client

    def is_leader(self) -> bool:
        if not settings.REDIS_URL:
            return True
        import redis

        try:
            leading = bool(
                self._redis().eval(_LEAD, 1, LEADER_KEY, self.token, int(self.ttl * 1000))
            )
        except redis.RedisError:
            leading = False
        if leading != self.leading:
            logger.warning("beat %s: %s", self.token[:8], "leading" if leading else "following")
            self.leading = leading
        return leading

    def tick(self, *args: Any, **kwargs: Any) -> float:
        # Sleep at most a third of the lease so the leader renews it in time.
        cap = self.ttl / 3
        if not self.is_leader():
            return cap
        return min(super().tick(*args, **kwargs), cap)

    def close(self) -> None:
        if self.leading and settings.REDIS_URL:
            import redis

            with contextlib.suppress(redis.RedisError):
                self._redis().eval(_RESIGN, 1, LEADER_KEY, self.token)
        super().close()
