"""REST API of this app: serializers and tenant-scoped viewsets."""

from __future__ import annotations

from rest_framework.routers import BaseRouter


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the /api/v1/ router."""
