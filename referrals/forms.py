"""Forms: the candidate's registration on the landing page, and the HR link forms. Forms only
validate input shape; the rules live in services."""

from __future__ import annotations

import threading
import unicodedata
from typing import Any

from django import forms
from django.core.validators import validate_email
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from referrals import pii
from referrals.models import LinkKind

# (stored value = Japanese name, English name) in JIS X 0401 order.
PREFECTURES: list[tuple[str, str]] = [
    ("北海道", "Hokkaido"),
    ("青森県", "Aomori"),
    ("岩手県", "Iwate"),
    ("宮城県", "Miyagi"),
    ("秋田県", "Akita"),
    ("山形県", "Yamagata"),
    ("福島県", "Fukushima"),
    ("茨城県", "Ibaraki"),
    ("栃木県", "Tochigi"),
    ("群馬県", "Gunma"),
    ("埼玉県", "Saitama"),
    ("千葉県", "Chiba"),
    ("東京都", "Tokyo"),
    ("神奈川県", "Kanagawa"),
    ("新潟県", "Niigata"),
    ("富山県", "Toyama"),
    ("石川県", "Ishikawa"),
    ("福井県", "Fukui"),
    ("山梨県", "Yamanashi"),
    ("長野県", "Nagano"),
    ("岐阜県", "Gifu"),
    ("静岡県", "Shizuoka"),
    ("愛知県", "Aichi"),
    ("三重県", "Mie"),
    ("滋賀県", "Shiga"),
    ("京都府", "Kyoto"),
    ("大阪府", "Osaka"),
    ("兵庫県", "Hyogo"),
    ("奈良県", "Nara"),
    ("和歌山県", "Wakayama"),
    ("鳥取県", "Tottori"),
    ("島根県", "Shimane"),
    ("岡山県", "Okayama"),
    ("広島県", "Hiroshima"),
    ("山口県", "Yamaguchi"),
    ("徳島県", "Tokushima"),
    ("香川県", "Kagawa"),
    ("愛媛県", "Ehime"),
    ("高知県", "Kochi"),
    ("福岡県", "Fukuoka"),
    ("佐賀県", "Saga"),
    ("長崎県", "Nagasaki"),
    ("熊本県", "Kumamoto"),
    ("大分県", "Oita"),
    ("宮崎県", "Miyazaki"),
    ("鹿児島県", "Kagoshima"),
    ("沖縄県", "Okinawa"),
]
PREFECTURE_VALUES = {ja for ja, _en in PREFECTURES}
NAME_MAX = 100
ROLE_MAX = 100
HONEYPOT_FIELD = "website"


def prefecture_choices() -> list[tuple[str, str]]:
    english = (translation.get_language() or "ja").startswith("en")
    return [("", _("選択してください"))] + [(ja, en if english else ja) for ja, en in PREFECTURES]


def _no_markup(value: str) -> None:
    if "<" in value or ">" in value:
        raise forms.ValidationError(_("記号 < と > は使えません。"))
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise forms.ValidationError(_("使用できない文字が含まれています。"))


class RegistrationForm(forms.Form):
    name = forms.CharField(
        label=_("お名前"),
        max_length=NAME_MAX,
        error_messages={
            "required": _("お名前を入力してください。"),
            "max_length": _("お名前は%(limit_value)d文字以内で入力してください。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.CharField(
        label=_("メールアドレス"),
        max_length=254,
        error_messages={
            "required": _("メールアドレスを入力してください。"),
            "max_length": _("メールアドレスが長すぎます。"),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    phone = forms.CharField(
        label=_("電話番号"),
        max_length=20,
        error_messages={
            "required": _("電話番号を入力してください。"),
            "max_length": _("電話番号が長すぎます。"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    desired_role = forms.CharField(
        label=_("希望職種"),
        max_length=ROLE_MAX,
        required=False,
        error_messages={"max_length": _("希望職種は%(limit_value)d文字以内で入力してください。")},
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    prefecture = forms.ChoiceField(
        label=_("希望勤務地（都道府県）"),
        choices=(),
        error_messages={
            "required": _("希望勤務地を選択してください。"),
            "invalid_choice": _("希望勤務地を一覧から選択してください。"),
        },
    )
    consent_privacy = forms.BooleanField(
        required=True,
        error_messages={"required": _("プライバシーポリシーへの同意が必要です。")},
    )
    consent_third_party = forms.BooleanField(
        required=True,
        error_messages={"required": _("紹介会社への個人情報の提供への同意が必要です。")},
    )
    # A honeypot: hidden from people, filled in by naive bots.
    website = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["prefecture"].choices = prefecture_choices()
        self.fields["website"].widget.attrs.update(
            {"tabindex": "-1", "autocomplete": "off", "class": "hp-input"}
        )

    def is_bot(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def clean_name(self) -> str:
        value = pii.fold(self.cleaned_data["name"])
        _no_markup(value)
        if not value:
            raise forms.ValidationError(_("お名前を入力してください。"))
        return value

    def clean_email(self) -> str:
        value = pii.normalise_email(self.cleaned_data["email"])
        try:
            validate_email(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                _("メールアドレスの形式が正しくありません（例: taro@example.jp）。")
            ) from exc
        return value

    def clean_phone(self) -> str:
        raw = pii.fold(self.cleaned_data["phone"])
        allowed = set("0123456789+-() ")
        digits = pii.normalise_phone(raw)
        if any(ch not in allowed for ch in raw) or not 10 <= len(digits) <= 11:
            raise forms.ValidationError(
                _("電話番号は半角数字10〜11桁で入力してください（例: 090-1234-5678）。")
            )
        return raw

    def clean_desired_role(self) -> str:
        value = pii.fold(self.cleaned_data.get("desired_role") or "")
        _no_markup(value)
        return value

    def clean_prefecture(self) -> str:
        value = self.cleaned_data["prefecture"]
        if value not in PREFECTURE_VALUES:
            raise forms.ValidationError(_("希望勤務地を一覧から選択してください。"))
        return value


# The landing page renders the registration form with plain markup (landing.html) from this
# context rather than through Django's widget templates: rendering 47 <option>s through the
# template engine on every page view was most of the page's CPU time.
TEXT_INPUTS = (
    # name, input type, autocomplete, inputmode
    ("name", "text", "name", ""),
    ("email", "email", "email", "email"),
    ("phone", "tel", "tel", "tel"),
    ("desired_role", "text", "organization-title", ""),
)
_options_cache: dict[tuple[str, str], SafeString] = {}
_options_lock = threading.Lock()


def prefecture_options_html(selected: str = "") -> SafeString:
    """The <option>s of the prefecture select in the active language, built once per
    (language, selected value)."""
    if selected not in PREFECTURE_VALUES:
        selected = ""
    key = (translation.get_language() or "ja", selected)
    html = _options_cache.get(key)
    if html is None:
        parts = [
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(label)}</option>"
            for value, label in prefecture_choices()
        ]
        html = mark_safe("".join(parts))  # noqa: S308 - every part is escaped above
        with _options_lock:
            _options_cache[key] = html
    return html


def landing_form_context(form: RegistrationForm | None, consents: Any) -> dict[str, Any]:
    """What landing.html needs to render the form: values as entered, errors next to fields.
    `form=None` is the empty form of a page view (no form instance needed)."""
    bound = form is not None and form.is_bound
    errors = form.errors if form is not None and bound else {}
    data: Any = form.data if form is not None and bound else {}
    base = RegistrationForm.base_fields
    fields = []
    for name, input_type, autocomplete, inputmode in TEXT_INPUTS:
        field = base[name]
        fields.append(
            {
                "name": name,
                "type": input_type,
                "label": field.label,
                "required": field.required,
                "max_length": field.max_length,
                "autocomplete": autocomplete,
                "inputmode": inputmode,
                "value": str(data.get(name, "")),
                "errors": errors.get(name, []),
            }
        )
    fields.append(
        {
            "name": "prefecture",
            "label": base["prefecture"].label,
            "required": True,
            "errors": errors.get("prefecture", []),
        }
    )
    consent_fields = [
        {
            "name": name,
            "text": text,
            "checked": bool(data.get(name)),
            "errors": errors.get(name, []),
        }
        for name, text in (
            ("consent_privacy", consents.privacy),
            ("consent_third_party", consents.third_party),
        )
    ]
    return {
        "fields": fields,
        "consent_fields": consent_fields,
        "prefecture_options": prefecture_options_html(str(data.get("prefecture", ""))),
        "non_field_errors": form.non_field_errors() if form is not None and bound else [],
    }


class LinkCreateForm(forms.Form):
    partnership = forms.ChoiceField(label=_("提携先の紹介会社"))
    kind = forms.ChoiceField(label=_("種類"), choices=LinkKind.choices, initial=LinkKind.CAMPAIGN)
    label = forms.CharField(
        label=_("ラベル"),
        max_length=120,
        help_text=_("例: 2026年度 中途採用（営業職）"),
    )
    candidate_name = forms.CharField(
        label=_("候補者名（個別リンク）"), max_length=100, required=False
    )
    candidate_email = forms.CharField(
        label=_("候補者のメールアドレス（個別リンク）"), max_length=254, required=False
    )
    expires_at = forms.DateField(
        label=_("有効期限（任意）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, partnerships: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].choices = [(str(p.pk), p.agency.name) for p in partnerships]


class BulkUploadForm(forms.Form):
    partnership = forms.ChoiceField(label=_("提携先の紹介会社"))
    label = forms.CharField(label=_("ラベル"), max_length=120, required=False)
    file = forms.FileField(
        label=_("CSVファイル（列: name, email）"),
        error_messages={"required": _("CSVファイルを選択してください。")},
    )

    def __init__(self, *args: Any, partnerships: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partnership"].choices = [(str(p.pk), p.agency.name) for p in partnerships]
