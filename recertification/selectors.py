"""Scoped reads of periodic reviews and entitlements."""

import datetime as dt

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from accounts.scoping import scope_to_jurisdiction
from beneficiaries.models import Entitlement

from .models import Review

LIVE = (Entitlement.Status.ACTIVE, Entitlement.Status.SUSPENDED)
OPEN_REVIEW = (Review.Status.OPEN, Review.Status.NOTICED, Review.Status.DISTRICT)


def review_overdue(today: dt.date) -> Q:
    """The one definition of an overdue review: open past its due date, waiting for the
    district past its due date, or a termination held past its notice by an objection."""
    return Q(status__in=[Review.Status.OPEN, Review.Status.DISTRICT], due__lt=today) | Q(
        status=Review.Status.NOTICED, notices__status="open", notices__ends_on__lt=today
    )


def review_list(*, user):
    return scope_to_jurisdiction(
        Review.objects.all(), user=user, code_field="entitlement__household__region__code"
    ).select_related("entitlement__household__head", "entitlement__household__region", "township")


def review_get_for_user(*, user, pk: int):
    review = review_list(user=user).select_related("assessment").filter(pk=pk).first()
    if review is None:
        raise Http404
    return review


def review_search(*, user, state: str = "open", klass: str = ""):
    qs = review_list(user=user)
    today = timezone.localdate()
    if state == "overdue":
        qs = qs.filter(review_overdue(today)).distinct()
    elif state in Review.Status.values:
        qs = qs.filter(status=state)
    if klass:
        qs = qs.filter(entitlement__klass=klass)
    return qs.order_by("due", "id")


def review_counts(*, user) -> dict:
    today = timezone.localdate()
    counts = review_list(user=user).aggregate(
        open=Count("id", filter=Q(status=Review.Status.OPEN)),
        a=Count("id", filter=Q(status=Review.Status.OPEN, entitlement__klass="A")),
        b=Count("id", filter=Q(status=Review.Status.OPEN, entitlement__klass="B")),
        c=Count("id", filter=Q(status=Review.Status.OPEN, entitlement__klass="C")),
    )
    counts["overdue"] = review_list(user=user).filter(review_overdue(today)).distinct().count()
    return counts


def entitlement_list(*, user):
    return scope_to_jurisdiction(
        Entitlement.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household__region", "household__head")
