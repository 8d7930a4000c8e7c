from django.db import migrations


def schedule(apps, schema_editor):
    """The nightly jobs at 02:00 Beijing time; the admin may change it (django-celery-beat)."""
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = Crontab.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )
    Task.objects.get_or_create(
        name="nightly dynamic management",
        defaults={"task": "applications.tasks.nightly", "crontab": crontab, "enabled": True},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="nightly dynamic management"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0010_seed_dynamic_limits"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
