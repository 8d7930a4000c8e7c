"""Counting attempts in the shared cache (Redis in production, so every worker counts the same
attempts): the public lookups and objections are limited per address and per key.

A limit is a security control: while Redis cannot be reached the attempts cannot be counted,
and they are refused (with a warning in the log) rather than let through uncounted. The cache
proper fails open instead (``core.cache``)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from .cache import UNREACHABLE

log = logging.getLogger(__name__)
# What ``count`` answers when the counters cannot be read: over any limit.
UNCOUNTABLE = 2**31


def client_address(request) -> str:
    """The client's address: with N trusted proxies in front (``NUM_PROXIES``), the Nth
    address from the right of X-Forwarded-For (what the nearest proxy saw), never one the
    client wrote itself; without proxies, the connection's address."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def _name(key: str) -> str:
    return f"ratelimit:{key}"


def _counters():
    """The cache, read strictly: Redis unreachable raises instead of missing."""
    return getattr(cache, "strict", cache)


def exceeded(key: str, limit: int, seconds: int = 3600) -> bool:
    """Count one attempt under ``key``; True once more than ``limit`` were made in the window
    (which starts at the first attempt), and while the counters cannot be reached."""
    counters = _counters()
    try:
        counters.add(_name(key), 0, seconds)
        try:
            return counters.incr(_name(key)) > limit
        except ValueError:  # expired between add and incr
            counters.set(_name(key), 1, seconds)
            return False
    except UNREACHABLE as exc:
        log.warning("rate limit %s not counted, attempt refused: %s", key, exc)
        return True


def count(key: str) -> int:
    """Attempts counted under ``key`` in its current window (none counted: 0)."""
    try:
        return _counters().get(_name(key)) or 0
    except UNREACHABLE as exc:
        log.warning("rate limit %s not read, counted as over: %s", key, exc)
        return UNCOUNTABLE
