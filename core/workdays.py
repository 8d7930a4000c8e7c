"""Working days (工作日) on the Chinese calendar.

Statutory time limits count working days: Monday to Friday, minus statutory holidays, plus
adjusted working weekend days (调休). The exceptions are ``CalendarDay`` rows. A year with no
row at all has not been published yet; it falls back to plain Monday–Friday and
``missing_years`` reports it so the city admin is warned.

Bulk callers load one ``WorkdayCalendar`` for the years they need and reuse it; the module
functions load what a single call needs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ONE_DAY = dt.timedelta(days=1)


@dataclass
class WorkdayCalendar:
    holidays: set[dt.date] = field(default_factory=set)
    workdays: set[dt.date] = field(default_factory=set)

    @classmethod
    def load(cls, first_year: int, last_year: int) -> WorkdayCalendar:
        from .models import CalendarDay

        rows = CalendarDay.objects.filter(
            date__gte=dt.date(first_year, 1, 1), date__lte=dt.date(last_year, 12, 31)
        ).values_list("date", "kind")
        calendar = cls()
        for day, kind in rows:
            target = calendar.holidays if kind == CalendarDay.Kind.HOLIDAY else calendar.workdays
            target.add(day)
        return calendar

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after ``start`` (``start`` itself is not counted, as a time
        limit starts the day after the event). n == 0 returns ``start``; negative n counts
        backwards."""
        step = ONE_DAY if n >= 0 else -ONE_DAY
        day, remaining = start, abs(n)
        while remaining:
            day += step
            if self.is_workday(day):
                remaining -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``. When ``end`` is before
        ``start`` it is minus the working days from ``end`` up to but excluding ``start``, so
        that ``workdays_between(d, add_workdays(d, n)) == n`` for every d and n."""
        if end < start:
            return -sum(self.is_workday(end + k * ONE_DAY) for k in range((start - end).days))
        return sum(self.is_workday(start + k * ONE_DAY) for k in range(1, (end - start).days + 1))


def add_workdays(start: dt.date, n: int) -> dt.date:
    # About 250 working days a year: load every year the count can reach.
    span = abs(n) // 200 + 1
    first, last = (start.year, start.year + span) if n >= 0 else (start.year - span, start.year)
    return WorkdayCalendar.load(first, last).add_workdays(start, n)


def workdays_between(start: dt.date, end: dt.date) -> int:
    low, high = sorted((start, end))
    return WorkdayCalendar.load(low.year, high.year).workdays_between(start, end)


def is_workday(day: dt.date) -> bool:
    return WorkdayCalendar.load(day.year, day.year).is_workday(day)


def missing_years(years: list[int]) -> list[int]:
    """Those of ``years`` for which no holiday or adjusted day has been entered."""
    from .models import CalendarDay

    present = {
        day.year for day in CalendarDay.objects.filter(date__year__in=years).dates("date", "year")
    }
    return [year for year in years if year not in present]
