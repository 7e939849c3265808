"""Periodic core tasks: the outbox relay."""

from __future__ import annotations

from celery import shared_task

from careerrelay.core.outbox import outbox_relay


@shared_task(name="core.outbox_relay", ignore_result=True)
def outbox_relay_task() -> dict[str, int]:
    """Send outbox messages that could not be sent right after their commit."""
    return outbox_relay()
