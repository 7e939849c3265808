from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "careerrelay.core"
    label = "core"
    verbose_name = _("共通（監査ログ・APIキー・招待）")

    def ready(self) -> None:
        # Registers the OpenAPI description of API-key authentication.
        from careerrelay.core import schema  # noqa: F401
