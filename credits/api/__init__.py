"""REST API of the credits app: balances and ledger (ledger.py), statements (statements.py)."""

from __future__ import annotations

from rest_framework.routers import BaseRouter

from credits.api import ledger, statements


def register(router: BaseRouter) -> None:
    ledger.register(router)
    statements.register(router)
