"""Transactional outbox: work that must not be lost when the broker (Redis) is down.

`outbox_enqueue` writes an OutboxMessage in the caller's transaction, so the message exists if
and only if the business change committed. After commit it tries to hand the task to Celery at
once (fast path); whatever could not be sent is sent by the periodic `core.outbox_relay` task.

Delivery is at-least-once: a crash between "broker accepted" and "row marked sent" sends the
message again on the next relay. The receiving tasks must therefore be idempotent by their cause
(the ledger's idempotency keys, unique click uids, one settlement run per period).
Two relays running at once never send the same row twice: each claims rows with
`SELECT ... FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from careerrelay.core.models import OutboxMessage, TaskReceipt

logger = logging.getLogger(__name__)

RELAY_BATCH = 200


def _task_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"careerrelay-outbox:{key}"))


def _send(message: OutboxMessage) -> None:
    """Hand one message to Celery. Raises when the broker cannot take it."""
    from careerrelay.celery import app

    if app.conf.task_always_eager:
        app.tasks[message.task_name].apply(kwargs=message.kwargs, task_id=_task_id(message.key))
        return
    # retry=True with no retries, not retry=False: without a retry policy kombu establishes a
    # fresh connection with its own default retries (about 6 s against a dead broker).
    app.send_task(
        message.task_name,
        kwargs=message.kwargs,
        task_id=_task_id(message.key),
        retry=True,
        retry_policy={"max_retries": 0},
    )


def outbox_enqueue(*, key: str, task_name: str, kwargs: dict[str, Any]) -> OutboxMessage:
    """Record a task to run after the caller's transaction commits. Idempotent by `key`: the
    same key enqueued twice is one message.

    Side effects: one OutboxMessage row in the caller's transaction; after commit, one attempt
    to send it to Celery (a failure is left for `outbox_relay`)."""
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            key=key, defaults={"task_name": task_name, "kwargs": kwargs}
        )
    if created:
        transaction.on_commit(lambda: _send_one(message.pk))
    return message


def _send_one(pk: int) -> bool:
    """Send one message now if nobody else holds it. True when it was sent."""
    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, sent_at__isnull=True)
                .first()
            )
            if message is None:
                return False
            message.attempts += 1
            try:
                _send(message)
            except Exception:  # broker down: the relay will retry
                logger.warning("outbox: broker unavailable, %s left for the relay", message.key)
                OutboxMessage.objects.filter(pk=pk).update(attempts=message.attempts)
                return False
            message.sent_at = timezone.now()
            message.save(update_fields=["attempts", "sent_at"])
            return True
    except Exception:  # never break the caller's response after commit
        logger.exception("outbox: fast path failed for message %s", pk)
        return False


def outbox_relay(*, batch: int = RELAY_BATCH) -> dict[str, int]:
    """Send unsent messages in id order. Stops at the first broker failure (the broker is down;
    the next run tries again).

    Side effects: Celery tasks sent; `sent_at`/`attempts` updated."""
    sent = failed = 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .order_by("id")[:batch]
        )
        now = timezone.now()
        for message in rows:
            message.attempts += 1
            try:
                _send(message)
            except Exception:  # broker down: keep the rest for the next run
                logger.warning("outbox relay: broker unavailable at %s", message.key)
                OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts)
                failed = 1
                break
            message.sent_at = now
            OutboxMessage.objects.filter(pk=message.pk).update(
                sent_at=now, attempts=message.attempts
            )
            sent += 1
    pending = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    return {"sent": sent, "failed": failed, "pending": pending}


def effect_claim(*, key: str) -> bool:
    """Claim a once-only side effect (e.g. `verify-mail:<referral>`). True for the first caller,
    durably across processes; False when it was already claimed.

    Side effects: one TaskReceipt row (committed at once unless the caller is in a transaction).
    Call `effect_release` if the effect then fails, so a retry can perform it."""
    _, created = TaskReceipt.objects.get_or_create(key=key)
    return created


def effect_release(*, key: str) -> None:
    """Forget a claim whose effect failed."""
    TaskReceipt.objects.filter(key=key).delete()
