"""`manage.py seed_demo`: idempotent demo data. Each app contributes a `demo.seed(ctx)` step,
run in dependency order; a step must be safe to run again (get_or_create, idempotency keys)."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand

DEMO_STEPS = [
    "companies.demo",
    "referrals.demo",
    "credits.demo",
    "agencies.demo",
    "referrals.rollups",  # last: the dashboard's daily rollups of what the steps above wrote
]
DEMO_PASSWORD = "careerrelay-demo"  # noqa: S105 - published demo-only password


class Command(BaseCommand):
    help = "Create or refresh the demo organisations, users, links, referrals and statements."

    def handle(self, *args: Any, **options: Any) -> None:
        ctx: dict[str, Any] = {"password": DEMO_PASSWORD, "stdout": self.stdout}
        for module_name in DEMO_STEPS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.seed(ctx)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with:"))
        for email in ctx.get("users", []):
            self.stdout.write(f"  {email} / {DEMO_PASSWORD}")
