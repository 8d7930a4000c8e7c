from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@never_cache
@require_safe
def healthz(request):
    """Liveness and readiness for load balancers: 503 when the database is unreachable.
    The broker's state is reported but does not fail the check (the web app still serves
    pages without it)."""
    database = health.database_state()
    body = {"database": database, "broker": health.broker_state()}
    if database == "ok":
        body["worker_heartbeat_age_seconds"] = health.heartbeat_ages()["worker"]
    return JsonResponse(body, status=200 if database == "ok" else 503)
