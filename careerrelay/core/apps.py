from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "careerrelay.core"
    label = "core"
    verbose_name = _("共通（監査ログ・APIキー・招待）")

    def ready(self) -> None:
        # The OpenAPI description of API-key authentication; row-level security's Celery and
        # connection signals, in every process (the worker loads no middleware).
        from careerrelay.core import (
            rls,  # noqa: F401
            schema,  # noqa: F401
        )
