"""A task for the broker fault tests only (loaded by tests/faults/fault_settings.py). It takes a
while, so the worker holds messages when Redis goes away, and it is idempotent the way the
project's tasks are (a claimed receipt, careerrelay/core/outbox.py). It leaves one line per run
and one per effect, so a test can count both."""

from __future__ import annotations

import os
import time

from celery import shared_task

from careerrelay.core.outbox import effect_claim


def _line(text: str) -> None:
    # One short O_APPEND write: lines from the pool's processes never interleave.
    fd = os.open(os.environ["FAULT_MARK_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{text} {os.getpid()}\n".encode())
    finally:
        os.close(fd)


@shared_task(name="faults.mark")
def fault_mark(*, key: str, seconds: float) -> None:
    time.sleep(seconds)
    _line(f"run {key}")
    if effect_claim(key=f"fault-mark:{key}"):
        _line(f"effect {key}")
