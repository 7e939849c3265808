"""Found in browser QA: a missing page answered Django's bare English "Not Found", and template
strings with a "%" never reached English (the translate tag looks them up with the "%" doubled)."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading", "home"),
    [
        ("ja", "ページが見つかりません", "トップページへ"),
        ("en", "Page not found", "Go to the home page"),
    ],
)
def test_unknown_candidate_link_shows_the_branded_404_in_the_visitors_language(
    client: Any, language: str, heading: str, home: str
) -> None:
    r = client.get("/r/no-such-token-0000/", HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 404
    page = r.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert home in page
    assert "The requested resource was not found" not in page


@pytest.mark.parametrize(
    ("language", "heading"), [("ja", "エラーが発生しました"), ("en", "Something went wrong")]
)
def test_server_error_page_renders_without_a_request_context(language: str, heading: str) -> None:
    with translation.override(language):
        r = server_error(RequestFactory().get("/"))
    assert r.status_code == 500
    assert f"<h1>{heading}</h1>" in r.content.decode()


@pytest.mark.parametrize(
    ("msgid", "english"),
    [
        ("小計（10%対象・税抜）", "Subtotal (10% rate, excl. tax)"),
        ("10%対象 合計（税抜）", "Total at 10% (excl. tax)"),
        (
            "毎月1日に前月分の還元を精算し、明細書（PDF）を発行します。金額は税抜で、"
            "消費税（10%）を別に記載しています。",
            "the 10% consumption tax is shown separately.",
        ),
    ],
)
def test_template_strings_with_a_percent_sign_are_translated(msgid: str, english: str) -> None:
    source = '{% load i18n %}{% translate "' + msgid + '" %}'
    with translation.override("en"):
        assert english in Template(source).render(Context())
    with translation.override("ja"):
        assert Template(source).render(Context()) == msgid
