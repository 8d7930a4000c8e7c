"""Cases still waiting for materials when the clock moved to acceptance (0021) kept the
deadline counted from their receipt, a clock that has not started yet. It goes; instead they
get the day the missing materials are expected by, counted from receipt like a new case's."""


from django.db import migrations
from django.utils import timezone

from core.workdays import WorkdayCalendar


def materials_clock(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    CalendarDay = apps.get_model("core", "CalendarDay")
    PolicyValue = apps.get_model("eligibility", "PolicyValue")
    waiting = list(Application.objects.filter(status="needs_materials", accepted_on=None))
    if not waiting:
        return
    calendar = WorkdayCalendar()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (calendar.holidays if kind == "holiday" else calendar.workdays).add(day)
    for case in waiting:
        received = timezone.localtime(case.received_at).date()
        figure = (
            PolicyValue.objects.filter(
                kind="materials_workdays",
                district_code="",
                residence="",
                effective_from__lte=received.replace(day=1),
            )
            .order_by("-effective_from")
            .values_list("value", flat=True)
            .first()
        )
        case.decision_due = None
        case.materials_due = (
            calendar.add_workdays(received, int(figure)) if figure is not None else None
        )
        case.save(update_fields=["decision_due", "materials_due"])


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0021_accepted_on"),
        ("core", "0004_job_heartbeat"),
        ("eligibility", "0010_clock_figures"),
    ]

    operations = [migrations.RunPython(materials_clock, migrations.RunPython.noop)]
