"""公示: the public pages (no login) under /gongshi/. They show only township, village, masked
name, household size, programme and amount; rows are built here field by field so nothing
else of a household can reach a template. Listing pages are cached; the objection form is not
(it carries a CSRF token) and works without JavaScript."""

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

CACHE_SECONDS = 300
OBJECTIONS_PER_HOUR = 5


def cached_public(view):
    """Cache a page per URL and generation: fast for the many readers, fresh the moment a
    notice is posted or taken down or a household approved (``services.public_changed``). The
    day is part of the key, so notices that end at midnight drop off."""

    def wrapper(request, *args, **kwargs):
        generation = cache.get_or_set(services.GENERATION_KEY, 0, None)
        page = request.GET.get("page", "1")
        page = page if page.isdigit() and len(page) < 6 else "1"
        # Keyed on what changes the page (path, page number, language), nothing else: a
        # random query string must not get past the cache.
        key = f"gongshi:{generation}:{timezone.localdate()}:{get_language()}:{request.path}:{page}"
        html = cache.get(key)
        if html is None:
            response = view(request, *args, **kwargs)
            if response.status_code != 200:
                return response
            cache.set(key, response.content, CACHE_SECONDS)
            return response
        return HttpResponse(html)

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
    return render(
        request,
        "notices/public/region.html",
        {
            "region": region,
            "trail": board.trail(region),
            "children": board.children(region),
            "approval_notices": board.region_notices(prefix, Notice.Kind.APPROVAL),
            "termination_notices": board.region_notices(prefix, Notice.Kind.TERMINATION),
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
