"""公示: the public pages (no login) under /gongshi/. They show only township, village, masked
name, household size, programme and amount; rows are built here field by field so nothing
else of a household can reach a template. Listing pages are cached; the objection form is not
(it carries a CSRF token) and works without JavaScript."""

import time

from django import forms
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from core import ratelimit
from core.exceptions import DomainError

from . import services
from .models import OBJECTION_REFERENCE, Notice
from .selectors import PublicBoard

FRESH_SECONDS = 300  # a page is rebuilt at most this long after an unannounced change
KEEP_SECONDS = 24 * 3600  # a stale copy is kept this long to serve while one request rebuilds
REBUILD_SECONDS = 30  # a rebuild that has not finished by then (its worker died) is abandoned
WAIT_SECONDS = 5  # on a cold cache, how long the others wait for the one rebuilding
OBJECTIONS_PER_HOUR = 5
NOTICES_LISTED = 100  # of each kind on a city's or district's page; below, all are listed


def cached_public(view):
    """Cache a page per URL: fast for the many readers, fresh the moment a notice is posted
    or taken down or a household approved (``services.public_changed`` moves the generation),
    and the day is part of the stamp, so notices that end at midnight drop off.

    When the copy is stale or missing, one request rebuilds it (an ``add`` on a lock key) and
    the others are served the stale copy meanwhile; on a cold cache they wait for it, then are
    told to retry (503), rather than all querying the database at once (no stampede). With
    the cache unreachable, every request builds its own page."""

    def wrapper(request, *args, **kwargs):
        generation = cache.get_or_set(services.GENERATION_KEY, 0, None)
        page = request.GET.get("page", "1")
        page = page if page.isdigit() and len(page) < 6 else "1"
        # Keyed on what changes the page (path, page number, language), nothing else: a
        # random query string must not get past the cache.
        key = f"gongshi:{get_language()}:{request.path}:{page}"
        stamp = (generation, timezone.localdate().isoformat())
        entry = cache.get(key)  # (stamp, built at, html)
        if entry and entry[0] == stamp and time.time() - entry[1] < FRESH_SECONDS:
            return HttpResponse(entry[2])
        lock = f"{key}:rebuilding"
        if cache.add(lock, 1, REBUILD_SECONDS):
            try:
                response = view(request, *args, **kwargs)
                if response.status_code == 200:
                    cache.set(key, (stamp, time.time(), response.content), KEEP_SECONDS)
                return response
            finally:
                cache.delete(lock)
        if entry:
            return HttpResponse(entry[2])  # stale by a moment: someone is rebuilding it
        if not cache.has_key(lock):
            return view(request, *args, **kwargs)  # the cache is unreachable
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            entry = cache.get(key)
            if entry:
                return HttpResponse(entry[2])
        response = render(request, "notices/public/busy.html", status=503)
        response["Retry-After"] = "5"
        return response

    return wrapper


@cached_public
def index(request, code=None):
    """A region's page: its current notices and standing list, and links one level down."""
    board = PublicBoard(timezone.localdate())
    region = board.region(code)
    if region is None:
        raise Http404
    prefix = region.prefix
    page = board.standing_page(prefix, request.GET.get("page"))
    listed = {}
    for kind in (Notice.Kind.APPROVAL, Notice.Kind.TERMINATION):
        limit = NOTICES_LISTED if region.level in ("city", "district") else None
        rows = board.region_notices(prefix, kind, limit=limit)
        total = board.notice_count(prefix, kind) if limit and len(rows) == limit else len(rows)
        listed[kind] = {"rows": rows, "total": total}
    return render(
        request,
        "notices/public/region.html",
        {
            "region": region,
            "trail": board.trail(region),
            "children": board.children(region),
            "approval_notices": listed[Notice.Kind.APPROVAL],
            "termination_notices": listed[Notice.Kind.TERMINATION],
            "page": page,
            "standing": page.object_list,
            "today": board.today,
        },
    )


def board_sheet(request, code):
    """公示表: the sheet a village or township pins on its notice board, landscape, masked as
    on the pages (A4, or A3 with ``?size=A3``)."""
    board = PublicBoard(timezone.localdate())
    region = board.region(code)
    if region is None:
        raise Http404
    rows = board.region_notices(region.prefix, Notice.Kind.APPROVAL) + board.region_notices(
        region.prefix, Notice.Kind.TERMINATION
    )
    return render(
        request,
        "notices/public/board.html",
        {
            "region": region,
            "rows": rows,
            "today": board.today,
            "size": "A3" if request.GET.get("size") == "A3" else "A4",
        },
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What is wrong with this notice, and why?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
    )
    name = forms.CharField(
        label=gettext_lazy("Your name (optional)"), required=False, max_length=64
    )
    contact = forms.CharField(
        label=gettext_lazy("How to reach you (optional)"), required=False, max_length=64
    )
    # A field people never see; bots fill it in.
    website = forms.CharField(required=False, widget=forms.HiddenInput)


def _too_many(request) -> bool:
    """At most OBJECTIONS_PER_HOUR objections an hour from one address."""
    return ratelimit.exceeded(f"objection:{ratelimit.client_address(request)}", OBJECTIONS_PER_HOUR)


def objection(request, notice_pk):
    board = PublicBoard(timezone.localdate())
    notice = board.notice(notice_pk)
    if notice is None:
        raise Http404
    form = ObjectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            return redirect("gongshi:objection_received")  # a bot: thank it, keep nothing
        if _too_many(request):
            form.add_error(
                None, _("Too many objections from your address; please try again in an hour.")
            )
            return render(
                request,
                "notices/public/objection.html",
                {"form": form, "notice": board.notice_rows([notice])[0]},
                status=429,
            )
        try:
            filed = services.objection_file(
                notice=notice,
                text=form.cleaned_data["text"],
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(reverse("gongshi:objection_received") + f"?reference={filed.reference}")
    return render(
        request,
        "notices/public/objection.html",
        {"form": form, "notice": board.notice_rows([notice])[0]},
    )


def objection_received(request):
    reference = request.GET.get("reference", "")
    if not OBJECTION_REFERENCE.fullmatch(reference):
        reference = ""
    return render(request, "notices/public/received.html", {"reference": reference})
