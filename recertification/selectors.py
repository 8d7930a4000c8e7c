"""Scoped reads of periodic reviews and entitlements."""

import datetime as dt

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone

from accounts.scoping import jurisdiction_prefix, scope_to_jurisdiction
from beneficiaries.models import Entitlement
from notices.models import Notice
from regions.models import Region

from .models import Review

LIVE = (Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED)
OPEN_REVIEW = (Review.Status.OPEN, Review.Status.NOTICED, Review.Status.DISTRICT)
# City-wide, counting the open reviews by class joins every one of them to its entitlement
# (about 140 ms at 1,000,000 households): the city's figures are recounted at most this often
# and the page says when they were counted.
CITY_COUNTS_SECONDS = 300
CITY_COUNTS_KEY = "review-counts:city"  # one city: the only jurisdiction without a parent


def review_overdue(today: dt.date) -> Q:
    """The one definition of an overdue review: open past its due date, waiting for the
    district past its due date, or a termination held past its notice by an objection."""
    notice_over = Notice.objects.filter(review=OuterRef("pk"), status="open", ends_on__lt=today)
    return Q(status__in=[Review.Status.OPEN, Review.Status.DISTRICT], due__lt=today) | Q(
        Exists(notice_over), status=Review.Status.NOTICED
    )


def review_list(*, user):
    """Reviews in the user's jurisdiction, found through the township that works them, which
    is the household's (a household cannot leave its township here; see docs/dynamic.md); a
    village worker's through the household's village."""
    reviews = Review.objects.select_related(
        "entitlement__household__head", "entitlement__household__region", "township"
    )
    prefix = jurisdiction_prefix(user)
    level = user.jurisdiction.level if prefix is not None else None
    if level == Region.Level.VILLAGE:
        return scope_to_jurisdiction(
            reviews, user=user, code_field="entitlement__household__region__code"
        )
    if level == Region.Level.TOWNSHIP:
        return reviews.filter(township_id=user.jurisdiction_id)
    if level == Region.Level.DISTRICT:
        # The district's townships as a list, not a join: the planner then reads the queue
        # index in due order instead of every open review of the city.
        townships = Region.objects.filter(
            level=Region.Level.TOWNSHIP, code__startswith=prefix
        ).values_list("pk", flat=True)
        return reviews.filter(township_id__in=list(townships))
    return scope_to_jurisdiction(reviews, user=user, code_field="township__code")


def review_get_for_user(*, user, pk: int):
    review = review_list(user=user).select_related("assessment").filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


def review_search(*, user, state: str = "open", klass: str = ""):
    qs = review_list(user=user)
    if state == "overdue":
        qs = qs.filter(review_overdue(timezone.localdate()))
    elif state in Review.Status.values:
        qs = qs.filter(status=state)
    if klass:
        qs = qs.filter(entitlement__klass=klass)
    return qs.order_by("due", "id")


def review_counts(*, user) -> dict:
    """Open reviews by class and how many are overdue; for a city-wide user, as counted at
    ``counted_at`` (within ``CITY_COUNTS_SECONDS``), for everyone else, now."""
    if jurisdiction_prefix(user) is None or user.jurisdiction.level != Region.Level.CITY:
        return _review_counts(review_list(user=user))
    counts = cache.get(CITY_COUNTS_KEY)
    if counts is None:
        counts = {**_review_counts(review_list(user=user)), "counted_at": timezone.now()}
        cache.set(CITY_COUNTS_KEY, counts, CITY_COUNTS_SECONDS)
    return counts


def review_counts_forget() -> None:
    """Count the city's reviews again at the next look (after the night opened a month's)."""
    cache.delete(CITY_COUNTS_KEY)


def _review_counts(reviews) -> dict:
    counts = (
        reviews.filter(status=Review.Status.OPEN)
        .order_by()
        .aggregate(
            open=Count("id"),
            a=Count("id", filter=Q(entitlement__klass="A")),
            b=Count("id", filter=Q(entitlement__klass="B")),
            c=Count("id", filter=Q(entitlement__klass="C")),
        )
    )
    counts["overdue"] = reviews.filter(review_overdue(timezone.localdate())).order_by().count()
    return counts


def entitlement_list(*, user):
    return scope_to_jurisdiction(
        Entitlement.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household__region", "household__head")
