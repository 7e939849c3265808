"""Company settings: logo upload (size cap, real image check, re-encoded PNG), landing message,
language; nothing written on bad input."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from careerrelay.core.models import AuditEvent
from companies.models import Company
from tests.factories import CompanyMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _png(size=(300, 120), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (21, 89, 198)).save(out, format=fmt)
    return out.getvalue()


def _post(client, **files_and_data):
    data = {
        "form": "branding",
        "landing_message": "ご応募ありがとうございました。",
        **files_and_data,
    }
    return client.post("/app/settings/", data)


def test_a_real_image_is_saved_as_a_png_with_the_message(client_for, hr_user, company):
    upload = SimpleUploadedFile("logo.jpg", _png(fmt="JPEG"), content_type="image/jpeg")
    response = _post(client_for(hr_user), logo=upload)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.landing_message == "ご応募ありがとうございました。"
    assert company.logo.name.startswith("logos/")
    assert company.logo.name.endswith(".png")
    with company.logo.open("rb") as fh:
        assert Image.open(fh).format == "PNG"
    assert AuditEvent.all_objects.filter(action="company.branding_updated").count() == 1
    served = client_for(hr_user).get("/app/settings/logo.png")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "logo.png",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
            "画像として読み込めません",
        ),
        ("logo.png", b"<html><body>not an image</body></html>", "画像として読み込めません"),
        ("logo.png", _png()[:60], "画像として読み込めません"),
        ("logo.png", b"\x89PNG" + b"0" * (1_048_576 + 10), "1 MB 以下"),
    ],
)
def test_bad_logos_are_refused_with_a_reason_and_nothing_changes(
    client_for, hr_user, company, name, content, message
):
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = _post(client_for(hr_user), logo=upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    company.refresh_from_db()
    assert not company.logo
    assert company.landing_message == ""
    assert not AuditEvent.all_objects.filter(action="company.branding_updated").exists()


def test_an_overlong_message_is_refused(client_for, hr_user, company):
    response = client_for(hr_user).post(
        "/app/settings/", {"form": "branding", "landing_message": "あ" * 2001}
    )
    assert response.status_code == 400
    company.refresh_from_db()
    assert company.landing_message == ""


def test_a_member_cannot_change_branding_but_can_choose_a_language(client_for, company):
    member = CompanyMemberFactory(
        company=company, user=UserFactory(email="member@acme.example"), role="member"
    ).user
    client = client_for(member)
    assert _post(client).status_code == 404
    assert Company.objects.get(pk=company.pk).landing_message == ""
    response = client.post("/app/settings/", {"form": "language", "language": "en"})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.language == "en"
    page = client.get("/app/settings/")
    assert page.wsgi_request.LANGUAGE_CODE == "en"


def test_an_unknown_language_is_refused(client_for, hr_user):
    response = client_for(hr_user).post("/app/settings/", {"form": "language", "language": "xx"})
    assert response.status_code == 400
    hr_user.refresh_from_db()
    assert hr_user.language == "ja"


def test_the_logo_of_a_company_without_one_is_404(client_for, hr_user):
    assert client_for(hr_user).get("/app/settings/logo.png").status_code == 404


def test_the_saved_language_applies_on_a_new_browser(client, hr_user, company):
    hr_user.language = "en"
    hr_user.save()
    client.force_login(hr_user)
    response = client.get("/app/")
    assert "<h1>Dashboard</h1>" in response.content.decode()
    assert response.cookies["django_language"].value == "en"
    # A choice made in this browser (the language switch) wins over the saved preference.
    client.cookies["django_language"] = "ja"
    assert "<h1>ダッシュボード</h1>" in client.get("/app/").content.decode()
