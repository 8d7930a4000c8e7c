import datetime as dt
from unittest import mock

import pytest

from core import workdays
from core.models import CalendarDay
from core.services import calendar_seed_from_package

D = dt.date


@pytest.fixture
def calendar(db):
    calendar_seed_from_package()


def test_seed_loads_2025_national_day_and_its_adjusted_sunday(calendar):
    assert CalendarDay.objects.get(date=D(2025, 10, 1)).kind == CalendarDay.Kind.HOLIDAY
    assert CalendarDay.objects.get(date=D(2025, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2025, 9, 28)).kind == CalendarDay.Kind.WORKDAY


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Friday → the adjusted working Sunday
        (D(2025, 9, 27), 1, D(2025, 9, 28)),  # from a Saturday
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # over the whole National Day week
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # adjusted working Saturday after it
        (D(2025, 10, 9), -1, D(2025, 9, 30)),  # backwards over the holiday
        (D(2025, 10, 3), 0, D(2025, 10, 3)),
        (D(2025, 12, 30), 2, D(2026, 1, 4)),  # 2026-01-04 (Sunday) is an adjusted workday
    ],
)
def test_add_workdays(calendar, start, n, expected):
    assert workdays.add_workdays(start, n) == expected


def test_workdays_between_counts_adjusted_days_and_skips_holidays(calendar):
    # 9-28 (Sun, adjusted), 9-29, 9-30, 10-9, 10-10, 10-11 (Sat, adjusted)
    assert workdays.workdays_between(D(2025, 9, 26), D(2025, 10, 11)) == 6
    # Backwards: from 9-26 up to but excluding 10-11: 9-26, 9-28, 9-29, 9-30, 10-9, 10-10
    assert workdays.workdays_between(D(2025, 10, 11), D(2025, 9, 26)) == -6
    assert workdays.workdays_between(D(2025, 10, 2), D(2025, 10, 5)) == 0


@pytest.mark.parametrize("start", [D(2025, 9, 15), D(2025, 10, 12), D(2025, 10, 4)])
def test_add_and_between_are_inverse(calendar, start):
    # From a working day, a Sunday and a day inside the National Day holiday, both ways.
    for n in range(-60, 60):
        assert workdays.workdays_between(start, workdays.add_workdays(start, n)) == n, n


def test_is_workday(calendar):
    assert workdays.is_workday(D(2025, 9, 28)) is True  # Sunday, adjusted
    assert workdays.is_workday(D(2025, 10, 6)) is False  # Monday, holiday
    assert workdays.is_workday(D(2025, 10, 12)) is False  # plain Sunday


def test_year_without_data_falls_back_to_monday_to_friday(calendar):
    assert workdays.missing_years([2026, 2027]) == [2027]
    # 2027-01-01 is a Friday; with no 2027 calendar New Year's Day counts as a working day.
    assert workdays.is_workday(D(2027, 1, 1)) is True
    assert workdays.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 1)
    assert workdays.add_workdays(D(2027, 1, 1), 1) == D(2027, 1, 4)
    assert workdays.workdays_between(D(2027, 1, 3), D(2027, 1, 10)) == 5


def test_admin_edit_of_a_day_takes_effect(calendar):
    # The State Council moves a day: the city admin marks 2025-10-09 as a holiday too.
    CalendarDay.objects.filter(date=D(2025, 10, 9)).delete()
    CalendarDay.objects.create(date=D(2025, 10, 9), kind=CalendarDay.Kind.HOLIDAY, name="调整")
    assert workdays.add_workdays(D(2025, 9, 30), 1) == D(2025, 10, 10)


def test_seed_is_idempotent_and_keeps_admin_edits(calendar):
    CalendarDay.objects.filter(date=D(2025, 10, 1)).update(name="国庆")
    count = CalendarDay.objects.count()
    assert calendar_seed_from_package() == 0
    assert CalendarDay.objects.count() == count
    assert CalendarDay.objects.get(date=D(2025, 10, 1)).name == "国庆"


@mock.patch("workbench.views.timezone.localdate", return_value=D(2026, 11, 28))
def test_admin_home_warns_about_missing_year(_today, client, cast, calendar):
    client.force_login(cast["city_admin"])
    page = client.get("/").content.decode()
    assert "2027" in page and "工作日历" in page
    assert "2026 年" not in page


@mock.patch("workbench.views.timezone.localdate", return_value=D(2026, 3, 2))
def test_admin_home_quiet_when_calendar_present(_today, client, cast, calendar):
    client.force_login(cast["city_admin"])
    assert 'class="alert warning"' not in client.get("/").content.decode()
