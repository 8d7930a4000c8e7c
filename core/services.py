from django.db import transaction
from django.utils import timezone

from .models import Heartbeat


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
    CalendarDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
