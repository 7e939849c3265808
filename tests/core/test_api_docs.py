"""API docs are served from local assets and work under our Content-Security-Policy."""

from __future__ import annotations

import pytest


def test_docs_pages_have_no_inline_script_and_no_cdn(client, db):
    swagger = client.get("/api/v1/docs/")
    assert swagger.status_code == 200
    html = swagger.content.decode()
    assert "<script>" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "https://" not in html
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    csp = swagger["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    redoc = client.get("/api/v1/redoc/").content.decode()
    assert "fonts.googleapis.com" not in redoc
    assert "<script>" not in redoc
    # Every other page keeps the strict policy.
    assert "'unsafe-inline'" not in client.get("/")["Content-Security-Policy"]


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_in_chromium(chromium, live_server):
    page = chromium.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 5
    assert page.get_by_text("/api/v1/partnerships/", exact=True).count() >= 1
    assert csp_errors == []
