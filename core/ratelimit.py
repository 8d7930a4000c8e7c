"""Counting attempts in the shared cache (Redis in production, so every worker counts the same
attempts): the public lookups and objections are limited per address and per key."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


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


def exceeded(key: str, limit: int, seconds: int = 3600) -> bool:
    """Count one attempt under ``key``; True once more than ``limit`` were made in the window
    (which starts at the first attempt)."""
    cache.add(_name(key), 0, seconds)
    try:
        return cache.incr(_name(key)) > limit
    except ValueError:  # expired between add and incr
        cache.set(_name(key), 1, seconds)
        return False


def count(key: str) -> int:
    """Attempts counted under ``key`` in its current window (none counted: 0)."""
    return cache.get(_name(key)) or 0
