"""Forms of the team and API-key pages (shared by the HR dashboard and the partner portal)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from careerrelay.core.tenancy_models import Role


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("権限"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("権限"), choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("キーの名前"),
        max_length=100,
        help_text=_("用途がわかる名前を付けてください（例: ATS連携）。"),
    )
