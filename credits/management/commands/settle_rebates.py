"""`manage.py settle_rebates --period YYYY-MM`: the same settlement the monthly beat runs, then
the period's statements. Safe to run again: a settled period changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from careerrelay.core import rls
from careerrelay.core.errors import ApplicationError
from credits.settlement import period_bounds, settle_period
from credits.statements import statements_render_period


class Command(BaseCommand):
    help = "Settle rebates for a period (YYYY-MM) and render its statements."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="the month to settle, e.g. 2026-10")
        parser.add_argument("--no-statements", action="store_true", help="post the rebates only")

    def handle(self, *args: Any, **options: Any) -> None:
        period = (options["period"] or "").strip()
        # An operator's command across every tenant: an explicit bypass for its session.
        with rls.operator_session():
            self._settle(period, statements=not options["no_statements"])

    def _settle(self, period: str, *, statements: bool) -> None:
        try:
            period_bounds(period)
            run = settle_period(period=period)
        except ApplicationError as exc:
            raise CommandError(f"--period {period!r}: {exc.message}") from exc
        self.stdout.write(
            f"{period}: {run.status}, rebates {run.rebates_posted}, "
            f"adjustments {run.adjustments_posted}"
        )
        if statements:
            count = statements_render_period(period=period)
            self.stdout.write(f"{period}: {count} statements")
