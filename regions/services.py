from django.db import transaction
from simple_history.utils import bulk_create_with_history

from .models import Region
from .seed import region_rows


@transaction.atomic
def regions_seed() -> dict[str, int]:
    """Insert the regions of ``seed.region_rows`` that are missing; existing rows (which the
    city admin may have edited) are left as they are. Returns the count added per level."""
    existing = dict(Region.objects.values_list("code", "pk"))
    added = dict.fromkeys(Region.LEVEL_ORDER, 0)
    rows = region_rows()
    for level in Region.LEVEL_ORDER:  # parents are inserted (and get ids) before children
        new = [
            Region(
                code=row.code,
                name=row.name,
                level=row.level,
                parent_id=existing[row.parent_code] if row.parent_code else None,
                is_demo=row.is_demo,
                is_active=row.is_active,
                note=row.note,
            )
            for row in rows
            if row.level == level and row.code not in existing
        ]
        bulk_create_with_history(new, Region, batch_size=2000)
        existing.update(Region.objects.filter(level=level).values_list("code", "pk"))
        added[level] = len(new)
    return added
