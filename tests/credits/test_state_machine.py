"""A hypothesis state machine over qualify / disqualify / redeem / restore / replay, checking
after every step that the ledger agrees with a plain model of the rules:

- a point per qualification, minus one per disqualification of a qualified referral;
- a free hire each time net points reach a new multiple of the threshold above their previous
  peak (no claw-back; a negative balance is paid back first);
- a redemption only with a free hire available, the balance never below zero;
- cached balances equal the sums of entries, and each side mirrors the other;
- replaying any earlier call changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from agencies.models import Placement
from careerrelay.core.errors import ApplicationError
from credits.models import LedgerTransaction
from credits.services import (
    free_hire_redeem,
    free_hire_restore,
    referral_disqualify,
    referral_qualify,
)
from tests.credits.helpers import assert_balances_match_entries, balances, make_referrals
from tests.factories import PartnershipFactory

N_REFERRALS = 40
THRESHOLD = 3


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.partnership = PartnershipFactory(referrals_per_free_hire=THRESHOLD)
        self.referrals = make_referrals(self.partnership, N_REFERRALS)
        self.status = ["new"] * N_REFERRALS
        self.net = 0
        self.peak = 0
        self.redeemed: list[Placement] = []
        self.restored: set[int] = set()
        self.refused = 0
        self.calls: list[tuple[str, Any]] = []

    # --- model helpers ---

    @property
    def earned(self) -> int:
        return self.peak // THRESHOLD

    @property
    def available(self) -> int:
        return self.earned - len(self.redeemed) + len(self.restored)

    def _placement(self) -> Placement:
        start = timezone.localdate()
        return Placement.all_objects.create(
            agency=self.partnership.agency,
            hiring_company=self.partnership.company,
            annual_salary_jpy=5_000_000,
            fee_rate="35.00",
            fee_jpy=0,
            start_date=start,
            guarantee_ends_on=start + dt.timedelta(days=180),
            free_hire=True,
        )

    # --- rules ---

    @rule(i=st.integers(0, N_REFERRALS - 1))
    def qualify(self, i: int) -> None:
        referral_qualify(referral=self.referrals[i])
        if self.status[i] != "qualified":
            self.status[i] = "qualified"
            self.net += 1
            self.peak = max(self.peak, self.net)
        self.calls.append(("qualify", i))

    @rule(i=st.integers(0, N_REFERRALS - 1))
    def disqualify(self, i: int) -> None:
        referral_disqualify(referral=self.referrals[i], reason="検証")
        if self.status[i] == "qualified":
            self.net -= 1
        self.status[i] = "disqualified"
        self.calls.append(("disqualify", i))

    @rule()
    def redeem(self) -> None:
        placement = self._placement()
        if self.available > 0:
            free_hire_redeem(placement=placement)
            self.redeemed.append(placement)
        else:
            with pytest.raises(ApplicationError):
                free_hire_redeem(placement=placement)
            self.refused += 1
        self.calls.append(("redeem", placement))

    @precondition(lambda self: len(self.redeemed) > len(self.restored))
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        candidates = [p for p in self.redeemed if p.pk not in self.restored]
        placement = data.draw(st.sampled_from(candidates))
        placement.left_on = placement.start_date + dt.timedelta(days=10)
        assert free_hire_restore(placement=placement) is not None
        self.restored.add(placement.pk)
        self.calls.append(("restore", placement))

    @precondition(lambda self: bool(self.calls))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """Replay an earlier call exactly as a retry would: nothing may change, except that a
        qualification undone by a later disqualification is a new cause (handled by the
        model's qualify)."""
        before = balances(self.partnership)
        count = LedgerTransaction.objects.for_tenant(self.partnership.company).count()
        op, arg = data.draw(st.sampled_from(self.calls))
        if op == "qualify" and self.status[arg] == "qualified":
            referral_qualify(referral=self.referrals[arg])
        elif op == "disqualify" and self.status[arg] == "disqualified":
            referral_disqualify(referral=self.referrals[arg], reason="再送")
        elif op == "redeem" and any(p.pk == arg.pk for p in self.redeemed):
            free_hire_redeem(placement=arg)
        elif op == "restore":
            free_hire_restore(placement=arg)
        else:
            return
        assert balances(self.partnership) == before
        assert LedgerTransaction.objects.for_tenant(self.partnership.company).count() == count

    # --- invariants ---

    @invariant()
    def ledger_matches_the_model(self) -> None:
        b = balances(self.partnership)
        if not b:
            assert self.net == 0
            return
        assert b["free_hires"] >= 0
        assert b["free_hires"] == self.available
        assert b["points"] == self.net - THRESHOLD * self.earned
        converts = LedgerTransaction.objects.for_tenant(self.partnership.company).filter(
            kind="convert"
        )
        assert converts.count() == self.earned

    @invariant()
    def balances_equal_entries(self) -> None:
        assert_balances_match_entries(self.partnership)


@pytest.mark.slow
def test_ledger_state_machine(db: Any) -> None:
    LedgerMachine.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
