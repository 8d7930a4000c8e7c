"""Counting attempts in the shared cache (Redis in production, so every worker counts the same
attempts): the public lookups and objections are limited per address and per key."""

from __future__ import annotations

from django.core.cache import cache


def client_address(request) -> str:
    """The client's address as the login lockout sees it (the configured trusted proxies)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or ""


def exceeded(key: str, limit: int, seconds: int = 3600) -> bool:
    """Count one attempt under ``key``; True once more than ``limit`` were made in the window
    (which starts at the first attempt)."""
    name = f"ratelimit:{key}"
    cache.add(name, 0, seconds)
    try:
        return cache.incr(name) > limit
    except ValueError:  # expired between add and incr
        cache.set(name, 1, seconds)
        return False
