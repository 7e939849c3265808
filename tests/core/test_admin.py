"""Operator admin: agencies with licence validation, partnerships created through the service,
the audit log read-only and exportable as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib import admin
from django.utils import timezone

from agencies.models import Agency
from careerrelay.core.audit import audit_record
from careerrelay.core.models import AuditEvent
from companies.models import Partnership
from tests.factories import UserFactory


@pytest.fixture
def operator_client(client, db):
    operator = UserFactory(email="ops@careerrelay.example", is_staff=True, is_superuser=True)
    client.force_login(operator)
    return client


def _agency_form(**overrides):
    data = {
        "name": "全角エージェント株式会社",
        "slug": "zenkaku",
        "license_number": "１３ー ユ ー３０８８４１",
        "license_expires_on": (timezone.localdate() + dt.timedelta(days=400)).isoformat(),
        "verify_license": "on",
        "default_fee_rate": "33.00",
        "refund_tiers": "[[30, 50], [90, 30], [180, 10]]",
        "invoice_registration_number": "Ｔ４０１１００１０９８７６５",
        "contact_email": "info@zenkaku.example",
        "address": "",
        "privacy_policy_url": "",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_operator_onboards_an_agency_with_a_normalised_licence(operator_client):
    response = operator_client.post("/admin/agencies/agency/add/", _agency_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    agency = Agency.objects.get(slug="zenkaku")
    assert agency.license_number == "13-ユ-308841"
    assert agency.invoice_registration_number == "T4011001098765"
    assert agency.license_verified_at is not None
    assert agency.refund_tiers == [[30, 50], [90, 30], [180, 10]]
    actions = set(AuditEvent.objects.for_tenant(agency).values_list("action", flat=True))
    assert {"agency.created_by_operator", "agency.license_verified"} <= actions


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("license_number", "13-ア-308841", "13-ユ-123456"),
        ("license_number", "１３－ユ－３０８８", "13-ユ-123456"),
        ("refund_tiers", "[[90, 30], [30, 50]]", "小さい順"),
        ("refund_tiers", "[]", "必須"),
        ("refund_tiers", "[[30]]", "整数の組"),
        ("license_expires_on", "2000-01-01", "有効期限が切れている"),
    ],
)
def test_invalid_agency_input_is_refused_and_writes_nothing(operator_client, field, value, message):
    response = operator_client.post("/admin/agencies/agency/add/", _agency_form(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Agency.objects.filter(slug="zenkaku").exists()
    assert not AuditEvent.objects.unscoped().exists()


def test_operator_creates_an_active_partnership(operator_client, company, agency):
    response = operator_client.post(
        "/admin/companies/partnership/add/",
        {
            "company": company.pk,
            "agency": agency.pk,
            "referrals_per_free_hire": "10",
            "rebate_rate": "15",
        },
    )
    assert response.status_code == 302
    partnership = Partnership.objects.for_tenant(company).get()
    assert partnership.status == "active"
    assert partnership.proposed_by == "operator"
    assert (
        AuditEvent.objects.for_tenant(agency)
        .filter(action="partnership.created_by_operator")
        .exists()
    )
    again = operator_client.post(
        "/admin/companies/partnership/add/",
        {
            "company": company.pk,
            "agency": agency.pk,
            "referrals_per_free_hire": "10",
            "rebate_rate": "15",
        },
    )
    assert again.status_code == 200
    assert "すでに提携中、または提案中です" in again.content.decode()
    assert Partnership.objects.for_tenant(company).count() == 1


def test_audit_log_is_read_only_and_exports_csv(operator_client, company, hr_user):
    event = audit_record(
        actor=hr_user, tenant=company, action="membership.role_changed", data={"to": "管理者"}
    )
    assert operator_client.get("/admin/core/auditevent/add/").status_code == 403
    page = operator_client.get(f"/admin/core/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert operator_client.post(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
    listing = operator_client.get("/admin/core/auditevent/").content.decode()
    assert "export/" in listing
    response = operator_client.get("/admin/core/auditevent/export/?action=membership.role_changed")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["created_at_utc", "action", "actor"]
    assert rows[1][1] == "membership.role_changed"
    assert rows[1][2] == "hr@acme.example"
    assert rows[1][4] == "acme"
    assert rows[1][0].endswith("+00:00")
    assert "管理者" in rows[1][7]
    assert len(rows) == 2


def test_every_admin_page_loads(operator_client, partnership, hr_user, recruiter):
    for model in admin.site._registry:
        opts = model._meta
        response = operator_client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, f"{opts.label}: {response.status_code}"
