import datetime as dt

from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils import timezone

from core import health, workdays

from .forms import LoginForm
from .home import panels_for
from .models import Role
from .permissions import role_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@role_required()
def home(request):
    """Each role lands on its own page of work queues."""
    context = {"role": request.user.role, "panels": panels_for(request.user)}
    if request.user.role == Role.CITY_ADMIN:
        context.update(_admin_status())
    return render(request, f"accounts/home/{request.user.role}.html", context)


def _admin_status() -> dict:
    today = timezone.localdate()
    # Deadlines run into next year from autumn on, so next year's calendar is needed early.
    years = [today.year, today.year + 1] if today >= dt.date(today.year, 9, 1) else [today.year]
    return {
        "missing_calendar_years": workdays.missing_years(years),
        "database_state": health.database_state(),
        "heartbeat_age": health.heartbeat_ages()["worker"],
    }


@role_required()
def inbox(request):
    """The user's alerts: deadlines reached, reviews opened. Opening the page marks them read."""
    from django.core.paginator import Paginator
    from django.utils import timezone as tz

    alerts = request.user.alerts.all()
    page = Paginator(alerts, 30).get_page(request.GET.get("page"))
    unread = [a.pk for a in page.object_list if a.read_at is None]
    response = render(request, "accounts/inbox.html", {"page": page, "unread": set(unread)})
    if unread:
        request.user.alerts.filter(pk__in=unread).update(read_at=tz.now())
    return response
