from django.db import migrations

TASK_NAME = "Poll due concentrators"


def create_schedule(apps, schema_editor):
    interval_class = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_class = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30_seconds, _created = interval_class.objects.get_or_create(
        every=30, period="seconds"
    )
    task_class.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "devices.tasks.poll_due_concentrators",
            "interval": every_30_seconds,
            "description": "Fan out one poll task per concentrator whose poll "
            "interval has passed. Each concentrator's own interval decides how "
            "often it is read; this schedule only sets how soon a due one starts.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name=TASK_NAME
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0002_meter_models"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
