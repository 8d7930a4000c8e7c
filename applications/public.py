"""公示: the public pages (no login) under /gongshi/. They show only township, village, masked
name, household size, programme and amount; rows are built here field by field so nothing
else of a household can reach a template. Listing pages are cached; the objection form is not
(it carries a CSRF token) and works without JavaScript."""

from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from beneficiaries.idnumber import mask_name
from beneficiaries.models import Entitlement
from core.exceptions import DomainError
from regions.models import Region

from . import review, selectors
from .models import Notice, Programme

CACHE_SECONDS = 300
OBJECTIONS_PER_HOUR = 5
PROGRAMMES = dict(Programme.choices)


def _names(codes) -> dict[str, Region]:
    return {r.code: r for r in Region.objects.filter(code__in=set(codes)).select_related("parent")}


def notice_rows(notices) -> list[dict]:
    notices = list(notices)
    places = _names(n.village_code for n in notices)
    return [
        {
            "id": n.pk,
            "kind": n.get_kind_display(),
            "township": places[n.village_code].parent.name if n.village_code in places else "",
            "village": places[n.village_code].name if n.village_code in places else "",
            "name": n.masked_name,
            "size": n.household_size,
            "programme": PROGRAMMES.get(n.programme, n.programme),
            "amount": n.amount,
            "ends_on": n.ends_on,
        }
        for n in notices
    ]


def standing_rows(entitlements) -> list[dict]:
    return [
        {
            "township": e.household.region.parent.name,
            "village": e.household.region.name,
            "name": mask_name(e.household.head.name if e.household.head else ""),
            "size": e.size,
            "programme": PROGRAMMES.get(e.programme, e.programme),
            "amount": e.monthly_amount,
        }
        for e in entitlements
    ]


GENERATION_KEY = "gongshi:generation"


def public_changed() -> None:
    """Something the public pages show has changed: every cached page is stale from now."""
    cache.add(GENERATION_KEY, 0, None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def cached_public(view):
    """Cache a page per URL and generation: fast for the many readers, fresh the moment a
    notice is posted or taken down or a household approved (``public_changed``). The day is
    part of the key, so notices that end at midnight drop off."""

    def wrapper(request, *args, **kwargs):
        generation = cache.get_or_set(GENERATION_KEY, 0, None)
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
    regions = Region.objects.select_related("parent")
    region = regions.filter(code=code).first() if code else regions.filter(level="city").first()
    if region is None:
        raise Http404
    prefix = region.prefix
    today = timezone.localdate()
    notices = selectors.notices_current(today=today).filter(village_code__startswith=prefix)
    standing = (
        Entitlement.objects.filter(
            status=Entitlement.Status.ACTIVE,
            programme=Programme.DIBAO,
            household__region__code__startswith=prefix,
        )
        .select_related("household__region__parent", "household__head")
        .annotate(size=Count("household__members", filter=Q(household__members__is_current=True)))
        .order_by("household__region__code", "id")
    )
    page = Paginator(standing, 50).get_page(request.GET.get("page"))
    trail = []
    node = region
    while node is not None:
        trail.insert(0, node)
        node = node.parent
    return render(
        request,
        "applications/public/region.html",
        {
            "region": region,
            "trail": trail,
            "children": region.children.filter(is_active=True).order_by("code"),
            "approval_notices": notice_rows(notices.filter(kind=Notice.Kind.APPROVAL)),
            "termination_notices": notice_rows(notices.filter(kind=Notice.Kind.TERMINATION)),
            "page": page,
            "standing": standing_rows(page.object_list),
            "today": today,
        },
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What do you object to, and why?"),
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
    from axes.helpers import get_client_ip_address

    key = f"objection-rate:{get_client_ip_address(request)}"
    cache.add(key, 0, 3600)
    try:
        return cache.incr(key) > OBJECTIONS_PER_HOUR
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 3600)
        return False


def objection(request, notice_pk):
    today = timezone.localdate()
    notice = selectors.notices_current(today=today).filter(pk=notice_pk).first()
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
                "applications/public/objection.html",
                {"form": form, "notice": notice_rows([notice])[0]},
                status=429,
            )
        try:
            review.objection_file(
                notice=notice,
                text=form.cleaned_data["text"],
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("gongshi:objection_received")
    return render(
        request,
        "applications/public/objection.html",
        {"form": form, "notice": notice_rows([notice])[0]},
    )


def objection_received(request):
    return render(request, "applications/public/received.html")


app_name = "gongshi"
urlpatterns = [
    path("", index, name="index"),
    path("<slug:code>/", index, name="region"),
    path("notices/<int:notice_pk>/objection/", objection, name="objection"),
    path("objection/received/", objection_received, name="objection_received"),
]
