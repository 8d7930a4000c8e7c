from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.exceptions import DomainError

from . import services
from .forms import LoginForm, SecondFactorForm
from .permissions import SECOND_FACTOR_DUE, role_required, second_factor_pending
from .selectors import second_factor_device


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        # A role that needs the second factor always passes it; anyone else who enrolled one
        # passes it too (marked here, so that other users' pages cost no query).
        if not user.requires_second_factor and second_factor_device(user=user) is not None:
            self.request.session[SECOND_FACTOR_DUE] = True
        return response


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's own password (required after someone else set it)."""

    template_name = "accounts/password_change.html"

    def get_success_url(self):
        return reverse("workbench:home")

    def form_valid(self, form):
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


# --- Second factor -------------------------------------------------------------------------------

PENDING_KEY = "second_factor_pending_key"  # the secret shown for enrolment, until confirmed


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and safe else reverse("workbench:home")


def _with_next(name: str, request) -> str:
    from urllib.parse import urlencode

    return f"{reverse(name)}?{urlencode({'next': _next_url(request)})}"


def _passed(request, device) -> None:
    """This session has passed the second factor with ``device``."""
    import django_otp

    request.session.cycle_key()  # a new session id for the stronger login
    django_otp.login(request, device)


@login_required
def second_factor_verify(request):
    """After the password: the code from the authenticator app."""
    if not second_factor_pending(request):
        return redirect(_next_url(request))
    if second_factor_device(user=request.user) is None:
        if request.user.requires_second_factor:
            return redirect(_with_next("accounts:second_factor", request))
        request.session.pop(SECOND_FACTOR_DUE, None)  # removed by its owner meanwhile
        return redirect(_next_url(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(
                user=request.user, code=form.cleaned_data["otp"], channel="web"
            )
        except DomainError as error:
            form.add_error("otp", error.message)
        else:
            _passed(request, device)
            return redirect(_next_url(request))
    return render(
        request,
        "accounts/second_factor_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@login_required
def second_factor(request):
    """Enrol an authenticator app (required roles: before anything else), or remove it."""
    device = second_factor_device(user=request.user)
    if device is None:
        return _enrol(request)
    if second_factor_pending(request):  # the password alone must not replace the device
        return redirect(_with_next("accounts:second_factor_verify", request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.second_factor_remove(user=request.user, code=form.cleaned_data["otp"])
        except DomainError as error:
            form.add_error("otp", error.message)
        else:
            request.session.pop(SECOND_FACTOR_DUE, None)
            messages.success(request, _("The second factor is removed."))
            return redirect("accounts:second_factor")
    return render(request, "accounts/second_factor.html", {"device": device, "form": form})


def _enrol(request):
    from django_otp.util import random_hex

    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = random_hex(20)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_enrol(
                user=request.user, key=key, code=form.cleaned_data["otp"]
            )
        except DomainError as error:
            form.add_error("otp", error.message)
        else:
            del request.session[PENDING_KEY]
            _passed(request, device)
            messages.success(request, _("The second factor is enrolled. Keep the app on you."))
            return redirect(_next_url(request))
    uri = _config_uri(request.user, key)
    context = {"form": form, "secret": _grouped_base32(key), "uri": uri, "qr": _qr_svg(uri)}
    return render(request, "accounts/second_factor.html", {**context, "next": _next_url(request)})


def _config_uri(user, key: str) -> str:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice(user=user, key=key).config_url  # unsaved: nothing stored before the code


def _grouped_base32(key: str) -> str:
    from base64 import b32encode

    secret = b32encode(bytes.fromhex(key)).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (drawn here: no script, nothing fetched)."""
    import qrcode
    import qrcode.image.svg
    from django.utils.safestring import mark_safe

    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308 (our own drawing)
