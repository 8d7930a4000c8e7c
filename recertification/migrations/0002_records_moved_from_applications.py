"""What names the moved models outside their tables follows them: content types (and so the
permissions and admin log entries that point at them), the record type of audit events, and
the nightly task's name in the beat schedule."""

from django.db import migrations

MOVED = {  # (old app, model) → new app
    ("applications", "notice"): "notices",
    ("applications", "objection"): "notices",
    ("applications", "review"): "recertification",
    ("applications", "historicalreview"): "recertification",
}
TASKS = {"applications.tasks.nightly": "recertification.tasks.nightly"}


def _move(apps, moves, tasks):
    ContentType = apps.get_model("contenttypes", "ContentType")
    AuditEvent = apps.get_model("core", "AuditEvent")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for (old_app, model), new_app in moves.items():
        taken = ContentType.objects.filter(app_label=new_app, model=model).exists()
        if not taken:
            ContentType.objects.filter(app_label=old_app, model=model).update(app_label=new_app)
        AuditEvent.objects.filter(object_type=f"{old_app}.{model}").update(
            object_type=f"{new_app}.{model}"
        )
    for old, new in tasks.items():
        PeriodicTask.objects.filter(task=old).update(task=new)


def forwards(apps, schema_editor):
    _move(apps, MOVED, TASKS)


def backwards(apps, schema_editor):
    _move(
        apps,
        {(new_app, model): old_app for (old_app, model), new_app in MOVED.items()},
        {new: old for old, new in TASKS.items()},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("recertification", "0001_initial"),
        ("notices", "0001_initial"),
        ("applications", "0016_split_notices_and_reviews"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0004_job_heartbeat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
