"""Deployment checks of our own (``manage.py check --deploy``)."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def shared_cache(app_configs, **kwargs):
    """Rate limits (logins, objections, residents' lookups, API tokens) and the public pages'
    cache invalidation must be counted once for all workers: in production the cache must be
    shared (Redis), never each process's own memory."""
    backend = settings.CACHES["default"]["BACKEND"]
    if settings.DEBUG or ("locmem" not in backend.lower() and "dummy" not in backend.lower()):
        return []
    return [
        Error(
            "The cache is each worker's own memory: rate limits would be counted per worker.",
            hint="Set REDIS_URL so that every worker shares one cache.",
            id="core.E001",
        )
    ]
