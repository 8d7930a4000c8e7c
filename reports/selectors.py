import datetime as dt
import re

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import in_jurisdiction
from core.exceptions import OutOfScopeError, ValidationFailed
from core.months import add_months
from regions.models import Region

from .models import MonthlyFigure


def report_region(*, user, code: str = "") -> Region:
    """The region a report is asked for: the user's own jurisdiction by default, else one
    within it (a district or above for the city's figures; villages are too small)."""
    if not code:
        return user.jurisdiction
    region = Region.objects.filter(code=code).first()
    if region is None or not in_jurisdiction(user, region.code):
        raise OutOfScopeError(_("The region is outside your jurisdiction."))
    if region.level == Region.Level.VILLAGE:
        raise ValidationFailed([("region", _("Choose a township, district or the city."))])
    return region


# A month of the years the returns can cover (strptime alone would take 0001-01).
MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"


def report_month(value: str = "", region: Region | None = None) -> dt.date:
    """``YYYY-MM``; by default the latest month in which anyone in the region was paid (next
    month's payroll is often approved before the month begins), else last month."""
    if not value:
        paid = MonthlyFigure.objects.filter(households__gt=0)
        if region is not None:
            paid = paid.filter(region_code__startswith=Region.prefix_of_code(region.code))
        latest = paid.aggregate(m=Max("month"))["m"]
        return latest or add_months(timezone.localdate().replace(day=1), -1)
    if not re.fullmatch(MONTH_PATTERN, value):
        raise ValidationFailed([("month", _("Give the month as YYYY-MM."))])
    return dt.datetime.strptime(value, "%Y-%m").date()


def report_year(value: str = "") -> int:
    if not value:
        return timezone.localdate().year
    if not (value.isascii() and value.isdigit()) or not 2000 <= int(value) <= 2100:
        raise ValidationFailed([("year", _("Give the year as four digits."))])
    return int(value)
