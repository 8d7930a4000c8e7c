"""The one scoping mechanism: case data is visible to a user only inside their jurisdiction.

Every selector that returns case data filters through ``scope_to_jurisdiction`` with the
path from its model to a region code, e.g. ``"region__code"`` for a household or
``"household__region__code"`` for a member. Lists, counts, exports, dropdowns, the API and
search all come through a selector, so none of them can leak across jurisdictions.
Fails closed: an anonymous or inactive user, or one without a jurisdiction, sees nothing.
"""

from django.db.models import QuerySet

from regions.models import Region


def jurisdiction_prefix(user) -> str | None:
    if not (user and user.is_authenticated and user.is_active and user.jurisdiction_id):
        return None
    return user.jurisdiction.prefix


def scope_to_jurisdiction(queryset: QuerySet, *, user, code_field: str) -> QuerySet:
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return queryset.none()
    if user.jurisdiction.level == Region.Level.CITY:
        # Every region lies under the one city (only the city has no parent, and a code sits
        # inside its parent's prefix): the filter would hold for every row, yet make each
        # city-wide list and count join its way up to the region table.
        return queryset
    if code_field.endswith("__code"):
        # A foreign key to a region: compared with the ids of the regions inside, the planner
        # reads a district's rows through the key's index (it estimates them well) instead of
        # joining every row of the city to the region table to test its code.
        path = code_field.removesuffix("__code")
        return queryset.filter(**{f"{path}__in": regions_within(user)})
    return queryset.filter(**{f"{code_field}__startswith": prefix})


def regions_within(user) -> list[int]:
    """The ids of the user's jurisdiction and every region under it (a district has a few
    hundred), read once per user object, i.e. once per request."""
    prefix = jurisdiction_prefix(user)
    cached = getattr(user, "_regions_within", None)
    if cached is None or cached[0] != prefix:
        ids = list(Region.objects.filter(code__startswith=prefix).values_list("pk", flat=True))
        cached = user._regions_within = (prefix, ids)
    return cached[1]


def in_jurisdiction(user, code: str) -> bool:
    prefix = jurisdiction_prefix(user)
    return prefix is not None and code.startswith(prefix)


def region_in_jurisdiction(user, region: Region) -> bool:
    return in_jurisdiction(user, region.code)
