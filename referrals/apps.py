from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("紹介")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from agencies.models import Agency
        from companies.models import Company, Partnership
        from referrals.models import ReferralLink
        from referrals.selectors import landing_changed

        # Cache upkeep, not a business rule: any save of what a landing page shows (services,
        # the admin) moves the landing cache's version when it commits.
        for model in (ReferralLink, Company, Agency, Partnership):
            uid = f"landing_changed:{model._meta.label}"
            post_save.connect(landing_changed, sender=model, dispatch_uid=f"{uid}:save")
            post_delete.connect(landing_changed, sender=model, dispatch_uid=f"{uid}:delete")
