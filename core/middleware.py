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
