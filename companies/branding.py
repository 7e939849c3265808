"""Writes of the company settings page: the logo and message candidates see on the landing page,
and the language a user reads the dashboard in.

Logos are never stored as uploaded: the bytes must decode as a PNG, JPEG, GIF or WebP image of
sane dimensions, and are re-encoded to a PNG under a random name, so whatever serves media only
ever serves a clean PNG (no SVG, no HTML disguised as an image, no metadata)."""

from __future__ import annotations

import io
import secrets
import warnings
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from careerrelay.core.audit import audit_record
from companies.models import Company

MAX_LOGO_BYTES = 1_048_576
MAX_LOGO_SIDE = 4000
LOGO_BOX = (800, 400)
LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class LogoError(ValueError):
    def __init__(self, message: Any, code: str) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


def logo_normalise(*, upload: Any) -> ContentFile:
    """Check that the upload is a real raster image and re-encode it as a PNG that fits LOGO_BOX.
    Raises LogoError with a message for the person uploading."""
    if upload.size > MAX_LOGO_BYTES:
        raise LogoError(_("ロゴ画像は 1 MB 以下にしてください。"), "too_large")
    data = upload.read(MAX_LOGO_BYTES + 1)
    not_image = LogoError(
        _("画像として読み込めませんでした。PNG・JPEG・GIF・WebP の画像を選んでください。"),
        "not_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in LOGO_FORMATS:
                raise not_image
            width, height = probe.size
            if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE:
                raise LogoError(
                    _("画像が大きすぎます。縦横 4,000 ピクセル以内の画像を選んでください。"),
                    "too_many_pixels",
                )
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except LogoError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise not_image from exc
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    image.thumbnail(LOGO_BOX)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{secrets.token_urlsafe(12)}.png")


@transaction.atomic
def company_branding_update(
    *,
    company: Company,
    actor: Any,
    landing_message: str,
    logo: ContentFile | None = None,
    remove_logo: bool = False,
    request: Any = None,
) -> Company:
    """Update the landing-page message and logo. Side effects: writes the new PNG to media
    storage, deletes the previous logo file after commit, writes an audit row."""
    company = Company.objects.select_for_update().get(pk=company.pk)
    old_name = company.logo.name if company.logo else ""
    changed: list[str] = []
    if company.landing_message != landing_message:
        company.landing_message = landing_message
        changed.append("landing_message")
    if logo is not None:
        company.logo.save(f"{company.pk}-{logo.name}", logo, save=False)
        changed.append("logo")
    elif remove_logo and old_name:
        company.logo = ""
        changed.append("logo")
    if not changed:
        return company
    company.save(update_fields=changed)
    audit_record(
        actor=actor,
        tenant=company,
        action="company.branding_updated",
        target=company,
        data={"fields": changed},
        request=request,
    )
    if "logo" in changed and old_name:
        storage = company.logo.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    return company


def user_language_set(*, user: Any, language: str) -> None:
    """Remember the user's dashboard language. Side effect: saves the user."""
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
