"""Settings for the web, worker and beat subprocesses of the fault tests: the test settings with
real Celery (no eager tasks) and emails written to files the test can count."""

from __future__ import annotations

from careerrelay.settings.test import *  # noqa: F403
from careerrelay.settings.test import CELERY_IMPORTS, env

CELERY_TASK_ALWAYS_EAGER = False
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("FAULT_MAIL_DIR", default="/tmp/careerrelay-fault-mail")  # noqa: S108
# A slow task that counts its runs (tests/faults/test_worker_broker_loss.py).
CELERY_IMPORTS = (*CELERY_IMPORTS, "tests.faults.tasks")
