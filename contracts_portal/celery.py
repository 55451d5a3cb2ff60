import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contracts_portal.settings.local")

app = Celery("contracts_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
