"""Bulk personal links from an ATS export: UTF-8, UTF-8 with BOM and Shift_JIS/CP932; per-line
errors with nothing created; the same file twice creates nothing new; download back as CSV."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from referrals.models import LinkBatch, ReferralLink

ROWS = (
    "name,email\r\n"
    "山田 太郎,taro@example.jp\r\n"
    "髙橋 ﾊﾅｺ,HANAKO@example.jp\r\n"
    "佐藤 一郎,ichiro@example.jp\r\n"
)


def upload(client, partnership, data: bytes, name: str = "ats.csv"):
    return client.post(
        "/app/links/bulk/",
        {"partnership": partnership.pk, "label": "2026秋", "file": SimpleUploadedFile(name, data)},
    )


@pytest.mark.parametrize(
    "data",
    [
        ROWS.encode("utf-8"),
        b"\xef\xbb\xbf" + ROWS.encode("utf-8"),
        ROWS.encode("cp932"),
        ROWS.replace("name,email", "氏名,メールアドレス").replace("髙", "高").encode("shift_jis"),
    ],
    ids=["utf8", "utf8-bom", "cp932", "shift_jis-japanese-headers"],
)
def test_upload_each_encoding_and_download(client_for, hr_user, partnership, data) -> None:
    client = client_for(hr_user)
    r = upload(client, partnership, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    batch = LinkBatch.all_objects.get()
    assert (batch.created_count, batch.existing_count) == (3, 0)
    assert ReferralLink.all_objects.filter(kind="personal").count() == 3
    result = client.get(r["Location"]).content.decode()
    assert "橋 ハナコ" in result  # half-width kana folded to full-width
    download = client.get(f"/app/links/bulk/{batch.pk}/download/")
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["name", "email", "url"]
    assert [r[1] for r in rows[1:]] == ["taro@example.jp", "hanako@example.jp", "ichiro@example.jp"]
    tokens = {link.token for link in ReferralLink.all_objects.all()}
    assert {r[2].rsplit("/", 2)[-2] for r in rows[1:]} == tokens
    sjis = client.get(f"/app/links/bulk/{batch.pk}/download/?encoding=sjis")
    assert "山田 太郎" in sjis.content.decode("cp932")


def test_same_file_twice_creates_no_duplicates(client_for, hr_user, partnership) -> None:
    client = client_for(hr_user)
    assert upload(client, partnership, ROWS.encode()).status_code == 302
    first = set(ReferralLink.all_objects.values_list("token", flat=True))
    r = upload(client, partnership, b"\xef\xbb\xbf" + ROWS.encode())
    assert r.status_code == 302
    assert set(ReferralLink.all_objects.values_list("token", flat=True)) == first
    second = LinkBatch.all_objects.order_by("-pk").first()
    assert (second.created_count, second.existing_count) == (0, 3)


def test_bad_rows_are_reported_per_line_and_nothing_is_created(
    client_for, hr_user, partnership
) -> None:
    bad = (
        "name,email\n"
        "山田 太郎,taro@example.jp\n"
        ",nobody@example.jp\n"
        "佐藤,not-an-email\n"
        "<script>alert(1)</script>,x@example.jp\n"
    ).encode()
    r = upload(client_for(hr_user), partnership, bad)
    assert r.status_code == 400
    page = r.content.decode()
    assert "3行目" in page
    assert "4行目" in page
    assert "5行目" in page
    assert "2行目" not in page
    assert "not-an-email" in page
    assert "<script>alert" not in page
    assert ReferralLink.all_objects.count() == 0
    assert LinkBatch.all_objects.count() == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "空"),
        (b"foo,bar\n1,2\n", "見出し"),
        (b"name,email\n", "候補者の行がありません"),
        (b"name,email\n\x81\xff\x81\xff,a@example.jp\n", "文字コード"),
    ],
)
def test_unreadable_files(client_for, hr_user, partnership, data, expected) -> None:
    r = upload(client_for(hr_user), partnership, data)
    assert r.status_code == 400
    assert expected in r.content.decode()
    assert ReferralLink.all_objects.count() == 0


def test_api_bulk_json_and_csv(api_client_for, company, partnership) -> None:
    api = api_client_for(company)
    r = api.post(
        "/api/v1/links/bulk/",
        {"partnership": partnership.pk, "file": SimpleUploadedFile("a.csv", ROWS.encode("cp932"))},
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["created"], body["existing"]) == (3, 0)
    assert next(row["email"] for row in body["rows"]) == "taro@example.jp"
    assert body["rows"][0]["url"].startswith("http://127.0.0.1:8000/r/")
    r = api.post(
        "/api/v1/links/bulk/?download=csv",
        {"partnership": partnership.pk, "file": SimpleUploadedFile("a.csv", ROWS.encode())},
        format="multipart",
    )
    assert r.status_code == 201
    assert r.content.decode("utf-8-sig").splitlines()[0] == "name,email,url"
    assert ReferralLink.all_objects.count() == 3
    bad = api.post(
        "/api/v1/links/bulk/",
        {
            "partnership": partnership.pk,
            "file": SimpleUploadedFile("b.csv", b"name,email\nx,bad\n"),
        },
        format="multipart",
    )
    assert bad.status_code == 400
    assert bad.json()["extra"]["errors"][0]["line"] == 2
    assert "file" in bad.json()


def test_batches_are_tenant_scoped(
    client_for, hr_user, other_hr_user, recruiter, partnership
) -> None:
    client = client_for(hr_user)
    assert upload(client, partnership, ROWS.encode()).status_code == 302
    batch = LinkBatch.all_objects.get()
    client.force_login(other_hr_user)
    assert client.get(f"/app/links/bulk/{batch.pk}/").status_code == 404
    assert client.get(f"/app/links/bulk/{batch.pk}/download/").status_code == 404
    # Another company cannot upload onto this company's partnership.
    r = upload(client, partnership, ROWS.replace("taro", "jiro").encode())
    assert r.status_code == 400
    client.force_login(recruiter)  # agencies have no HR link pages
    assert client.get("/app/links/").status_code == 404
    assert client.get(f"/app/links/bulk/{batch.pk}/download/").status_code == 404
    assert ReferralLink.all_objects.count() == 3
