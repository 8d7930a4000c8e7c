from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .models import Heartbeat, Sequence


@transaction.atomic
def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


@transaction.atomic
def calendar_seed_from_package() -> int:
    """Load holidays and adjusted working days from the chinese-calendar package for every
    year that has no row yet. Years the city admin has already entered or edited are left
    alone. Returns the number of days added."""
    from chinese_calendar.constants import Holiday, holidays, workdays

    from .models import CalendarDay

    present = {day.year for day in CalendarDay.objects.dates("date", "year")}
    rows = [
        CalendarDay(date=day, kind=kind, name=Holiday(name).chinese)
        for source, kind in (
            (holidays, CalendarDay.Kind.HOLIDAY),
            (workdays, CalendarDay.Kind.WORKDAY),
        )
        for day, name in source.items()
        if day.year not in present
    ]
    bulk_create_with_history(rows, CalendarDay, batch_size=1000)
    return len(rows)


@transaction.atomic
def sequence_allocate(*, name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of the named sequence; returns them as a range.
    The row lock serialises concurrent callers; the numbers are theirs even if unused."""
    Sequence.objects.get_or_create(name=name)
    sequence = Sequence.objects.select_for_update().get(name=name)
    first = sequence.last_value + 1
    sequence.last_value += count
    sequence.save(update_fields=["last_value"])
    return range(first, first + count)
