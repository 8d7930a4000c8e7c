"""Redis as a cache, not as a dependency: while Redis cannot be reached, every read misses and
every write is dropped, with a warning in the log, so pages are computed afresh instead of
failing. What must not be skipped when Redis is gone (the rate limits) reads through
``strict``, which raises."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 60  # one warning a minute per process, not one per cache call
_last_warning = 0.0


@contextmanager
def _unreachable_skipped(operation: str) -> Iterator[None]:
    global _last_warning
    try:
        yield
    except UNREACHABLE as exc:
        if time.monotonic() - _last_warning > WARN_EVERY_SECONDS:
            _last_warning = time.monotonic()
            log.warning("cache unreachable, %s skipped: %s", operation, exc)


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache that misses, rather than raises, while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self.strict = RedisCache(server, params)

    def get(self, key, default=None, version=None):
        with _unreachable_skipped("get"):
            return super().get(key, default, version)
        return default

    def get_many(self, keys, version=None):
        with _unreachable_skipped("get"):
            return super().get_many(keys, version)
        return {}

    def has_key(self, key, version=None):
        with _unreachable_skipped("get"):
            return super().has_key(key, version)
        return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with _unreachable_skipped("add"):
            return super().add(key, value, timeout, version)
        return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        with _unreachable_skipped("set"):
            super().set(key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        with _unreachable_skipped("set"):
            return super().set_many(data, timeout, version)
        return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        with _unreachable_skipped("touch"):
            return super().touch(key, timeout, version)
        return False

    def incr(self, key, delta=1, version=None):
        with _unreachable_skipped("incr"):
            return super().incr(key, delta, version)
        raise ValueError(f"Key '{key}' not found")  # as for a key that is not there

    def delete(self, key, version=None):
        with _unreachable_skipped("delete"):
            return super().delete(key, version)
        return False

    def delete_many(self, keys, version=None):
        with _unreachable_skipped("delete"):
            super().delete_many(keys, version)

    def clear(self):
        with _unreachable_skipped("clear"):
            return super().clear()
        return False
