"""Django's Redis cache backend, keeping its redis-py client.

Django's RedisCacheClient builds a new `redis.Redis` object on every cache call (`get_client`),
and redis-py's constructor copies its whole response-callback table: on the landing page that
cost more client CPU than the Redis round trip itself (bench/NOTES.md). This backend keeps one
client per connection pool; redis-py clients are thread-safe and check for forks in the pool,
so sharing one per process is what redis-py intends.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class _ClientKeepingRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """Use as BACKEND "careerrelay.core.cache.RedisCache" with the same LOCATION and OPTIONS as
    Django's own."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ClientKeepingRedisCacheClient
