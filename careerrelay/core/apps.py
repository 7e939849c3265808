from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "careerrelay.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Registers the OpenAPI description of API-key authentication.
        from careerrelay.core import schema  # noqa: F401
