"""Partner-portal forms. They parse and label input; the business rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from referrals.models import ReferralStage, ReferralStatus


class DateInput(forms.DateInput):
    input_type = "date"


class InboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("検索"),
        required=False,
        max_length=200,
        help_text=_("メールアドレス・電話番号（完全一致）または紹介番号（R-000123）"),
    )
    status = forms.ChoiceField(
        label=_("状態"), required=False, choices=[("", _("すべて")), *ReferralStatus.choices]
    )
    stage = forms.ChoiceField(
        label=_("段階"), required=False, choices=[("", _("すべて")), *ReferralStage.choices]
    )
    company = forms.ChoiceField(label=_("紹介元企業"), required=False)
    date_from = forms.DateField(label=_("登録日（から）"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("登録日（まで）"), required=False, widget=DateInput)
    verified = forms.ChoiceField(
        label=_("メール確認"),
        required=False,
        choices=[("", _("すべて")), ("yes", _("確認済み")), ("no", _("未確認"))],
    )

    def __init__(self, *args: Any, companies: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].choices = [("", _("すべて"))] + [(c.slug, c.name) for c in companies]


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("段階"), choices=ReferralStage.choices)


class BulkStageForm(forms.Form):
    stage = forms.ChoiceField(label=_("選択した候補者の段階を変更"), choices=ReferralStage.choices)
    referrals = forms.TypedMultipleChoiceField(
        label=_("候補者"), coerce=int, required=False, error_messages={"invalid_choice": ""}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ids are checked against the agency's rows by the service, not here.
        values = self.data.getlist("referrals") if hasattr(self.data, "getlist") else []
        self.fields["referrals"].choices = [(v, v) for v in values if str(v).isdigit()]


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("メモ"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        label=_("無効にする理由"),
        max_length=300,
        help_text=_("例: 重複登録、虚偽の登録、面談に来られなかった"),
    )


class PlacementForm(forms.Form):
    referral = forms.IntegerField(
        label=_("紹介番号"),
        required=False,
        min_value=1,
        help_text=_("紹介された候補者の場合は R-000123 の数字部分。紹介でない場合は空欄"),
    )
    candidate_name = forms.CharField(
        label=_("候補者名（紹介でない場合）"), required=False, max_length=100
    )
    hiring_company = forms.ChoiceField(label=_("入社先（提携企業）"), required=False)
    hiring_company_name = forms.CharField(
        label=_("入社先企業名（提携企業以外）"), required=False, max_length=200
    )
    annual_salary_jpy = forms.IntegerField(label=_("理論年収（円）"))
    fee_rate = forms.DecimalField(
        label=_("手数料率（%）"),
        required=False,
        max_digits=7,
        decimal_places=2,
        help_text=_("空欄の場合は貴社の標準手数料率を使います"),
    )
    start_date = forms.DateField(label=_("入社日"), widget=DateInput)
    free_hire = forms.BooleanField(
        label=_("無料採用枠を使う（入社先が枠を保有している場合）"), required=False
    )

    def __init__(self, *args: Any, companies: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hiring_company"].choices = [("", "—")] + [(c.slug, c.name) for c in companies]

    def clean(self) -> dict[str, Any]:
        """Every field's errors at once: the input-only rules of `placement_create` are checked
        here for each field (the service re-checks them, plus those needing the database)."""
        from agencies.services import placement_input_check

        data = super().clean()
        problems = placement_input_check(
            annual_salary_jpy=data.get("annual_salary_jpy"),
            fee_rate=data.get("fee_rate"),
            referral_id=data.get("referral"),
            candidate_name=data.get("candidate_name") or "",
            hiring_company_slug=data.get("hiring_company") or "",
            hiring_company_name=data.get("hiring_company_name") or "",
        )
        # A field that failed its own parsing already shows that error; an unparsable referral
        # or hiring company is not "missing" either.
        failed = set(self.errors)
        if "referral" in failed:
            problems.pop("referral", None)
        if "hiring_company" in failed:
            problems.pop("hiring_company_name", None)
        for field, message in problems.items():
            if field not in failed:
                self.add_error(field, message)
        return data


class EarlyLeaveForm(forms.Form):
    left_on = forms.DateField(label=_("退職日"), widget=DateInput)
