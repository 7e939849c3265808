"""The consent texts the candidate agrees to, rendered once for the page and hashed for the
receipt, so a receipt proves exactly which words (and which version) the candidate saw."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ConsentTexts:
    privacy: str
    third_party: str
    privacy_version: str
    third_party_version: str

    @property
    def sha256(self) -> str:
        body = "\n".join(
            [self.privacy_version, self.privacy, self.third_party_version, self.third_party]
        )
        return hashlib.sha256(body.encode()).hexdigest()


def consent_texts(
    *, company_name: str, agency_name: str, agency_license_number: str
) -> ConsentTexts:
    """The two consents in the active language (the candidate's)."""
    privacy = _(
        "キャリアリレーのプライバシーポリシー（版: %(version)s）を読み、"
        "入力した情報が登録・本人確認・ご連絡のために利用されることに同意します。"
    ) % {"version": settings.PRIVACY_POLICY_VERSION}
    third_party = _(
        "入力した個人情報（氏名・メールアドレス・電話番号・希望職種・希望勤務地）を、"
        "職業紹介のために %(agency)s（有料職業紹介事業 許可番号 %(license)s）へ"
        "提供することに同意します。%(company)s には連絡先は提供されず、"
        "紹介の状況のみが共有されます。"
    ) % {"agency": agency_name, "license": agency_license_number, "company": company_name}
    return ConsentTexts(
        privacy=privacy,
        third_party=third_party,
        privacy_version=settings.PRIVACY_POLICY_VERSION,
        third_party_version=settings.THIRD_PARTY_CONSENT_VERSION,
    )
