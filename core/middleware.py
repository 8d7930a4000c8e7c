from django.conf import settings
from django.utils import translation


class DefaultLanguageMiddleware:
    """Simplified Chinese unless the user chose another language (the footer's switch sets
    a cookie). Unlike Django's LocaleMiddleware it ignores the browser's Accept-Language: a
    clerk's PC set to English must still show the Chinese UI the procedures are written in."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class FriendlyNotFoundMiddleware:
    """With DEBUG on (the demo's ``make run``), Django answers an unknown address with a page
    listing every URL pattern; users get the same plain 404 page as in production instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        html = response.get("Content-Type", "").startswith("text/html")
        if settings.DEBUG and response.status_code == 404 and html:
            from django.shortcuts import render

            return render(request, "404.html", status=404)
        return response


# No script but the app's own files; no frames, plugins or foreign forms. Styles may be inline
# (htmx adds its indicator styles; SVG charts carry presentation attributes).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every answer; ``no-store`` on every
    answer to a logged-in user (their pages carry personal data) unless the view chose."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Cache-Control" not in response and _logged_in(request):
            response["Cache-Control"] = "no-store"
        return response


def _logged_in(request) -> bool:
    from django.db import DatabaseError

    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError:  # the session's user cannot be read (the database is down)
        return False
