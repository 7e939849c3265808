"""Forms of the HR dashboard pages owned by this app: onboarding and partnership proposals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from agencies.validators import validate_invoice_registration_number
from careerrelay.core.errors import ApplicationError


class OnboardingForm(forms.Form):
    name = forms.CharField(
        label=_("会社名"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        help_text=_("候補者に表示される正式名称です（例: 株式会社キャリアリレー）。"),
    )
    slug = forms.CharField(
        label=_("識別子（任意）"),
        max_length=40,
        required=False,
        validators=[
            RegexValidator(
                r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
                _("半角の英小文字・数字・ハイフンで入力してください。"),
            )
        ],
        help_text=_("API やコマンドで会社を指定するときに使います。空欄なら自動で作成します。"),
    )
    website = forms.URLField(label=_("ウェブサイト（任意）"), required=False, assume_scheme="https")
    invoice_registration_number = forms.CharField(
        label=_("適格請求書発行事業者登録番号（任意）"),
        max_length=20,
        required=False,
        help_text=_("T から始まる14桁です。明細書に記載します。"),
    )

    def clean_slug(self) -> str:
        """Checked here as well as in `company_create`, so a taken identifier shows together
        with the other fields' errors."""
        from companies.services import company_slug_check

        slug = self.cleaned_data["slug"].strip().lower()
        if slug:
            try:
                company_slug_check(slug=slug)
            except ApplicationError as exc:
                raise ValidationError(exc.message, code="slug") from exc
        return slug

    def clean_invoice_registration_number(self) -> str:
        value = self.cleaned_data["invoice_registration_number"].strip()
        return validate_invoice_registration_number(value) if value else ""


class PartnershipProposeForm(forms.Form):
    agency = forms.ModelChoiceField(
        label=_("人材紹介会社"),
        queryset=Agency.objects.none(),
        empty_label=_("選択してください"),
    )
    referrals_per_free_hire = forms.IntegerField(
        label=_("無料採用1件に必要な有効紹介数"), min_value=1, max_value=1000, initial=10
    )
    rebate_rate = forms.DecimalField(
        label=_("還元率（%）"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        initial=Decimal("10.00"),
        help_text=_(
            "紹介した候補者が他社に入社したとき、紹介手数料（返金後）のうち還元される割合です。"
        ),
    )

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies

    def clean_agency(self) -> Agency:
        agency = self.cleaned_data["agency"]
        if agency is None:
            raise ValidationError(_("人材紹介会社を選択してください。"))
        return agency
