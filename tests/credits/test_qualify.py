"""Qualification, conversion, disqualification, redemption and restoration of free hires."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from agencies.models import Placement
from careerrelay.core.errors import ApplicationError
from careerrelay.core.models import AuditEvent, Notification
from credits.models import EntryKind, LedgerTransaction
from credits.services import (
    free_hire_redeem,
    free_hire_restore,
    ledger_reverse,
    referral_disqualify,
    referral_qualify,
)
from referrals.models import Referral
from tests.credits.helpers import assert_balances_match_entries, balances, make_referrals
from tests.factories import AgencyMemberFactory, CompanyMemberFactory, UserFactory


def _placement(partnership: Any, *, free_hire: bool = True, **kw: Any) -> Placement:
    start = timezone.localdate()
    return Placement.all_objects.create(
        agency=partnership.agency,
        hiring_company=partnership.company,
        hiring_company_name=partnership.company.name,
        annual_salary_jpy=6_000_000,
        fee_rate="35.00",
        fee_jpy=0 if free_hire else 2_100_000,
        start_date=start,
        guarantee_ends_on=start + dt.timedelta(days=180),
        free_hire=free_hire,
        **kw,
    )


def test_qualifying_posts_one_point_and_marks_the_referral(partnership: Any, recruiter: Any):
    (referral,) = make_referrals(partnership, 1)
    result = referral_qualify(referral=referral, actor=recruiter)
    assert result.status == "qualified"
    assert result.stage == "interviewed"
    assert result.qualified_at is not None
    referral.refresh_from_db()
    assert referral.status == "qualified"
    assert balances(partnership)["points"] == 1
    tx = LedgerTransaction.objects.for_tenant(partnership.company).get(kind="qualify")
    assert tx.idempotency_key == f"qualify:{referral.pk}"
    assert tx.referral_id == referral.pk
    assert (
        AuditEvent.objects.for_tenant(partnership.agency)
        .filter(action="referral.qualify", actor=recruiter, target_id=str(referral.pk))
        .exists()
    )


def test_qualifying_twice_posts_one_point(partnership: Any) -> None:
    (referral,) = make_referrals(partnership, 1)
    referral_qualify(referral=referral)
    referral_qualify(referral=referral)
    assert balances(partnership)["points"] == 1
    assert LedgerTransaction.objects.for_tenant(partnership.company).count() == 1


@pytest.mark.parametrize("status", ["duplicate", "held", "withdrawn"])
def test_duplicate_held_or_withdrawn_referrals_cannot_be_qualified(
    partnership: Any, status: str
) -> None:
    (referral,) = make_referrals(partnership, 1, status=status)
    with pytest.raises(ApplicationError) as exc:
        referral_qualify(referral=referral)
    assert exc.value.field == "status"
    referral.refresh_from_db()
    assert referral.status == status
    assert not LedgerTransaction.objects.for_tenant(partnership.company).exists()


def test_tenth_qualification_converts_ten_points_to_one_free_hire(
    partnership: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hr = CompanyMemberFactory(company=partnership.company, user=UserFactory()).user
    hr_en = CompanyMemberFactory(company=partnership.company, user=UserFactory(language="en")).user
    referrals = make_referrals(partnership, 10)
    with django_capture_on_commit_callbacks(execute=True):
        for referral in referrals[:9]:
            referral_qualify(referral=referral)
    assert balances(partnership)["points"] == 9
    assert balances(partnership)["free_hires"] == 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        referral_qualify(referral=referrals[9])
    b = balances(partnership)
    assert (b["points"], b["free_hires"], b["free_hires_issued"]) == (0, 1, -1)
    convert = LedgerTransaction.objects.for_tenant(partnership.company).get(kind="convert")
    assert convert.idempotency_key == f"convert:{partnership.pk}:1"
    assert_balances_match_entries(partnership)

    # One in-app notice and one email per HR member, each in the member's language.
    notice = Notification.objects.for_tenant(partnership.company).get()
    assert partnership.agency.name in notice.message
    assert notice.url == "/app/credits/"
    by_rcpt = {m.to[0]: m for m in mail.outbox}
    assert set(by_rcpt) == {hr.email, hr_en.email}
    assert "無料採用枠を獲得しました" in by_rcpt[hr.email].subject
    assert "free hire" in by_rcpt[hr_en.email].subject.lower()

    # A second delivery of the same notice (e.g. a retried callback) sends nothing.
    from credits.notifications import free_hire_earned_notify

    assert free_hire_earned_notify(transaction_id=convert.pk) is False
    assert len(mail.outbox) == 2
    assert Notification.objects.for_tenant(partnership.company).count() == 1


def test_threshold_is_per_partnership(partnership: Any) -> None:
    partnership.referrals_per_free_hire = 3
    partnership.save()
    for referral in make_referrals(partnership, 7):
        referral_qualify(referral=referral)
    b = balances(partnership)
    assert (b["points"], b["free_hires"]) == (1, 2)


def test_disqualifying_a_qualified_referral_takes_back_one_point_once(
    partnership: Any, recruiter: Any
) -> None:
    (referral,) = make_referrals(partnership, 1)
    referral_qualify(referral=referral)
    referral_disqualify(referral=referral, reason="面談に来られなかったため", actor=recruiter)
    referral_disqualify(referral=referral, reason="二回目", actor=recruiter)
    referral.refresh_from_db()
    assert referral.status == "disqualified"
    assert referral.disqualify_reason == "面談に来られなかったため"
    assert balances(partnership)["points"] == 0
    tx = LedgerTransaction.objects.for_tenant(partnership.company).get(kind="disqualify")
    assert tx.idempotency_key == f"disqualify:{referral.pk}:1"


def test_disqualifying_a_new_referral_posts_nothing(partnership: Any) -> None:
    (referral,) = make_referrals(partnership, 1)
    referral_disqualify(referral=referral, reason="重複登録")
    referral.refresh_from_db()
    assert referral.status == "disqualified"
    assert not LedgerTransaction.objects.for_tenant(partnership.company).exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_disqualifying_needs_a_reason(partnership: Any, reason: str) -> None:
    (referral,) = make_referrals(partnership, 1)
    referral_qualify(referral=referral)
    with pytest.raises(ApplicationError) as exc:
        referral_disqualify(referral=referral, reason=reason)
    assert exc.value.field == "reason"
    referral.refresh_from_db()
    assert referral.status == "qualified"
    assert balances(partnership)["points"] == 1


def test_requalifying_after_disqualification_posts_a_new_point(partnership: Any) -> None:
    (referral,) = make_referrals(partnership, 1)
    referral_qualify(referral=referral)
    referral_disqualify(referral=referral, reason="誤り")
    referral_qualify(referral=referral)
    referral_qualify(referral=referral)
    keys = set(
        LedgerTransaction.objects.for_tenant(partnership.company).values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {
        f"qualify:{referral.pk}",
        f"disqualify:{referral.pk}:1",
        f"qualify:{referral.pk}:2",
    }
    assert balances(partnership)["points"] == 1


def test_negative_points_are_paid_back_before_the_next_conversion(partnership: Any) -> None:
    referrals = make_referrals(partnership, 13)
    for r in referrals[:10]:
        referral_qualify(referral=r)
    for r in referrals[:2]:
        referral_disqualify(referral=r, reason="架空の登録")
    b = balances(partnership)
    # The granted free hire is not clawed back; the balance goes negative instead.
    assert (b["points"], b["free_hires"]) == (-2, 1)
    for r in referrals[10:13]:
        referral_qualify(referral=r)
    assert balances(partnership)["points"] == 1
    assert balances(partnership)["free_hires"] == 1
    assert_balances_match_entries(partnership)


def test_redeeming_consumes_one_free_hire_and_tells_the_agency(
    partnership: Any, django_capture_on_commit_callbacks: Any
) -> None:
    recruiter = AgencyMemberFactory(agency=partnership.agency, user=UserFactory()).user
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    placement = _placement(partnership)
    with django_capture_on_commit_callbacks(execute=True):
        tx = free_hire_redeem(placement=placement)
        again = free_hire_redeem(placement=placement)
    assert again.pk == tx.pk
    assert tx.idempotency_key == f"redeem:{placement.pk}"
    b = balances(partnership)
    assert (b["free_hires"], b["free_hires_issued"]) == (0, 0)
    assert [m.to for m in mail.outbox] == [[recruiter.email]]
    assert Notification.objects.for_tenant(partnership.agency).count() == 1

    other = _placement(partnership)
    with pytest.raises(ApplicationError) as exc:
        free_hire_redeem(placement=other)
    assert exc.value.field == "free_hire"
    assert balances(partnership)["free_hires"] == 0


def test_redeeming_needs_a_partnered_hiring_company(partnership: Any, other_company: Any):
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    placement = _placement(partnership)
    placement.hiring_company = other_company
    with pytest.raises(ApplicationError) as exc:
        free_hire_redeem(placement=placement)
    assert exc.value.field == "free_hire"
    assert balances(partnership)["free_hires"] == 1


def test_early_leave_restores_the_redeemed_free_hire_once(partnership: Any) -> None:
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    placement = _placement(partnership)
    free_hire_redeem(placement=placement)
    placement.left_on = placement.start_date + dt.timedelta(days=20)
    first = free_hire_restore(placement=placement)
    second = free_hire_restore(placement=placement)
    assert first is not None
    assert second is not None
    assert first.pk == second.pk
    assert first.kind == EntryKind.RESTORE
    assert balances(partnership)["free_hires"] == 1
    # A placement that used no free hire restores nothing.
    assert free_hire_restore(placement=_placement(partnership, free_hire=False)) is None
    assert_balances_match_entries(partnership)


def test_leave_after_the_guarantee_period_restores_nothing(partnership: Any) -> None:
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    placement = _placement(partnership)
    free_hire_redeem(placement=placement)
    placement.left_on = placement.guarantee_ends_on + dt.timedelta(days=1)
    assert free_hire_restore(placement=placement) is None
    assert balances(partnership)["free_hires"] == 0


def test_reversing_a_used_free_hire_is_refused(partnership: Any) -> None:
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    free_hire_redeem(placement=_placement(partnership))
    with pytest.raises(ApplicationError):
        ledger_reverse(idempotency_key=f"convert:{partnership.pk}:1")
    assert balances(partnership)["free_hires"] == 0


def test_referral_rows_are_unchanged_when_the_ledger_refuses(partnership: Any) -> None:
    (referral,) = make_referrals(partnership, 1, status="held")
    with pytest.raises(ApplicationError):
        referral_qualify(referral=referral)
    assert Referral.objects.for_tenant(partnership.agency).get().status == "held"
