from django.contrib.auth import views as auth_views
from django.shortcuts import render

from .forms import LoginForm
from .permissions import role_required


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (required after someone else set it)."""

    template_name = "accounts/password_change.html"

    def get_success_url(self):
        from django.urls import reverse

        return reverse("workbench:home")

    def form_valid(self, form):
        from django.contrib import messages
        from django.utils.translation import gettext as _

        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed."))
        return response


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
