"""Forms of the HR dashboard: the period picker, branding (logo, landing message) and language."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from companies.branding import MAX_LOGO_BYTES, LogoError, logo_normalise
from companies.stats import MAX_PERIOD_DAYS, Period
from referrals.rollups import tokyo_today

PRESETS = {"30d": 30, "90d": 90}


def default_period(today: dt.date | None = None) -> Period:
    """The last 12 calendar months, this one included."""
    today = today or tokyo_today()
    first = today.replace(day=1)
    for _i in range(11):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return Period(start=first, end=today)


class PeriodForm(forms.Form):
    """GET parameters `range` (12m, 90d, 30d, custom) and, for a custom range, `start` and `end`
    (YYYY-MM-DD, Tokyo days). Dates without a range mean a custom range."""

    range = forms.ChoiceField(
        label=_("期間"),
        required=False,
        choices=[
            ("12m", _("過去12か月")),
            ("90d", _("過去90日")),
            ("30d", _("過去30日")),
            ("custom", _("開始日〜終了日で指定")),
        ],
    )
    start = forms.DateField(
        label=_("開始日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日付は 2026-04-01 のように年-月-日で入力してください。")},
    )
    end = forms.DateField(
        label=_("終了日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日付は 2026-04-01 のように年-月-日で入力してください。")},
    )

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or tokyo_today()

    def selected_range(self) -> str:
        """The range the picker shows as chosen."""
        if not self.is_bound:
            return "12m"
        chosen = self.data.get("range") or ""
        if chosen in PRESETS or chosen in ("12m", "custom"):
            return chosen
        return "custom" if self.data.get("start") or self.data.get("end") else "12m"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.selected_range() != "custom":
            # A preset ignores whatever dates were left in the fields.
            self.errors.pop("start", None)
            self.errors.pop("end", None)
            data.pop("start", None)
            data.pop("end", None)
            return data
        if self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            for name, value in (("start", start), ("end", end)):
                if value is None:
                    self.add_error(name, _("開始日と終了日の両方を入力してください。"))
            return data
        if start > self.today:
            self.add_error("start", _("開始日に未来の日付は指定できません。"))
        if end > self.today:
            self.add_error("end", _("終了日に未来の日付は指定できません。"))
        if start > end:
            self.add_error("end", _("終了日は開始日と同じか、それより後の日付にしてください。"))
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            self.add_error("end", _("期間は3年以内で指定してください。"))
        return data

    def period(self) -> Period:
        """The chosen period; the default (last 12 months) when the input is invalid or empty."""
        if not self.is_bound or not self.is_valid():
            return default_period(self.today)
        chosen = self.selected_range()
        if chosen == "custom":
            return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])
        days = PRESETS.get(chosen)
        if days:
            return Period(start=self.today - dt.timedelta(days=days - 1), end=self.today)
        return default_period(self.today)


class BrandingForm(forms.Form):
    """What the company shows candidates on the landing page."""

    logo = forms.FileField(
        label=_("ロゴ画像"),
        required=False,
        help_text=_("PNG・JPEG・GIF・WebP、1 MB まで。PNG に変換して保存します。"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    remove_logo = forms.BooleanField(label=_("ロゴを削除する"), required=False)
    landing_message = forms.CharField(
        label=_("候補者へのメッセージ"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "お見送りした候補者へ、ランディングページで表示するメッセージです（2,000字まで）。"
        ),
    )

    def clean_logo(self) -> Any:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > MAX_LOGO_BYTES:
            raise forms.ValidationError(
                _("ロゴ画像は 1 MB 以下にしてください（%(size)s KB でした）。"),
                params={"size": upload.size // 1024},
                code="too_large",
            )
        try:
            return logo_normalise(upload=upload)
        except LogoError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("表示言語"),
        # Each language named in itself, as language pickers do.
        choices=[("ja", "日本語"), ("en", "English")],
        widget=forms.RadioSelect,
    )
