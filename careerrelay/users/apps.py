from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "careerrelay.users"
    label = "users"
    verbose_name = _("ユーザー")
