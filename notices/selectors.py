"""Reads of notices and objections.

The public surface (/gongshi/ and the public API) reads only through ``PublicBoard`` at the
end of this module: it selects the public columns named in ``PUBLIC_NOTICE_COLUMNS`` and
``PUBLIC_STANDING_COLUMNS`` and masks names before a view sees them. A test pins the columns
its queries select."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.utils.functional import cached_property

from beneficiaries.models import Programme
from regions.models import Region

from .models import Notice, Objection, StandingRow, StandingTally

PENDING_OBJECTION = (Objection.Status.OPEN, Objection.Status.REINVESTIGATING)


def notices_of(*, application=None, review=None):
    if application is not None:
        return Notice.objects.filter(application=application)
    return Notice.objects.filter(review=review)


def notice_open_for(*, application=None, review=None) -> Notice | None:
    """The case's notice that is up, the latest if there were several."""
    return (
        notices_of(application=application, review=review)
        .filter(status=Notice.Status.OPEN)
        .order_by("-starts_on")
        .first()
    )


def objections_pending(*, application=None, review=None, notice=None) -> bool:
    """Whether an objection is open or being re-investigated (the case cannot move on)."""
    objections = Objection.objects.filter(status__in=PENDING_OBJECTION)
    if notice is not None:
        return objections.filter(notice=notice).exists()
    if application is not None:
        return objections.filter(application=application).exists()
    return objections.filter(notice__review=review).exists()


def objections_open(*, application) -> bool:
    return Objection.objects.filter(application=application, status=Objection.Status.OPEN).exists()


def objections_of(*, application):
    return Objection.objects.filter(application=application).select_related("notice")


def objections_for_review(*, review):
    return Objection.objects.filter(notice__review=review).order_by("id")


def objected_applications(*, applications) -> set[int]:
    """Which of these applications ever drew an objection."""
    return set(
        Objection.objects.filter(application__in=applications).values_list(
            "application_id", flat=True
        )
    )


def notices_expired(*, today: dt.date):
    """Notices whose period is over with no objection pending: the nightly job closes them."""
    return Notice.objects.filter(status=Notice.Status.OPEN, ends_on__lt=today).exclude(
        Exists(Objection.objects.filter(notice=OuterRef("pk"), status__in=PENDING_OBJECTION))
    )


def can_see_objectors(user) -> bool:
    """Objectors are promised their name and contact stay private: the township reviewer,
    the district and auditors see them, never village cadres or the window."""
    return user.role in ("township_reviewer", "district_approver", "auditor")


# --- the public surface -------------------------------------------------------------------------

PUBLIC_NOTICE_COLUMNS = (
    "id",
    "kind",
    "village_code",
    "masked_name",
    "household_size",
    "programme",
    "amount",
    "starts_on",
    "ends_on",
)
# The standing list of 低保 households: place, head's name (masked here), size, amount.
PUBLIC_STANDING_COLUMNS = (
    "id",
    "programme",
    "monthly_amount",
    "household__region__code",
    "household__region__name",
    "household__region__parent__name",
    "household__head__name",
    "member__name",  # 单人保: the member helped alone
)
PUBLIC_REGION_COLUMNS = ("code", "name", "level", "parent_id", "is_active")
PROGRAMMES = dict(Programme.choices)


class PublicBoard:
    """What anyone may read without logging in: notices up today and the standing list,
    built row by row from public columns only."""

    def __init__(self, today: dt.date):
        self.today = today

    def notices(self):
        """Notices up today (a queryset of public columns, for the public API's filters)."""
        return (
            Notice.objects.filter(
                status=Notice.Status.OPEN, starts_on__lte=self.today, ends_on__gte=self.today
            )
            .only(*PUBLIC_NOTICE_COLUMNS)
            .order_by("village_code", "id")
        )

    def notice(self, pk: int) -> Notice | None:
        return self.notices().filter(pk=pk).first()

    def _regions(self):
        return Region.objects.select_related("parent").only(
            *PUBLIC_REGION_COLUMNS, *(f"parent__{c}" for c in PUBLIC_REGION_COLUMNS)
        )

    def region(self, code: str | None) -> Region | None:
        regions = self._regions()
        return regions.filter(code=code).first() if code else regions.filter(level="city").first()

    def trail(self, region: Region) -> list[Region]:
        """The region and its parents, city first."""
        trail = [region]
        while trail[0].parent_id is not None:
            trail.insert(0, self._regions().get(pk=trail[0].parent_id))
        return trail

    def children(self, region: Region):
        return (
            Region.objects.filter(parent=region, is_active=True)
            .only(*PUBLIC_REGION_COLUMNS)
            .order_by("code")
        )

    def notice_rows(self, notices) -> list[dict]:
        notices = list(notices)
        places = {
            r.code: r for r in self._regions().filter(code__in={n.village_code for n in notices})
        }
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

    def region_notices(self, prefix: str, kind: str, limit: int | None = None) -> list[dict]:
        """The notices of a kind up today under ``prefix``, in village order; the first
        ``limit`` of them when a limit is given (a city's page does not list them all)."""
        notices = self.notices().filter(villages_under(prefix), kind=kind)
        return self.notice_rows(notices[:limit] if limit else notices)

    def notice_count(self, prefix: str, kind: str) -> int:
        return self.notices().filter(villages_under(prefix), kind=kind).count()

    def standing_page(self, prefix: str, page_number):
        """A page of the standing list of 低保 households under ``prefix``; its object list is
        rows of public fields, the name already masked (the head's, or for 单人保 the member's,
        with a size of one)."""
        page = Paginator(StandingList(prefix), 50).get_page(page_number)
        page.object_list = [
            {
                "township": row.township,
                "village": row.village,
                "name": row.masked_name,
                "size": row.household_size,
                "programme": PROGRAMMES.get(row.programme, row.programme),
                "amount": row.amount,
            }
            for row in page.object_list
        ]
        return page


def villages_under(prefix: str) -> Q:
    """Village codes under a region prefix, as a range the (village_code, …) index serves
    under any collation (codes are digits)."""
    return Q(village_code__gte=prefix.ljust(12, "0"), village_code__lte=prefix.ljust(12, "9"))


class StandingList:
    """The standing-list rows under a prefix, in village order, for a ``Paginator``: counted
    from the village tallies, and sliced by seeking to the village the slice starts in (one
    index range scan) and skipping at most that village's own rows, so the last page of the
    city costs what the first does."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    @cached_property
    def tallies(self) -> list[tuple[str, int]]:
        return list(
            StandingTally.objects.filter(villages_under(self.prefix))
            .order_by("village_code")
            .values_list("village_code", "households")
        )

    def count(self) -> int:
        return sum(n for _code, n in self.tallies)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[StandingRow]:
        before = 0
        for code, n in self.tallies:
            if before + n > window.start:
                skip = window.start - before
                return list(
                    StandingRow.objects.filter(
                        villages_under(self.prefix), village_code__gte=code
                    ).order_by("village_code", "entitlement_id")[
                        skip : skip + window.stop - window.start
                    ]
                )
            before += n
        return []


def objection_list(*, user):
    """Objections to cases in the user's jurisdiction (through the notice's application or
    review). Fails closed like ``scope_to_jurisdiction``."""
    from accounts.scoping import jurisdiction_prefix

    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return Objection.objects.none()
    return Objection.objects.filter(
        Q(notice__application__household__region__code__startswith=prefix)
        | Q(notice__review__entitlement__household__region__code__startswith=prefix)
    )
