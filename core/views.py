from django.db import DatabaseError
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@never_cache
@require_safe
def healthz(request):
    """Liveness and readiness for load balancers: 503 when the database is unreachable. The
    broker and the worker are reported (``status`` is "degraded" when either is not ok) but
    do not fail the check, since pages still work without them; ``?strict=1`` (for
    monitoring) answers 503 whenever the system is degraded, e.g. a worker that stopped."""
    database = health.database_state()
    body = {"database": database, "broker": health.broker_state()}
    if database == "ok":
        body["worker_heartbeat_age_seconds"] = health.heartbeat_ages()["worker"]
        body["worker"] = health.worker_state()
    degraded = body["broker"] != "ok" or body.get("worker") != "ok"
    body["status"] = "down" if database != "ok" else ("degraded" if degraded else "ok")
    strict = request.GET.get("strict") == "1"
    status = 503 if database != "ok" or (strict and degraded) else 200
    try:
        detailed = request.user.is_authenticated and request.user.is_active
    except DatabaseError:  # the session's user cannot be read: the database is down
        detailed = False
    if not detailed:
        # Anonymous callers (a load balancer) learn up or down, not what is inside.
        return JsonResponse({"status": "up" if status == 200 else "down"}, status=status)
    return JsonResponse(body, status=status)
