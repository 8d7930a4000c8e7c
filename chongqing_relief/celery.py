import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chongqing_relief.settings")

app = Celery("chongqing_relief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
